"""Liaison staff through the API: assignments, all-or-nothing batches, decisions on them."""

from datetime import date, timedelta

import pytest

from portal.extensions import db
from portal.models import Comment, Decision, Role, Submission, SubmissionStatus

BATCH = {
    "draft": "test-draft",
    "method": "forum",
    "held_on": "2026-11-20",
    "place": "东城社区议事厅",
    "participants": 25,
    "summary": "居民座谈会。",
    "opinions": [
        {"body": "第二条应写明适用于老旧小区。", "stance": "amend", "raised_by": 3},
        {"body": "建议总体上加快立法进度。", "article": None, "stance": "support"},
        {"body": "建议增加一条。", "article": 1, "identity": "business"},
    ],
}


@pytest.fixture
def staff(two_points, token_for, auth):
    return {
        **two_points,
        "east": auth(token_for(two_points["east_staff"])),
        "west": auth(token_for(two_points["west_staff"])),
    }


def test_every_liaison_endpoint_needs_a_token(client, open_draft):
    for method, path in (
        ("get", "/api/v1/assignments"),
        ("get", "/api/v1/submissions"),
        ("post", "/api/v1/submissions"),
        ("get", "/api/v1/submissions/1"),
    ):
        response = getattr(client, method)(path, json=BATCH if method == "post" else None)
        assert response.status_code == 401, path
        assert response.get_json()["code"] == "token_required"


def test_citizens_and_drafters_cannot_submit(client, open_draft, make_user, token_for, auth):
    for role in (Role.citizen, Role.drafter):
        headers = auth(token_for(make_user(role)))
        response = client.post("/api/v1/submissions", json=BATCH, headers=headers)
        assert response.status_code == 403
        assert client.get("/api/v1/assignments", headers=headers).status_code == 403
    assert db.session.scalar(db.select(db.func.count(Submission.id))) == 0


def test_assignments_of_the_callers_point_only(client, staff, open_draft, make_user):
    from portal.liaison import services

    services.assign_draft(
        open_draft,
        [staff_point(staff)],
        due_on=date.today() + timedelta(days=3),
        focus_questions="适用范围",
        actor=make_user("drafter"),
    )
    db.session.commit()
    east = client.get("/api/v1/assignments", headers=staff["east"]).get_json()
    assert [(a["draft"], a["state"]) for a in east["items"]] == [("test-draft", "due_soon")]
    assert east["items"][0]["focus_questions"] == "适用范围"
    west = client.get("/api/v1/assignments", headers=staff["west"]).get_json()
    assert west["items"] == []


def staff_point(staff):
    return staff["east_staff"].liaison_point  # JZ-E01


def test_submission_is_saved_whole_submitted_and_readable(client, staff, open_draft):
    response = client.post("/api/v1/submissions", json=BATCH, headers=staff["east"])
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["status"] == "submitted" and body["receipt_code"]
    assert body["liaison_point"] == "JZ-E01" and body["participants"] == 25
    articles = [o["article"] for o in body["opinions"]]
    assert articles == [2, None, 1]  # 第二条 detected from the text
    assert response.headers["Location"] == f"/api/v1/submissions/{body['id']}"
    again = client.get(f"/api/v1/submissions/{body['id']}", headers=staff["east"]).get_json()
    assert again == body
    listed = client.get("/api/v1/submissions", headers=staff["east"]).get_json()
    assert [s["id"] for s in listed["items"]] == [body["id"]]
    assert listed["items"][0]["opinions"] == 3


def test_one_bad_opinion_saves_nothing_and_every_error_is_named(client, staff, open_draft):
    batch = {
        **BATCH,
        "opinions": [
            {"body": "好的意见。"},
            {"body": "   "},
            {"body": "第二条意见。", "article": 99},
        ],
    }
    response = client.post(
        "/api/v1/submissions", json=batch, headers={**staff["east"], "Accept-Language": "en"}
    )
    assert response.status_code == 422
    errors = response.get_json()["errors"]
    assert [(e["index"], e["code"]) for e in errors] == [(1, "empty_body"), (2, "article_unknown")]
    assert errors[0]["field"] == "opinions.1.body"
    assert errors[0]["detail"] == "Please write your opinion."
    assert db.session.scalar(db.select(db.func.count(Submission.id))) == 0
    assert db.session.scalar(db.select(db.func.count(Comment.id))) == 0


def test_schema_errors_name_the_opinion(client, staff, open_draft):
    batch = {**BATCH, "opinions": [{"body": "好"}, {"stance": "amend"}]}
    response = client.post("/api/v1/submissions", json=batch, headers=staff["east"])
    assert response.status_code == 422
    assert {e["field"] for e in response.get_json()["errors"]} == {"opinions.1.body"}
    missing_date = {k: v for k, v in BATCH.items() if k != "held_on"}
    response = client.post("/api/v1/submissions", json=missing_date, headers=staff["east"])
    assert {e["field"] for e in response.get_json()["errors"]} == {"held_on"}
    empty = client.post(
        "/api/v1/submissions", json={**BATCH, "opinions": []}, headers=staff["east"]
    )
    assert empty.status_code == 422
    assert db.session.scalar(db.select(db.func.count(Submission.id))) == 0


def test_unknown_draft_and_too_many_opinions(client, staff, open_draft, app_factory):
    unknown = client.post(
        "/api/v1/submissions", json={**BATCH, "draft": "nothing"}, headers=staff["east"]
    )
    assert unknown.status_code == 422 and unknown.get_json()["code"] == "draft_not_found"
    counts = client.post(
        "/api/v1/submissions",
        json={**BATCH, "participants": 2, "participants_residents": 5},
        headers=staff["east"],
    )
    assert counts.status_code == 422 and counts.get_json()["code"] == "parts_exceed_total"
    assert db.session.scalar(db.select(db.func.count(Submission.id))) == 0


def test_another_points_submission_does_not_exist_for_them(client, staff, open_draft):
    created = client.post("/api/v1/submissions", json=BATCH, headers=staff["east"]).get_json()
    response = client.get(f"/api/v1/submissions/{created['id']}", headers=staff["west"])
    assert response.status_code == 404
    assert response.get_json()["code"] == "submission_not_found"
    listed = client.get("/api/v1/submissions", headers=staff["west"]).get_json()
    assert listed["items"] == [] and listed["total"] == 0


def test_decisions_reach_the_point_once_published(client, staff, open_draft, make_user):
    from portal.comments import services

    created = client.post("/api/v1/submissions", json=BATCH, headers=staff["east"]).get_json()
    first = db.session.get(Comment, created["opinions"][0]["id"])
    drafter = make_user("drafter")
    services.record_decision(
        first,
        actor=drafter,
        status=first.status,
        decision=Decision.partly_adopted,
        response="老旧小区另行规定。",
        publish=False,
    )
    db.session.commit()
    path = f"/api/v1/submissions/{created['id']}"
    unpublished = client.get(path, headers=staff["east"]).get_json()["opinions"][0]
    assert unpublished["decision"] is None and unpublished["status"] == "under_review"
    first = db.session.get(Comment, created["opinions"][0]["id"])
    services.record_decision(
        first,
        actor=drafter,
        status=first.status,
        decision=Decision.partly_adopted,
        response="老旧小区另行规定。",
        publish=True,
    )
    db.session.commit()
    shown = client.get(path, headers=staff["east"]).get_json()["opinions"][0]
    assert shown["decision"] == "partly_adopted" and shown["response"] == "老旧小区另行规定。"


def test_drafters_read_submitted_batches_but_not_drafts_of_batches(
    client, staff, open_draft, make_user, token_for, auth
):
    from portal.liaison import services

    created = client.post("/api/v1/submissions", json=BATCH, headers=staff["east"]).get_json()
    unfinished = services.create_submission(
        staff_point(staff), open_draft, {"participants": 1}, staff["east_staff"]
    )
    db.session.commit()
    assert unfinished.status == SubmissionStatus.draft
    drafter = auth(token_for(make_user("drafter")))
    assert client.get(f"/api/v1/submissions/{created['id']}", headers=drafter).status_code == 200
    assert client.get(f"/api/v1/submissions/{unfinished.id}", headers=drafter).status_code == 404


def test_revoked_token_and_inactive_point_are_refused(client, staff, open_draft):
    from portal.auth import tokens
    from portal.models import ApiToken

    point = staff_point(staff)
    point.active = False
    db.session.commit()
    response = client.post("/api/v1/submissions", json=BATCH, headers=staff["east"])
    assert response.status_code == 403 and response.get_json()["code"] == "point_inactive"
    token = db.session.scalars(
        db.select(ApiToken).where(ApiToken.user_id == staff["west_staff"].id)
    ).one()
    tokens.revoke_token(token, staff["west_staff"])
    db.session.commit()
    response = client.get("/api/v1/assignments", headers=staff["west"])
    assert response.status_code == 401 and response.get_json()["code"] == "invalid_token"


def test_a_retried_batch_with_the_same_key_is_saved_once(client, staff, open_draft):
    headers = {**staff["east"], "Idempotency-Key": "forum-2026-11-20"}
    first = client.post("/api/v1/submissions", json=BATCH, headers=headers)
    again = client.post("/api/v1/submissions", json=BATCH, headers=headers)
    assert first.status_code == 201 and again.status_code == 200
    assert again.get_json()["id"] == first.get_json()["id"]
    assert db.session.scalar(db.select(db.func.count(Submission.id))) == 1
    # The key belongs to the point: another point may use the same one.
    other = client.post(
        "/api/v1/submissions",
        json=BATCH,
        headers={**staff["west"], "Idempotency-Key": "forum-2026-11-20"},
    )
    assert other.status_code == 201


def test_assignments_are_paged(client, staff, open_draft):
    body = client.get("/api/v1/assignments?per_page=5", headers=staff["east"]).get_json()
    assert body["page"] == 1 and body["per_page"] == 5 and body["total"] == 0
