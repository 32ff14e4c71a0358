"""Liaison staff through the API: assignments, all-or-nothing batches, decisions on them."""

from datetime import date, timedelta

import pytest

from portal.extensions import db
from portal.models import Comment, Decision, Role, Submission, SubmissionStatus, utcnow

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
    assert body["repeats"] == []  # only the answer to the POST reports repeats
    again = client.get(f"/api/v1/submissions/{body['id']}", headers=staff["east"]).get_json()
    assert again == {key: value for key, value in body.items() if key != "repeats"}
    listed = client.get("/api/v1/submissions", headers=staff["east"]).get_json()
    assert [s["id"] for s in listed["items"]] == [body["id"]]
    assert listed["items"][0]["opinions"] == 3


def test_one_bad_opinion_saves_nothing_and_every_error_is_named(client, staff, open_draft):
    batch = {
        **BATCH,
        "opinions": [
            {"body": "好的意见。"},
            {"body": "第九十八条意见。", "article": 98},
            {"body": "第二条意见。", "article": 99},
        ],
    }
    response = client.post(
        "/api/v1/submissions", json=batch, headers={**staff["east"], "Accept-Language": "en"}
    )
    assert response.status_code == 422
    errors = response.get_json()["errors"]
    assert [(e["index"], e["code"]) for e in errors] == [
        (1, "article_unknown"),
        (2, "article_unknown"),
    ]
    assert errors[0]["field"] == "opinions.1.article"
    assert errors[0]["detail"] == "Opinion 2: The draft has no article 98."
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
    assert counts.status_code == 422 and counts.get_json()["code"] == "breakdown_mismatch"
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


# --- the liaison window, repeats and the participant breakdown (issue 11) -------------------


def move_window(draft, opens: float, closes: float) -> None:
    """Place the draft's consultation window relative to now, in days."""
    now = utcnow()
    draft.opens_at = now + timedelta(days=opens)
    draft.closes_at = now + timedelta(days=closes)
    db.session.commit()


def batches() -> int:
    return db.session.scalar(db.select(db.func.count(Submission.id)))


@pytest.mark.parametrize(
    ("opens", "closes", "status", "code"),
    [
        (2, 20, 403, "not_open"),  # before the opening
        (-2, 20, 201, None),  # during the consultation
        (-20, -1, 201, None),  # closed yesterday: inside the 3 days' grace for forum notes
        (-20, -3.01, 403, "window_closed"),  # the grace ended a quarter of an hour ago
    ],
    ids=["before-opening", "during", "within-grace", "after-grace"],
)
def test_batches_are_accepted_from_opening_to_closing_plus_grace(
    client, staff, open_draft, opens, closes, status, code
):
    move_window(open_draft, opens, closes)
    response = client.post("/api/v1/submissions", json=BATCH, headers=staff["east"])
    assert response.status_code == status, response.get_json()
    if code is None:
        assert response.get_json()["status"] == "submitted"
        assert batches() == 1
        return
    problem = response.get_json()
    assert response.mimetype == "application/problem+json"
    assert problem["code"] == code
    assert problem["errors"] == [{"field": "draft", "code": code, "detail": problem["detail"]}]
    assert batches() == 0


def test_window_refusals_say_when_in_the_callers_language(client, staff, open_draft):
    move_window(open_draft, -30, -10)
    chinese = client.post("/api/v1/submissions", json=BATCH, headers=staff["east"]).get_json()
    assert "宽限期（3 天）" in chinese["detail"] and "不能再报送意见" in chinese["detail"]
    english = client.post(
        "/api/v1/submissions", json=BATCH, headers={**staff["east"], "Accept-Language": "en"}
    ).get_json()
    assert "3-day grace period" in english["detail"]
    move_window(open_draft, 3, 30)
    later = client.post("/api/v1/submissions", json=BATCH, headers=staff["east"]).get_json()
    assert later["code"] == "not_open" and "开始后才能报送意见" in later["detail"]
    assert batches() == 0


def test_grace_period_is_configurable(app, client, staff, open_draft):
    move_window(open_draft, -20, -1)
    app.config["LIAISON_GRACE_DAYS"] = 0
    response = client.post("/api/v1/submissions", json=BATCH, headers=staff["east"])
    assert response.status_code == 403 and response.get_json()["code"] == "window_closed"
    app.config["LIAISON_GRACE_DAYS"] = 5
    move_window(open_draft, -20, -4)
    response = client.post("/api/v1/submissions", json=BATCH, headers=staff["east"])
    assert response.status_code == 201


def test_no_batch_once_results_are_published(client, staff, open_draft, make_user):
    from portal.drafts.results import figures, publish_results

    move_window(open_draft, -20, -1)  # within the grace period
    client.post("/api/v1/submissions", json=BATCH, headers=staff["east"])
    publish_results(open_draft, make_user("drafter"))
    db.session.commit()
    published = figures(open_draft).total
    response = client.post(
        "/api/v1/submissions", json=BATCH, headers={**staff["west"], "Accept-Language": "en"}
    )
    assert response.status_code == 403
    problem = response.get_json()
    assert problem["code"] == "results_published" and "published" in problem["detail"]
    assert batches() == 1
    assert figures(open_draft).total == published  # the published figures did not move


REPEATED = {
    **BATCH,
    "opinions": [
        # BATCH's first and third opinions again: a full-width 第２条 for 第二条, other spacing
        # and punctuation do not make an opinion new.
        {"body": "第２条 应写明适用于老旧小区！", "stance": "amend"},
        {"body": "新意见：第一条应当写明立法目的。", "stance": "amend"},
        {"body": "建议增加一条", "article": 1},
    ],
}


def test_repeats_are_reported_and_sent_again_by_default(client, staff, open_draft):
    first = client.post("/api/v1/submissions", json=BATCH, headers=staff["east"]).get_json()
    response = client.post("/api/v1/submissions", json=REPEATED, headers=staff["east"])
    assert response.status_code == 201
    body = response.get_json()
    assert len(body["opinions"]) == 3
    assert [(r["index"], r["left_out"]) for r in body["repeats"]] == [(0, False), (2, False)]
    repeat = body["repeats"][0]
    assert repeat["earlier_submission"] == first["id"]
    assert repeat["earlier_receipt_code"] == first["receipt_code"]
    assert repeat["earlier_opinion"] == first["opinions"][0]["id"]
    # Another point sending the same texts repeats nothing of its own.
    west = client.post("/api/v1/submissions", json=REPEATED, headers=staff["west"]).get_json()
    assert west["repeats"] == []


def test_repeats_can_be_left_out(client, staff, open_draft):
    client.post("/api/v1/submissions", json=BATCH, headers=staff["east"])
    response = client.post(
        "/api/v1/submissions", json={**REPEATED, "leave_out_repeats": True}, headers=staff["east"]
    )
    assert response.status_code == 201
    body = response.get_json()
    assert [o["body"] for o in body["opinions"]] == ["新意见：第一条应当写明立法目的。"]
    assert [(r["index"], r["left_out"]) for r in body["repeats"]] == [(0, True), (2, True)]
    stored = db.session.get(Submission, body["id"])
    assert len(stored.comments) == 1
    # A batch of nothing but repeats, left out, is refused whole.
    response = client.post(
        "/api/v1/submissions",
        json={**BATCH, "leave_out_repeats": True},
        headers={**staff["east"], "Accept-Language": "en"},
    )
    assert response.status_code == 422 and response.get_json()["code"] == "all_repeats"
    assert batches() == 2


def test_breakdown_must_add_up_to_the_total(client, staff, open_draft):
    breakdown = {
        "participants_residents": 8,
        "participants_businesses": 3,
        "participants_experts": 1,
        "participants_deputies": 2,
    }
    response = client.post(
        "/api/v1/submissions",
        json={**BATCH, "participants": 15, **breakdown},
        headers=staff["east"],
    )
    assert response.status_code == 422
    problem = response.get_json()
    assert problem["code"] == "breakdown_mismatch"
    assert "分项人数合计14人，与参与总人数15人不一致" in problem["detail"]
    assert problem["errors"][0]["field"] == "participants"
    assert batches() == 0
    assert db.session.scalar(db.select(db.func.count(Comment.id))) == 0
    english = client.post(
        "/api/v1/submissions",
        json={**BATCH, "participants": 15, **breakdown},
        headers={**staff["east"], "Accept-Language": "en"},
    ).get_json()
    assert "14" in english["detail"] and "15" in english["detail"]
    fixed = {**BATCH, "participants": 15, **breakdown, "participants_other": 1}
    assert client.post("/api/v1/submissions", json=fixed, headers=staff["east"]).status_code == 201


def test_openapi_documents_repeats(client):
    schemas = client.get("/api/v1/openapi.json").get_json()["components"]["schemas"]
    assert "leave_out_repeats" in schemas["SubmissionRequest"]["properties"]
    assert "repeats" in schemas["SubmissionCreated"]["required"]
    assert {"index", "left_out", "earlier_submission"} <= set(schemas["Repeat"]["properties"])
