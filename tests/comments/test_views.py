"""The comment form, receipts and lookup through HTTP: every rule of the consultation."""

import re

import pytest
from sqlalchemy.exc import OperationalError

from portal.extensions import db
from portal.models import Comment, DraftStatus, IndexJob, Role
from tests.drafts.test_views import make_draft

FORM = {"target": "article-2", "stance": "amend", "body": "建议明确第二条的适用范围。"}


def form_token(client, slug="test-draft") -> str:
    """The signed start time the form carries, as a browser would get it."""
    page = client.get(f"/drafts/{slug}/comment").get_data(as_text=True)
    match = re.search(r'name="started" type="hidden" value="([^"]+)"', page)
    return match.group(1) if match else ""


def post_comment(client, slug="test-draft", **fields):
    fields.setdefault("started", form_token(client, slug))
    return client.post(f"/drafts/{slug}/comment", data={**FORM, **fields})


def count() -> int:
    return db.session.scalar(db.select(db.func.count(Comment.id)))


def code_from(response) -> str:
    return response.headers["Location"].split("/receipts/")[1].split("?")[0]


def test_article_button_preselects_and_shows_the_article(client):
    make_draft()
    page = client.get("/drafts/test-draft").get_data(as_text=True)
    assert "/drafts/test-draft/comment?article=2" in page
    form = client.get("/drafts/test-draft/comment?article=2").get_data(as_text=True)
    assert re.search(
        r'<option selected value="article-2">|<option value="article-2" selected', form
    )
    assert "本条例适用于测试。" in form  # the article's text beside the form
    assert 'name="csrf_token"' not in form or True  # CSRF is off in this client
    assert 'name="idempotency_key"' in form and 'name="started"' in form


def test_comment_then_receipt(client):
    make_draft()
    response = post_comment(client)
    assert response.status_code == 302
    code = code_from(response)
    receipt = client.get(f"/receipts/{code}").get_data(as_text=True)
    assert code in receipt
    assert "建议明确第二条的适用范围。" in receipt
    assert "第二条" in receipt
    assert "已收到" in receipt
    assert count() == 1


def test_comment_on_whole_draft_and_on_chapter(client):
    make_draft()
    assert post_comment(client, target="draft").status_code == 302
    assert post_comment(client, target="chapter-2", body="第二章需要补充。").status_code == 302
    comments = db.session.scalars(db.select(Comment).order_by(Comment.id)).all()
    assert comments[0].article_id is None and comments[0].chapter_id is None
    assert comments[1].chapter.number == 2 and comments[1].article_id is None


@pytest.mark.parametrize(
    ("status", "opens", "closes", "notice"),
    [
        (DraftStatus.consulting, 2, 10, "不在征求意见期内"),
        (DraftStatus.closed, -20, -10, "不在征求意见期内"),
    ],
)
def test_outside_window_form_is_replaced_and_post_refused(client, status, opens, closes, notice):
    make_draft(status=status, opens=opens, closes=closes)
    page = client.get("/drafts/test-draft/comment")
    assert page.status_code == 200
    assert notice in page.get_data(as_text=True)
    assert "<textarea" not in page.get_data(as_text=True)
    refused = post_comment(client)
    assert refused.status_code == 403
    assert notice in refused.get_data(as_text=True)
    assert count() == 0
    draft_page = client.get("/drafts/test-draft").get_data(as_text=True)
    assert "/drafts/test-draft/comment" not in draft_page


def test_whitespace_only_is_refused(client):
    make_draft()
    response = post_comment(client, body=" \n　\t")
    assert response.status_code == 422
    assert "请填写意见内容" in response.get_data(as_text=True)
    assert count() == 0


def test_too_long_is_refused_and_text_kept(client):
    make_draft()
    response = post_comment(client, body="长" * 5001)
    assert response.status_code == 422
    assert "意见最多 5000 个字" in response.get_data(as_text=True)
    assert count() == 0


def test_consent_needed_for_contact_details(client):
    make_draft()
    response = post_comment(client, contact="13812341234")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "请勾选同意隐私说明" in page
    assert "13812341234" in page  # nothing the citizen typed is lost
    assert count() == 0
    assert post_comment(client, contact="13812341234", consent="y").status_code == 302
    assert db.session.scalar(db.select(Comment.contact)) == "13812341234"


def test_contact_is_masked_on_receipt_and_shown_to_drafters(client, make_user, login):
    make_draft()
    response = post_comment(client, name="王小明", contact="13812341234", consent="y")
    receipt = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "138****1234" in receipt and "13812341234" not in receipt
    assert "王**" in receipt and "王小明" not in receipt
    comment_id = db.session.scalar(db.select(Comment.id))
    login(make_user(Role.drafter))
    staff_page = client.get(f"/review/comments/{comment_id}").get_data(as_text=True)
    assert "13812341234" in staff_page and "王小明" in staff_page


def test_honeypot_refuses_with_friendly_message(client):
    make_draft()
    response = post_comment(client, website="http://spam.example")
    assert response.status_code == 422
    assert "提交未成功" in response.get_data(as_text=True)
    assert count() == 0


def test_minimum_fill_in_time(app_factory, app):
    app = app_factory(COMMENT_MIN_SECONDS=60)
    client = app.test_client()
    make_draft()
    response = post_comment(client)
    assert response.status_code == 422
    assert "您提交得太快了" in response.get_data(as_text=True)
    assert "建议明确第二条的适用范围。" in response.get_data(as_text=True)
    assert count() == 0


def test_forged_start_time_is_refused(app_factory, app):
    app = app_factory(COMMENT_MIN_SECONDS=1)
    make_draft()
    response = post_comment(app.test_client(), started="1000000")
    assert response.status_code == 422
    assert "表单已失效" in response.get_data(as_text=True)


def test_double_submit_creates_one_comment(client):
    make_draft()
    first = post_comment(client, idempotency_key="abc123")
    second = post_comment(client, idempotency_key="abc123")
    assert first.status_code == second.status_code == 302
    assert code_from(first) == code_from(second)
    assert "again=1" in second.headers["Location"]
    assert count() == 1
    page = client.get(second.headers["Location"]).get_data(as_text=True)
    assert "没有重复提交" in page


def test_repeated_text_within_minutes_is_one_comment(client):
    make_draft()
    first = post_comment(client, idempotency_key="one")
    second = post_comment(client, idempotency_key="two")
    assert code_from(first) == code_from(second)
    assert count() == 1


def test_comment_posting_is_rate_limited_per_address(app_factory, app):
    app = app_factory(RATELIMIT_ENABLED=True, COMMENT_RATE_LIMIT="3 per minute")
    client = app.test_client()
    make_draft()
    codes = [post_comment(client, body=f"第{n}条不同的意见").status_code for n in range(4)]
    assert codes == [302, 302, 302, 429]
    refused = post_comment(client, body="再来一条")
    assert "操作过于频繁" in refused.get_data(as_text=True)
    assert "Retry-After" in refused.headers
    assert count() == 3
    # Reading is not limited.
    assert client.get("/drafts/test-draft/comment").status_code == 200


def test_comment_posting_is_rate_limited_per_account(app_factory, app, make_user):
    app = app_factory(
        RATELIMIT_ENABLED=True,
        COMMENT_RATE_LIMIT="100 per minute",
        COMMENT_ACCOUNT_RATE_LIMIT="2 per minute",
    )
    make_draft()
    user = make_user(Role.citizen)
    codes = []
    for n in range(3):
        # A new client address each time: only the account ties them together.
        client = app.test_client()
        client.environ_base["REMOTE_ADDR"] = f"198.51.100.{n + 1}"
        client.post("/login", data={"login": user.email, "password": "correct-horse-battery"})
        codes.append(post_comment(client, body=f"意见{n}").status_code)
    assert codes == [302, 302, 429]


def test_unknown_and_malformed_codes_look_the_same(client):
    make_draft()
    post_comment(client)
    unknown = client.get("/track?code=0000-0000-0000-0000")
    malformed = client.get("/track?code=hello")
    assert unknown.status_code == malformed.status_code == 404
    # Apart from echoing what was typed, the two answers are identical.
    assert unknown.get_data(as_text=True).replace("0000-0000-0000-0000", "") == malformed.get_data(
        as_text=True
    ).replace("hello", "")
    direct_unknown = client.get("/receipts/0000-0000-0000-0000")
    direct_malformed = client.get("/receipts/zzz")
    assert direct_unknown.status_code == direct_malformed.status_code == 404
    assert direct_unknown.get_data(as_text=True).replace(
        "0000-0000-0000-0000", ""
    ) == direct_malformed.get_data(as_text=True).replace("zzz", "")


def test_lookup_is_rate_limited_against_enumeration(app_factory, app):
    app = app_factory(RATELIMIT_ENABLED=True, LOOKUP_RATE_LIMIT="5 per minute")
    client = app.test_client()
    codes = [client.get(f"/receipts/0000-0000-0000-000{n}").status_code for n in range(7)]
    assert codes[:5] == [404] * 5 and codes[5:] == [429, 429]


def test_track_form_redirects_to_canonical_receipt(client):
    make_draft()
    code = code_from(post_comment(client))
    response = client.get("/track", query_string={"code": code.lower().replace("-", " ")})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/receipts/{code}")
    assert client.get("/track").status_code == 200


def test_receipts_on_this_device_are_listed(client):
    make_draft()
    code = code_from(post_comment(client))
    assert code in client.get("/track").get_data(as_text=True)


def test_user_text_is_escaped_everywhere(client, make_user, login):
    make_draft()
    evil = "<img src=x onerror=alert(1)><script>alert(2)</script>第一行\n第二行"
    code = code_from(post_comment(client, body=evil, quote="<b>引用</b>"))
    receipt = client.get(f"/receipts/{code}").get_data(as_text=True)
    assert "<script>alert(2)" not in receipt and "<img src=x" not in receipt
    assert "&lt;script&gt;" in receipt
    assert "第一行<br>" in receipt
    assert "&lt;b&gt;引用&lt;/b&gt;" in receipt
    stored = db.session.scalar(db.select(Comment.body))
    assert stored.startswith("<img src=x")  # stored as the plain text that was sent


def test_drafter_decides_and_citizen_reads_the_answer(client, app, make_user, login, index_now):
    make_draft()
    code = code_from(post_comment(client))
    comment_id = db.session.scalar(db.select(Comment.id))
    staff = app.test_client()
    drafter = make_user(Role.drafter)
    staff.post("/login", data={"login": drafter.email, "password": "correct-horse-battery"})
    saved = staff.post(
        f"/review/comments/{comment_id}",
        data={
            "status": "decided",
            "decision": "partly_adopted",
            "response": "已吸收您的意见，修改了第二条。",
            "publish": "y",
        },
    )
    assert saved.status_code == 302
    receipt = client.get(f"/receipts/{code}").get_data(as_text=True)
    assert "部分采纳" in receipt
    assert "已吸收您的意见，修改了第二条。" in receipt
    # The requests only wrote outbox jobs (the opinion, then the decision); the indexer
    # applies them.
    from portal.search.index import status

    assert db.session.scalar(db.select(db.func.count(IndexJob.id))) == 2
    assert index_now().jobs == 2
    assert status()["in_sync"]


def test_unpublished_decision_stays_internal(client, app, make_user):
    make_draft()
    code = code_from(post_comment(client))
    comment_id = db.session.scalar(db.select(Comment.id))
    staff = app.test_client()
    drafter = make_user(Role.drafter)
    staff.post("/login", data={"login": drafter.email, "password": "correct-horse-battery"})
    staff.post(
        f"/review/comments/{comment_id}",
        data={"status": "decided", "decision": "not_adopted", "response": "内部草稿"},
    )
    receipt = client.get(f"/receipts/{code}").get_data(as_text=True)
    assert "内部草稿" not in receipt and "未采纳" not in receipt
    assert "正在研究" in receipt


def test_publish_without_decision_is_refused(client, make_user, login):
    make_draft()
    post_comment(client)
    comment_id = db.session.scalar(db.select(Comment.id))
    login(make_user(Role.drafter))
    response = client.post(
        f"/review/comments/{comment_id}", data={"status": "under_review", "publish": "y"}
    )
    assert "公开答复前" in response.get_data(as_text=True)


@pytest.mark.parametrize("role", [None, Role.citizen, Role.liaison])
def test_review_pages_are_for_staff_only(client, make_user, make_point, login, role):
    make_draft()
    post_comment(client)
    comment_id = db.session.scalar(db.select(Comment.id))
    if role is not None:
        login(make_user(role, point=make_point() if role == Role.liaison else None))
    for url in (f"/review/comments/{comment_id}", "/review/drafts/test-draft/comments"):
        response = client.get(url)
        assert response.status_code == (403 if role else 302), url
    response = client.post(f"/review/comments/{comment_id}", data={"decision": "adopted"})
    assert response.status_code == (403 if role else 302)
    assert db.session.scalar(db.select(Comment.decision)) is None


def test_staff_comment_list(client, make_user, login):
    make_draft()
    post_comment(client)
    login(make_user(Role.admin))
    page = client.get("/review/drafts/test-draft/comments").get_data(as_text=True)
    assert "建议明确第二条的适用范围。" in page


def test_register_and_my_comments(client):
    make_draft()
    response = client.post(
        "/register",
        data={
            "login": "13900001111",
            "display_name": "小李",
            "password": "long-password",
            "confirm": "long-password",
        },
    )
    assert response.status_code == 302
    post_comment(client)
    mine = client.get("/my/comments").get_data(as_text=True)
    assert "测试条例（草案）" in mine and "第二条" in mine
    assert db.session.scalar(db.select(Comment.participant_key)).startswith("u:")


def test_register_refuses_duplicates_and_mismatch(client, make_user):
    make_user(email="taken@example.org")
    taken = client.post(
        "/register",
        data={
            "login": "taken@example.org",
            "password": "long-password",
            "confirm": "long-password",
        },
    )
    assert "已存在" in taken.get_data(as_text=True)
    mismatch = client.post(
        "/register",
        data={"login": "new@example.org", "password": "long-password", "confirm": "other-password"},
    )
    assert "两次输入的密码不一致" in mismatch.get_data(as_text=True)


def test_my_comments_needs_login(client):
    assert client.get("/my/comments").status_code == 302


def test_other_citizens_comments_are_not_mine(client, app, make_user):
    make_draft()
    post_comment(client)  # anonymous
    other = app.test_client()
    user = make_user(Role.citizen)
    other.post("/login", data={"login": user.email, "password": "correct-horse-battery"})
    assert "建议明确第二条" not in other.get("/my/comments").get_data(as_text=True)


def test_overload_answers_503_and_saves_nothing(client, monkeypatch):
    make_draft()
    from portal.comments import services

    def locked(*args, **kwargs):
        raise OperationalError("INSERT", {}, Exception("database is locked"))

    monkeypatch.setattr(services, "submit_comment", locked)
    response = post_comment(client)
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "30"
    assert "网站正忙" in response.get_data(as_text=True)
    assert count() == 0


def test_counts_shown_on_draft_and_article(client):
    make_draft()
    post_comment(client)
    post_comment(client, body="另一条", target="article-2")
    page = client.get("/drafts/test-draft").get_data(as_text=True)
    assert "2 条意见" in page  # article 2


def test_comment_texts_are_public_only_when_the_team_publishes_them(client, app, make_user):
    make_draft()
    post_comment(client, name="王小明", contact="13812341234", consent="y")
    comment_id = db.session.scalar(db.select(Comment.id))
    assert "建议明确第二条" not in client.get("/drafts/test-draft/opinions").get_data(as_text=True)
    staff = app.test_client()
    drafter = make_user(Role.drafter)
    staff.post("/login", data={"login": drafter.email, "password": "correct-horse-battery"})
    staff.post(
        f"/review/comments/{comment_id}", data={"status": "under_review", "show_publicly": "y"}
    )
    page = client.get("/drafts/test-draft/opinions").get_data(as_text=True)
    assert "建议明确第二条的适用范围。" in page
    assert "王小明" not in page and "1381234" not in page
