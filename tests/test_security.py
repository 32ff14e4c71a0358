"""Security headers, CSRF protection and escaping of user-supplied text."""

import re
from pathlib import Path

from portal.models import Role

TEMPLATES = Path(__file__).resolve().parent.parent / "portal" / "templates"


def test_content_security_policy_forbids_inline_scripts(client):
    response = client.get("/")
    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"


def test_templates_have_no_inline_scripts_or_styles():
    offenders = []
    for path in TEMPLATES.rglob("*.html"):
        text = path.read_text(encoding="utf-8")
        if re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text):
            offenders.append(f"{path.name}: inline <script>")
        if re.search(r"\sstyle=", text) or "<style" in text:
            offenders.append(f"{path.name}: inline style")
        if re.search(r"\son[a-z]+=", text):
            offenders.append(f"{path.name}: inline event handler")
    assert not offenders


def test_forms_refuse_posts_without_csrf_token(app_factory, make_user):
    app = app_factory(WTF_CSRF_ENABLED=True)
    client = app.test_client()
    user = make_user(Role.drafter)
    response = client.post("/login", data={"login": user.email, "password": "x"})
    assert response.status_code == 400
    page = client.get("/login").get_data(as_text=True)
    assert 'name="csrf_token"' in page


def test_logout_is_post_only(client, make_user, login):
    login(make_user())
    assert client.get("/logout").status_code == 405


def test_draft_text_is_escaped(client, app):
    from tests.drafts.test_views import make_draft

    make_draft(text="第一条　<script>alert(1)</script>内容。\n")
    page = client.get("/drafts/test-draft").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_login_redirect_only_to_this_site(client, make_user):
    user = make_user()
    response = client.post(
        "/login?next=https://evil.example/",
        data={"login": user.email, "password": "correct-horse-battery"},
    )
    assert response.headers["Location"] == "/"


def test_login_is_rate_limited(app_factory):
    app = app_factory(RATELIMIT_ENABLED=True)
    client = app.test_client()
    codes = [
        client.post("/login", data={"login": "a@example.org", "password": "wrong"}).status_code
        for _ in range(12)
    ]
    assert codes[:10] == [200] * 10
    assert codes[-1] == 429
