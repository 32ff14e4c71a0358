"""Publishing a consultation's results: who may, when, and what the public page and feed show."""

from datetime import timedelta

import pytest
from defusedxml import ElementTree as ET

from portal.comments import services as comments
from portal.extensions import db
from portal.models import Decision, Role, Stance, utcnow
from tests.drafts.test_views import make_draft

ATOM = "{http://www.w3.org/2005/Atom}"


@pytest.fixture
def closed_with_opinions(app, make_user):
    draft = make_draft(opens=-20, closes=-1)
    drafter = make_user(Role.drafter)
    made = []
    for n, (target, published) in enumerate((("article-2", True), ("draft", False))):
        # Opinions arrive while the window is open: "now" inside the window.
        result = comments.submit_comment(
            draft,
            comments.CommentInput(
                body=f"意见{n}：有事请打 13800138000 联系我",
                stance=Stance.amend,
                target=target,
                name="张三",
                contact="13800138000",
                consent=True,
            ),
            client=comments.ClientInfo(address=f"10.0.0.{n}"),
            now=utcnow() - timedelta(days=5),
        )
        result.comment.published = published
        comments.record_decision(
            result.comment,
            actor=drafter,
            status=result.comment.status,
            decision=Decision.adopted if n == 0 else Decision.not_adopted,
            response=f"答复{n}",
            publish=True,
        )
        made.append(result.comment)
    db.session.commit()
    return draft, drafter, made


def test_results_are_hidden_until_published(client, closed_with_opinions):
    assert client.get("/drafts/test-draft/results").status_code == 404
    assert client.get("/drafts/test-draft/results/report.docx").status_code == 404


def test_drafter_publishes_and_the_public_page_shows_results_without_personal_data(
    client, login, closed_with_opinions
):
    _draft, drafter, _made = closed_with_opinions
    login(drafter)
    stats = client.get("/review/drafts/test-draft/stats").get_data(as_text=True)
    assert "公开征求意见结果" in stats
    response = client.post("/review/drafts/test-draft/results", data={"action": "publish"})
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/drafts/test-draft/results")
    client.post("/logout")

    page = client.get("/drafts/test-draft/results").get_data(as_text=True)
    assert "征求意见结果" in page
    assert "答复0" in page and "答复1" in page
    assert "意见0" in page  # published opinion text
    assert "意见1" not in page  # not published: only the answer shows
    assert "13800138000" not in page and "张三" not in page
    assert "138****8000" in page  # a number typed into the text is masked
    english = client.get("/drafts/test-draft/results?lang=en").get_data(as_text=True)
    assert "Consultation results" in english and "Adopted" in english
    report = client.get("/drafts/test-draft/results/report.docx")
    assert report.status_code == 200 and report.data[:2] == b"PK"
    assert "查看征求意见结果" in client.get("/drafts/test-draft?lang=zh_Hans_CN").get_data(
        as_text=True
    )


def test_only_staff_publish_and_only_after_the_window(
    client, login, make_user, make_point, closed_with_opinions
):
    for user in (make_user(Role.citizen), make_user(Role.liaison, point=make_point())):
        login(user)
        assert client.post("/review/drafts/test-draft/results").status_code == 403
        client.post("/logout")
    open_draft = make_draft("still-open")
    login(make_user(Role.drafter))
    response = client.post("/review/drafts/still-open/results", data={"action": "publish"})
    assert response.status_code == 302
    db.session.refresh(open_draft)
    assert open_draft.results_published_at is None


def test_withdraw_hides_the_page_again(client, login, closed_with_opinions):
    _draft, drafter, _made = closed_with_opinions
    login(drafter)
    client.post("/review/drafts/test-draft/results", data={"action": "publish"})
    client.post("/review/drafts/test-draft/results", data={"action": "withdraw"})
    assert client.get("/drafts/test-draft/results").status_code == 404
    from portal.models import AuditEntry

    actions = db.session.scalars(db.select(AuditEntry.action)).all()
    assert "results.published" in actions and "results.withdrawn" in actions


def test_feed_announces_open_drafts_and_published_results(client, closed_with_opinions):
    from portal.drafts import results

    draft, drafter, _made = closed_with_opinions
    make_draft("not-yet", opens=3, closes=10)
    results.publish_results(draft, drafter)
    db.session.commit()
    response = client.get("/feed.atom")
    assert response.mimetype == "application/atom+xml"
    root = ET.fromstring(response.data)
    titles = [e.findtext(f"{ATOM}title") for e in root.findall(f"{ATOM}entry")]
    assert titles[0] == "征求意见结果：测试条例（草案）"  # newest first
    assert "征求意见：测试条例（草案）" in titles
    assert not any(
        "not-yet" in (e.find(f"{ATOM}link").get("href")) for e in root.findall(f"{ATOM}entry")
    )
    english = ET.fromstring(client.get("/feed.atom?lang=en").data)
    assert english.findall(f"{ATOM}entry")[0].findtext(f"{ATOM}title") == (
        "Consultation results: Test Regulations (Draft)"
    )
