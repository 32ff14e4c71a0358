"""Liaison points' endpoints: their assignments, sending a batch, the decisions on it."""

from __future__ import annotations

from flask import current_app, url_for
from flask_babel import gettext as _
from flask_smorest import Blueprint, abort
from sqlalchemy.exc import IntegrityError

from portal.api.paging import page_of
from portal.api.schemas import (
    AssignmentListSchema,
    IdempotencyHeader,
    PageArgs,
    SubmissionCreatedSchema,
    SubmissionListSchema,
    SubmissionRequestSchema,
    SubmissionSchema,
)
from portal.api.security import BEARER_SCHEME, api_user, limit, token_required
from portal.comments.services import public_status
from portal.drafts import services as drafts
from portal.extensions import db
from portal.liaison import services as liaison
from portal.liaison.messages import error_message
from portal.models import Identity, Role, Stance, Submission, SubmissionStatus

blp = Blueprint(
    "api_liaison",
    __name__,
    url_prefix="/api/v1",
    description="For liaison points' staff, with their personal token.",
)
limit(blp)

_COMMON = (
    blp.alt_response(401, response="UNAUTHORIZED"),
    blp.alt_response(403, response="FORBIDDEN"),
    blp.alt_response(429, response="TOO_MANY_REQUESTS"),
    blp.doc(security=[BEARER_SCHEME]),
)


def _documented(view):
    for decorator in _COMMON:
        view = decorator(view)
    return view


def _point():
    user = api_user()
    if user.liaison_point is None or not user.liaison_point.active:
        abort(403, code="point_inactive", message=_("您所在的联系点已停用，不能再报送意见。"))
    return user.liaison_point


def submission_dict(submission: Submission) -> dict:
    opinions = []
    for comment in sorted(submission.comments, key=lambda c: c.id):
        status = public_status(comment)
        opinions.append(
            {
                "id": comment.id,
                "body": comment.body,
                "article": comment.article_number,
                "stance": comment.stance.value,
                "identity": comment.identity.value if comment.identity else None,
                "raised_by": comment.raised_by,
                "status": status.status.value,
                "decision": status.decision.value if status.decision else None,
                "response": status.response or None,
            }
        )
    return {
        "id": submission.id,
        "draft": submission.draft.slug,
        "liaison_point": submission.liaison_point.code,
        "status": submission.status.value,
        "method": submission.method.value,
        "held_on": submission.held_on,
        "place": submission.place,
        "participants": submission.participants,
        "summary": submission.summary,
        "receipt_code": submission.receipt_code,
        "submitted_at": submission.submitted_at,
        "opinions": opinions,
    }


@blp.route("/assignments")
@token_required(Role.liaison)
@blp.arguments(PageArgs, location="query", as_kwargs=True)
@blp.response(200, AssignmentListSchema)
@_documented
def list_assignments(page: int, per_page: int):
    """The drafts sent to the caller's point, most urgent first."""
    views = liaison.assignments_for_point(_point())
    return page_of(
        views,
        page,
        per_page,
        lambda chosen: [
            {
                "id": v.assignment.id,
                "draft": v.assignment.draft.slug,
                "draft_title": v.assignment.draft.title,
                "due_on": v.assignment.due_on,
                "focus_questions": v.assignment.focus_questions,
                "state": v.state,
                "submissions": v.submissions,
            }
            for v in chosen
        ],
    )


@blp.route("/submissions", methods=["POST"])
@token_required(Role.liaison)
@blp.arguments(IdempotencyHeader, location="headers", as_kwargs=True)
@blp.arguments(SubmissionRequestSchema)
@blp.response(201, SubmissionCreatedSchema)
@blp.alt_response(200, schema=SubmissionSchema, description="A retry: the batch sent first.")
@blp.alt_response(400, response="BAD_REQUEST")
@blp.alt_response(413, response="REQUEST_ENTITY_TOO_LARGE")
@_documented
def create_submission(data: dict, idempotency_key: str | None = None):
    """Send a batch with its opinions in one request: all of it is saved, or nothing.

    The batch is submitted at once (locked, with a receipt code); errors name each opinion.
    Accepted from the draft's opening until its closing plus the grace period for forum
    notes, never once its results are published (403 otherwise). Opinions the point already
    sent for the draft are listed under ``repeats``; ``leave_out_repeats`` leaves them out.
    """
    point = _point()
    user = api_user()
    earlier = liaison.find_submission_by_key(point, idempotency_key)
    if earlier is not None:
        return submission_dict(earlier), 200
    maximum = current_app.config["API_MAX_OPINIONS"]
    if len(data["opinions"]) > maximum:
        message = _("一次最多报送 %(max)d 条意见，请分批报送。", max=maximum)
        abort(422, code="too_many_opinions", message=message)
    draft = drafts.get_public_draft(data["draft"])
    if draft is None:
        message = _("没有这部草案，或它尚未发布。")
        errors = [{"field": "draft", "code": "draft_not_found", "detail": message}]
        abort(422, code="draft_not_found", message=message, errors=errors)
    meta = {key: data[key] for key in data if key not in ("draft", "opinions", "leave_out_repeats")}
    leave_out = data["leave_out_repeats"]
    opinions = [
        liaison.OpinionData(
            body=o["body"],
            article=o.get("article"),
            stance=Stance(o["stance"]),
            identity=Identity(o["identity"]) if o.get("identity") else None,
            raised_by=o["raised_by"],
        )
        for o in data["opinions"]
    ]
    try:
        submission = liaison.create_submission(
            point, draft, meta, user, idempotency_key=idempotency_key
        )
        created = liaison.add_opinions(submission, opinions, user)
        repeats = _repeats(submission, created, leave_out)
        liaison.submit(
            submission,
            user,
            repeats=liaison.REPEATS_LEAVE_OUT if leave_out else liaison.REPEATS_INCLUDE,
        )
    except liaison.LiaisonError as error:
        db.session.rollback()
        errors = []
        for item in error.all_errors:
            index = item.params.get("index")
            field = item.field or ""
            entry = {
                "field": f"opinions.{index}.{field}" if index is not None else field,
                "code": item.code,
                "detail": error_message(item),
            }
            if index is not None:
                entry["index"] = index
            errors.append(entry)
        status = 403 if error.code in liaison.WINDOW_CODES else 422
        abort(status, code=error.code, message=error_message(error), errors=errors)
    try:
        db.session.commit()
    except IntegrityError:
        # Two retries with the same key raced: answer with the batch that won.
        db.session.rollback()
        earlier = liaison.find_submission_by_key(point, idempotency_key)
        if earlier is None:
            raise
        return submission_dict(earlier), 200
    location = url_for("api_liaison.get_submission", submission_id=submission.id)
    return {**submission_dict(submission), "repeats": repeats}, 201, {"Location": location}


def _repeats(submission: Submission, created: list, leave_out: bool) -> list[dict]:
    """The request's opinions the point already sent, by their position in the request."""
    position = {comment.id: index for index, comment in enumerate(created)}
    return [
        {
            "index": position[r.comment.id],
            "body": r.comment.body,
            "left_out": leave_out,
            "earlier_submission": r.earlier.submission_id,
            "earlier_receipt_code": r.earlier.receipt_code,
            "earlier_opinion": r.earlier.comment_id,
        }
        for r in liaison.find_repeats(submission)
    ]


@blp.route("/submissions")
@token_required(Role.liaison)
@blp.arguments(PageArgs, location="query", as_kwargs=True)
@blp.response(200, SubmissionListSchema)
@_documented
def list_submissions(page: int, per_page: int):
    """The caller's point's batches, newest first."""
    items = liaison.submissions_for_point(_point())
    return page_of(
        items,
        page,
        per_page,
        lambda chosen: [
            {
                "id": s.id,
                "draft": s.draft.slug,
                "status": s.status.value,
                "method": s.method.value,
                "held_on": s.held_on,
                "opinions": len(s.comments),
                "submitted_at": s.submitted_at,
            }
            for s in chosen
        ],
    )


@blp.route("/submissions/<int:submission_id>")
@token_required(Role.liaison, Role.drafter, Role.admin)
@blp.response(200, SubmissionSchema)
@blp.alt_response(404, response="NOT_FOUND")
@_documented
def get_submission(submission_id: int):
    """A batch with each opinion's detected article and, once published, decision and response.

    Another point's batch answers 404, as if it did not exist.
    """
    submission = liaison.get_submission(api_user(), submission_id)
    if submission is None or (
        api_user().role != Role.liaison and submission.status != SubmissionStatus.submitted
    ):
        abort(404, code="submission_not_found")
    return submission_dict(submission)
