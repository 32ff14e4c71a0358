"""The drafting team's search and export through the API: same syntax, same rules as the page."""

import csv
import io

import pytest
from openpyxl import load_workbook

from portal.extensions import db
from portal.models import Role
from tests.drafts.test_views import make_draft


@pytest.fixture
def opinions(app):
    from portal.comments import services as comments
    from portal.models import Stance
    from portal.search import get_backend

    draft = make_draft()
    make_draft("other")
    texts = [
        ("article-2", Stance.amend, "建议第二条写明垃圾分类的责任人。"),
        ("article-2", Stance.oppose, "反对收取物业服务费的做法。"),
        ("draft", Stance.support, '=HYPERLINK("http://evil")支持垃圾分类。'),
    ]
    for n, (target, stance, body) in enumerate(texts):
        comments.submit_comment(
            draft,
            comments.CommentInput(
                body=body,
                stance=stance,
                target=target,
                name="张三",
                contact="13800138000",
                consent=True,
            ),
            client=comments.ClientInfo(address=f"10.0.0.{n}"),
        )
    db.session.commit()
    get_backend().apply_pending(wait=True)
    return draft


@pytest.fixture
def drafter(make_user, token_for, auth):
    return auth(token_for(make_user(Role.drafter)))


def test_search_with_syntax_highlights_and_facets(client, opinions, drafter):
    response = client.get("/api/v1/search?q=分类&draft=test-draft", headers=drafter)
    assert response.status_code == 200
    body = response.get_json()
    assert body["total"] == 2
    item = body["items"][0]
    for key in ("id", "body", "highlight", "draft", "article", "categories", "channel"):
        assert key in item
    assert "<mark>分类</mark>" in item["highlight"]
    assert item["draft"] == "test-draft" and item["channel"] == "online"
    assert item["liaison_point"] is None and item["decision"] is None
    assert {"value": "test-draft", "count": 2} in body["facets"]["draft"]
    stances = {f["value"]: f["count"] for f in body["facets"]["stance"]}
    assert stances == {"amend": 1, "support": 1}
    narrowed = client.get(
        "/api/v1/search?q=分类 NOT 责任人&stance=support", headers=drafter
    ).get_json()
    assert narrowed["total"] == 1 and narrowed["items"][0]["article"] is None
    # A colloquial word finds the formal one, as on the page.
    assert client.get("/api/v1/search?q=物业费", headers=drafter).get_json()["total"] == 1


def test_paging_and_filters(client, opinions, drafter):
    page = client.get("/api/v1/search?per_page=1&page=2&sort=oldest", headers=drafter).get_json()
    assert page["total"] == 3 and page["pages"] == 3 and len(page["items"]) == 1
    on_article = client.get("/api/v1/search?article=2", headers=drafter).get_json()
    assert on_article["total"] == 2
    unknown = client.get("/api/v1/search?draft=nothing", headers=drafter)
    assert unknown.status_code == 404
    bad = client.get("/api/v1/search?per_page=1000", headers=drafter)
    assert bad.status_code == 422 and bad.get_json()["errors"][0]["field"] == "per_page"


def test_only_drafters_and_admins_search(client, opinions, make_user, make_point, token_for, auth):
    assert client.get("/api/v1/search").status_code == 401
    assert client.get("/api/v1/search/export").status_code == 401
    liaison = make_user(Role.liaison, point=make_point())
    for user in (make_user(Role.citizen), liaison):
        headers = auth(token_for(user))
        assert client.get("/api/v1/search", headers=headers).status_code == 403
        assert client.get("/api/v1/search/export", headers=headers).status_code == 403
    admin = auth(token_for(make_user(Role.admin)))
    assert client.get("/api/v1/search", headers=admin).status_code == 200


def test_export_xlsx_and_csv_are_safe_and_complete(client, opinions, drafter):
    from portal.models import AuditEntry

    response = client.get("/api/v1/search/export?q=分类&format=xlsx", headers=drafter)
    assert response.status_code == 200
    assert response.mimetype.endswith("spreadsheetml.sheet")
    assert "attachment" in response.headers["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(response.data)).active
    values = [cell for row in sheet.iter_rows(values_only=True) for cell in row]
    assert not any(isinstance(v, str) and v.startswith("=") for v in values)
    assert any(isinstance(v, str) and "HYPERLINK" in v for v in values)
    assert "13800138000" in values  # drafters see contact details, as on the workbench
    assert sheet.max_row == 3  # header + the two matches

    text = client.get("/api/v1/search/export?format=csv", headers=drafter).data.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert len(rows) == 4
    assert not any(cell.startswith("=") for row in rows for cell in row)
    actions = db.session.scalars(db.select(AuditEntry.action)).all()
    assert actions.count("export") == 2
