"""Sending opinions through the API under the form's rules, and following them by receipt."""

import pytest

from portal.extensions import db
from portal.models import Channel, Comment, Decision, DraftStatus, IndexJob
from tests.drafts.test_views import make_draft

URL = "/api/v1/drafts/test-draft/comments"
OPINION = {"body": "建议第二条增加对小区的适用。", "article": 2, "stance": "amend"}


def comments() -> list[Comment]:
    return list(db.session.scalars(db.select(Comment)))


def test_created_with_tracking_code_and_status(client):
    make_draft()
    response = client.post(URL, json=OPINION)
    assert response.status_code == 201
    body = response.get_json()
    assert body["status"] == "received" and body["article"] == 2
    assert response.headers["Location"] == f"/api/v1/receipts/{body['tracking_code']}"
    (comment,) = comments()
    assert comment.channel == Channel.api and comment.article_number == 2
    assert comment.tracking_code == body["tracking_code"]
    # Indexed like any other opinion: the outbox has its job, for the indexer.
    jobs = db.session.scalars(db.select(IndexJob.comment_id)).all()
    assert jobs == [comment.id]


def test_idempotency_key_makes_a_retry_return_the_first_answer(client):
    make_draft()
    headers = {"Idempotency-Key": "retry-0001"}
    first = client.post(URL, json=OPINION, headers=headers)
    again = client.post(URL, json=OPINION, headers=headers)
    assert first.status_code == 201 and again.status_code == 200
    assert again.get_json()["tracking_code"] == first.get_json()["tracking_code"]
    assert len(comments()) == 1


def test_an_anonymous_key_replayed_with_another_body_is_another_opinion(client):
    """Without a token the key is bound to the address, the User-Agent and the exact body:
    someone behind the same NAT replaying a guessed key gets nothing of the first sender's."""
    make_draft()
    headers = {"Idempotency-Key": "retry-0001"}
    first = client.post(
        URL,
        json={**OPINION, "name": "张晓明", "contact": "13800000001", "consent": True},
        headers=headers,
    )
    guessed = client.post(URL, json={**OPINION, "body": "另一个人的意见"}, headers=headers)
    assert first.status_code == guessed.status_code == 201
    assert guessed.get_json()["tracking_code"] != first.get_json()["tracking_code"]
    assert [c.name for c in comments()] == ["张晓明", ""]


def test_a_token_binds_the_key_to_its_account(client, make_user, token_for, auth):
    make_draft()
    alice, bob = make_user("citizen"), make_user("citizen")
    first = client.post(
        URL, json=OPINION, headers=auth(token_for(alice), **{"Idempotency-Key": "account-key-1"})
    )
    # The account's own retry, even with an edited body, is the same opinion.
    again = client.post(
        URL,
        json={**OPINION, "body": "改了内容"},
        headers=auth(token_for(alice), **{"Idempotency-Key": "account-key-1"}),
    )
    other = client.post(
        URL, json=OPINION, headers=auth(token_for(bob), **{"Idempotency-Key": "account-key-1"})
    )
    assert (first.status_code, again.status_code, other.status_code) == (201, 200, 201)
    assert again.get_json()["tracking_code"] == first.get_json()["tracking_code"]
    assert other.get_json()["tracking_code"] != first.get_json()["tracking_code"]
    assert sorted(c.author_id for c in comments()) == sorted([alice.id, bob.id])


def test_idempotency_key_of_another_draft_is_a_conflict(client):
    make_draft()
    make_draft("other")
    client.post(URL, json=OPINION, headers={"Idempotency-Key": "shared-key-1"})
    response = client.post(
        "/api/v1/drafts/other/comments", json=OPINION, headers={"Idempotency-Key": "shared-key-1"}
    )
    assert response.status_code == 409
    assert response.get_json()["code"] == "bad_idempotency_key"


def test_closed_window_is_refused(client):
    make_draft(status=DraftStatus.closed, opens=-20, closes=-5)
    response = client.post(URL, json=OPINION, headers={"Accept-Language": "en"})
    assert response.status_code == 403
    problem = response.get_json()
    assert problem["code"] == "window_closed"
    assert "not open for comment now" in problem["detail"]
    assert comments() == []


def test_upcoming_and_unpublished_drafts_refuse(client):
    make_draft(opens=2, closes=10)
    assert client.post(URL, json=OPINION).status_code == 403
    make_draft("hidden", status=DraftStatus.draft)
    assert client.post("/api/v1/drafts/hidden/comments", json=OPINION).status_code == 404


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"stance": "amend"}, "body"),
        ({"body": ""}, "body"),
        ({"body": "好", "stance": "maybe"}, "stance"),
        ({"body": "好", "article": "two"}, "article"),
        ({"body": "好", "unexpected": 1}, "unexpected"),
        ({"body": "x" * 5001}, "body"),
    ],
)
def test_malformed_bodies_name_the_field(client, payload, field):
    make_draft()
    response = client.post(URL, json=payload)
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    assert field in {e["field"] for e in response.get_json()["errors"]}
    assert comments() == []


def test_rules_of_the_service_come_back_per_field(client):
    make_draft()
    unknown = client.post(URL, json={"body": "好", "article": 99})
    assert unknown.status_code == 422
    assert unknown.get_json()["errors"][0]["field"] == "article"
    no_consent = client.post(URL, json={"body": "好", "name": "张三", "contact": "13800138000"})
    assert no_consent.status_code == 422
    assert no_consent.get_json()["code"] == "consent_required"
    assert no_consent.get_json()["errors"][0]["field"] == "consent"
    bad_contact = client.post(URL, json={"body": "好", "contact": "not-a-contact", "consent": True})
    assert bad_contact.get_json()["errors"][0]["field"] == "contact"
    assert comments() == []


def test_body_that_is_not_json_or_not_an_object(client):
    make_draft()
    broken = client.post(URL, data="{not json", content_type="application/json")
    assert broken.status_code in (400, 422)
    assert broken.mimetype == "application/problem+json"
    listed = client.post(URL, json=["body"])
    assert listed.status_code == 422
    assert comments() == []


def test_oversized_body_is_413_and_saves_nothing(app_factory):
    app = app_factory(API_MAX_CONTENT_LENGTH=2000)
    with app.app_context():
        make_draft()
    response = app.test_client().post(URL, json={"body": "长" * 1000})
    assert response.status_code == 413
    assert response.mimetype == "application/problem+json"
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Comment.id))) == 0


def test_receipt_shows_status_and_published_response_only(client, make_user):
    from portal.comments import services

    make_draft()
    code = client.post(URL, json=OPINION).get_json()["tracking_code"]
    receipt = client.get(f"/api/v1/receipts/{code}").get_json()
    assert receipt["status"] == "received" and receipt["decision"] is None
    comment = comments()[0]
    drafter = make_user("drafter")
    services.record_decision(
        comment,
        actor=drafter,
        status=comment.status,
        decision=Decision.adopted,
        response="已在第二条中增加。",
        publish=False,
    )
    db.session.commit()
    hidden = client.get(f"/api/v1/receipts/{code}").get_json()
    assert hidden["decision"] is None and hidden["response"] is None
    assert hidden["status"] == "under_review"
    services.record_decision(
        comment,
        actor=drafter,
        status=comment.status,
        decision=Decision.adopted,
        response="已在第二条中增加。",
        publish=True,
    )
    db.session.commit()
    shown = client.get(f"/api/v1/receipts/{code.lower()}").get_json()  # typos are forgiven
    assert shown["decision"] == "adopted" and shown["response"] == "已在第二条中增加。"
    assert shown["responded_at"] is not None


def test_unknown_receipt_is_404(client):
    response = client.get("/api/v1/receipts/AAAA-BBBB-CCCC-DDDD")
    assert response.status_code == 404
    assert response.get_json()["code"] == "receipt_not_found"


def test_token_links_the_opinion_to_the_account_and_bad_tokens_are_401(
    client, make_user, token_for, auth
):
    make_draft()
    citizen = make_user("citizen")
    response = client.post(URL, json=OPINION, headers=auth(token_for(citizen)))
    assert response.status_code == 201
    assert comments()[0].author_id == citizen.id
    refused = client.post(URL, json=OPINION, headers=auth("lfp_not-a-real-token"))
    assert refused.status_code == 401
    assert refused.headers["WWW-Authenticate"].startswith("Bearer")
    assert refused.get_json()["code"] == "invalid_token"


def test_rate_limit_answers_429_with_retry_after(app_factory):
    app = app_factory(RATELIMIT_ENABLED=True, COMMENT_RATE_LIMIT="2 per minute")
    with app.app_context():
        make_draft()
    client = app.test_client()
    statuses = [
        client.post(URL, json={**OPINION, "body": f"第{n}条意见"}).status_code for n in range(3)
    ]
    assert statuses == [201, 201, 429]
    response = client.post(URL, json=OPINION)
    assert response.status_code == 429
    assert response.mimetype == "application/problem+json"
    assert int(response.headers["Retry-After"]) > 0


def test_api_rate_limit_per_address_and_per_token(app_factory, make_user):
    from portal.auth import tokens

    app = app_factory(
        RATELIMIT_ENABLED=True, API_RATE_LIMIT="100 per minute", API_TOKEN_RATE_LIMIT="2 per minute"
    )
    with app.app_context():
        make_draft()
        _row, secret = tokens.create_token(make_user("drafter"), "x")
        db.session.commit()
    client = app.test_client()
    headers = {"Authorization": f"Bearer {secret}"}
    statuses = [client.get("/api/v1/drafts", headers=headers).status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
    assert "Retry-After" in client.get("/api/v1/drafts", headers=headers).headers
    # Without the token, the same address still has its own, larger allowance.
    assert client.get("/api/v1/drafts").status_code == 200

    strict = app_factory(RATELIMIT_ENABLED=True, API_RATE_LIMIT="1 per minute")
    other = strict.test_client()
    assert other.get("/api/v1/drafts").status_code == 200
    assert other.get("/api/v1/drafts").status_code == 429


def test_the_same_key_from_another_client_is_another_opinion(client):
    make_draft()
    headers = {"Idempotency-Key": "retry-0001"}
    mine = client.post(URL, json=OPINION, headers=headers, environ_base={"REMOTE_ADDR": "10.0.0.1"})
    theirs = client.post(
        URL, json=OPINION, headers=headers, environ_base={"REMOTE_ADDR": "10.0.0.2"}
    )
    assert mine.status_code == 201 and theirs.status_code == 201
    assert mine.get_json()["tracking_code"] != theirs.get_json()["tracking_code"]
    assert len(comments()) == 2


def test_one_address_sending_the_same_text_is_many_people(app_factory):
    """A carrier NAT: an app's users share one address and one User-Agent. Under the default
    limits 130 of them (more than the former 120 API calls a minute per address) send the same
    text within a minute; all are stored, each counted as a participant."""
    from portal.drafts.services import participation_by_draft

    app = app_factory(RATELIMIT_ENABLED=True)
    with app.app_context():
        draft_id = make_draft().id
    client = app.test_client()
    statuses = {client.post(URL, json=OPINION).status_code for _ in range(130)}
    assert statuses == {201}
    with app.app_context():
        figures = participation_by_draft([draft_id])[draft_id]
        assert (figures.comments, figures.participants) == (130, 130)


def test_refused_opinions_do_not_use_up_the_commenting_limit(app_factory):
    app = app_factory(RATELIMIT_ENABLED=True, COMMENT_RATE_LIMIT="2 per minute")
    with app.app_context():
        make_draft()
    client = app.test_client()
    mistakes = [
        client.post(URL, json={"body": ""}),
        client.post(URL, json={"body": "好", "article": 99}),
        client.post(URL, json={"body": "好", "contact": "13800138000"}),
    ]
    assert [r.status_code for r in mistakes] == [422, 422, 422]
    statuses = [
        client.post(URL, json={**OPINION, "body": f"意见{n}"}).status_code for n in range(3)
    ]
    assert statuses == [201, 201, 429]


def test_a_tokens_account_has_the_forms_per_account_limit(app_factory, make_user):
    from portal.auth import tokens

    app = app_factory(RATELIMIT_ENABLED=True, COMMENT_ACCOUNT_RATE_LIMIT="1 per minute")
    with app.app_context():
        make_draft()
        _row, secret = tokens.create_token(make_user("citizen"), "x")
        db.session.commit()
    client = app.test_client()
    headers = {"Authorization": f"Bearer {secret}"}
    assert client.post(URL, json=OPINION, headers=headers).status_code == 201
    refused = client.post(URL, json={**OPINION, "body": "第二条"}, headers=headers)
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
    # Anonymous callers on the same address are not held back by that account.
    assert client.post(URL, json={**OPINION, "body": "别人的"}).status_code == 201
