"""Public draft endpoints: lists, the text, the figures, and problem+json for what is missing."""

import pytest

from portal.extensions import db
from portal.models import DraftStatus, Role
from tests.drafts.test_views import make_draft


def test_list_shows_public_drafts_with_the_agreed_shape(client):
    make_draft("open-one")
    make_draft("hidden", status=DraftStatus.draft)
    make_draft("closed-one", status=DraftStatus.closed, opens=-20, closes=-5)
    response = client.get("/api/v1/drafts")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    body = response.get_json()
    slugs = {item["slug"] for item in body["items"]}
    assert slugs == {"open-one", "closed-one"}  # never an unpublished draft
    assert body["total"] == 2 and body["page"] == 1 and body["pages"] == 1
    item = next(i for i in body["items"] if i["slug"] == "open-one")
    for key in ("slug", "title", "status", "opens_at", "closes_at"):
        assert key in item
    assert item["status"] == "consulting"
    assert item["comment_count"] == 0 and item["participant_count"] == 0
    assert item["opens_at"].endswith("+00:00")  # ISO 8601 with the offset


def test_list_filters_by_status_and_pages(client):
    for n in range(3):
        make_draft(f"d{n}")
    make_draft("old", status=DraftStatus.closed, opens=-20, closes=-5)
    closed = client.get("/api/v1/drafts?status=closed").get_json()
    assert [i["slug"] for i in closed["items"]] == ["old"]
    page = client.get("/api/v1/drafts?per_page=2&page=2").get_json()
    assert page["total"] == 4 and page["pages"] == 2 and len(page["items"]) == 2


def test_bad_filter_is_a_problem_in_the_requested_language(client):
    response = client.get("/api/v1/drafts?status=secret", headers={"Accept-Language": "en"})
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    problem = response.get_json()
    assert problem["status"] == 422
    assert problem["title"] == "The request did not pass validation"
    assert problem["errors"][0]["field"] == "status"
    assert problem["errors"][0]["detail"].startswith("Must be one of")
    chinese = client.get("/api/v1/drafts?status=secret").get_json()
    assert chinese["title"] == "请求内容未通过校验"
    assert chinese["errors"][0]["detail"].startswith("应为以下之一")


def test_draft_with_chapters_and_articles(client):
    make_draft()
    body = client.get("/api/v1/drafts/test-draft").get_json()
    assert body["slug"] == "test-draft"
    assert [c["number"] for c in body["chapters"]] == [1, 2]
    numbers = [a["number"] for a in body["articles"]]
    assert numbers == sorted(numbers) and 2 in numbers
    article = next(a for a in body["articles"] if a["number"] == 2)
    assert article["chapter"] == 1 and "本条例适用于测试。" in article["text"]


def test_unknown_and_unpublished_drafts_are_404_problems(client):
    make_draft("hidden", status=DraftStatus.draft)
    for path in ("/api/v1/drafts/nothing", "/api/v1/drafts/hidden", "/api/v1/drafts/hidden/stats"):
        response = client.get(path)
        assert response.status_code == 404, path
        assert response.mimetype == "application/problem+json"
        assert response.get_json()["code"] == "draft_not_found"
    unknown_route = client.get("/api/v1/nowhere")
    assert unknown_route.status_code == 404
    assert unknown_route.mimetype == "application/problem+json"
    wrong_method = client.delete("/api/v1/drafts")
    assert wrong_method.status_code == 405 and "GET" in wrong_method.headers["Allow"]


def test_stats_count_channels_and_articles_and_hide_decisions_until_published(client, make_user):
    from portal.comments import services as comments
    from portal.drafts import results
    from portal.models import Decision, Stance, utcnow

    draft = make_draft()
    for n, target in enumerate(("article-2", "article-2", "draft")):
        comments.submit_comment(
            draft,
            comments.CommentInput(body=f"意见{n}", stance=Stance.amend, target=target),
            client=comments.ClientInfo(address=f"10.0.0.{n}"),
        )
    db.session.commit()
    stats = client.get("/api/v1/drafts/test-draft/stats").get_json()
    assert stats["comment_count"] == 3 and stats["participant_count"] == 3
    online = next(c for c in stats["by_channel"] if c["channel"] == "online")
    assert online == {"channel": "online", "comments": 3, "participants": 3}
    by_article = {a["article"]: a["comments"] for a in stats["by_article"]}
    assert by_article[2] == 2 and stats["whole_draft"] == 1
    assert stats["decisions"] is None

    drafter = make_user("drafter")
    first = db.session.scalars(db.select(comments.Comment)).first()
    comments.record_decision(
        first,
        actor=drafter,
        status=first.status,
        decision=Decision.adopted,
        response="已采纳。",
        publish=True,
    )
    draft.closes_at = utcnow()
    results.publish_results(draft, drafter)
    db.session.commit()
    stats = client.get("/api/v1/drafts/test-draft/stats").get_json()
    decisions = {d["decision"]: d["comments"] for d in stats["decisions"]}
    assert decisions["adopted"] == 1 and decisions["none"] == 2


@pytest.mark.parametrize("role", [None, *Role])
def test_public_endpoints_answer_every_role(client, make_user, make_point, token_for, auth, role):
    make_draft()
    headers = {}
    if role is not None:
        point = make_point() if role == Role.liaison else None
        headers = auth(token_for(make_user(role, point=point)))
    for path in ("/api/v1/drafts", "/api/v1/drafts/test-draft", "/api/v1/drafts/test-draft/stats"):
        assert client.get(path, headers=headers).status_code == 200, (role, path)
