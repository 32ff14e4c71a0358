"""Liaison rules: assignments, building and submitting batches, attachments and feedback.

Every function that reads a submission takes the acting user and enforces that staff of one
point only ever reach their own point's data; the drafting team and admins see all points.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from flask import current_app
from sqlalchemy import case, func, select

from portal.audit import record
from portal.comments import tracking
from portal.comments.services import enqueue_index
from portal.extensions import db
from portal.models import (
    Assignment,
    Attachment,
    Channel,
    Comment,
    CommentStatus,
    Decision,
    Draft,
    DraftStatus,
    Identity,
    LiaisonPoint,
    Method,
    Role,
    Stance,
    Submission,
    SubmissionStatus,
    User,
    utcnow,
)
from portal.numerals import find_article_refs
from portal.sanitize import clean_text

DUE_SOON_DAYS = 7
MAX_OPINION = 5000
MAX_RAISED_BY = 100_000
PARTICIPANT_FIELDS = (
    "participants_residents",
    "participants_businesses",
    "participants_experts",
    "participants_deputies",
    "participants_other",
)


class LiaisonError(ValueError):
    """A liaison rule was broken; ``code`` selects the message in the user's language."""

    def __init__(self, code: str, field: str | None = None, **params):
        super().__init__(code)
        self.code = code
        self.field = field
        self.params = params
        # add_opinions() puts every problem of a batch here, this one first.
        self.all_errors: list[LiaisonError] = [self]


# --- access -----------------------------------------------------------------------------


def can_read_all(user: User) -> bool:
    return user.role in (Role.drafter, Role.admin)


def get_submission(user: User, submission_id: int) -> Submission | None:
    """A submission the user may see, or None: other points' batches do not exist for them."""
    submission = db.session.get(Submission, submission_id)
    if submission is None:
        return None
    if can_read_all(user):
        # The drafting team never sees a batch that is still being built.
        return submission if submission.status == SubmissionStatus.submitted else None
    if user.role == Role.liaison and submission.liaison_point_id == user.liaison_point_id:
        return submission
    return None


def get_attachment(user: User, attachment_id: int) -> Attachment | None:
    attachment = db.session.get(Attachment, attachment_id)
    if attachment is None or get_submission(user, attachment.submission_id) is None:
        return None
    return attachment


# --- assignments --------------------------------------------------------------------------


@dataclass
class AssignmentView:
    assignment: Assignment
    state: str  # open, due_soon, overdue, done
    submissions: int


def assignment_state(assignment: Assignment, submitted: int, today: date | None = None) -> str:
    today = today or utcnow().date()
    if assignment.completed_at is not None or submitted:
        return "done"
    if assignment.due_on < today:
        return "overdue"
    if assignment.due_on <= today + timedelta(days=DUE_SOON_DAYS):
        return "due_soon"
    return "open"


def assignments_for_point(point: LiaisonPoint, today: date | None = None) -> list[AssignmentView]:
    submitted = dict(
        db.session.execute(
            select(Submission.draft_id, func.count(Submission.id))
            .where(
                Submission.liaison_point_id == point.id,
                Submission.status == SubmissionStatus.submitted,
            )
            .group_by(Submission.draft_id)
        ).all()
    )
    assignments = db.session.scalars(
        select(Assignment)
        .where(Assignment.liaison_point_id == point.id)
        .order_by(Assignment.due_on)
    )
    order = {"overdue": 0, "due_soon": 1, "open": 2, "done": 3}
    views = [
        AssignmentView(
            a,
            assignment_state(a, submitted.get(a.draft_id, 0), today),
            submitted.get(a.draft_id, 0),
        )
        for a in assignments
    ]
    return sorted(views, key=lambda v: (order[v.state], v.assignment.due_on))


def assign_draft(
    draft: Draft,
    points: list[LiaisonPoint],
    *,
    due_on: date,
    focus_questions: str,
    actor: User,
) -> list[Assignment]:
    """Send a draft to points; an existing assignment is updated, not duplicated."""
    if draft.status == DraftStatus.draft:
        raise LiaisonError("draft_unpublished")
    existing = {
        a.liaison_point_id: a
        for a in db.session.scalars(select(Assignment).where(Assignment.draft_id == draft.id))
    }
    result = []
    for point in points:
        assignment = existing.get(point.id) or Assignment(
            draft=draft, liaison_point=point, created_by_id=actor.id
        )
        assignment.due_on = due_on
        assignment.focus_questions = clean_text(focus_questions)
        db.session.add(assignment)
        result.append(assignment)
    db.session.flush()
    record(
        actor,
        "assignment.sent",
        draft,
        {"points": [p.code for p in points], "due_on": due_on.isoformat()},
    )
    return result


def open_drafts_for_point(point: LiaisonPoint) -> list[Draft]:
    """Drafts a point may submit opinions on: assigned ones and any under consultation."""
    assigned = select(Assignment.draft_id).where(Assignment.liaison_point_id == point.id)
    return list(
        db.session.scalars(
            select(Draft)
            .where(
                (Draft.id.in_(assigned)) | (Draft.status == DraftStatus.consulting),
                Draft.status != DraftStatus.draft,
            )
            .order_by(Draft.id.desc())
        )
    )


# --- submissions --------------------------------------------------------------------------


def _check_counts(data: dict) -> None:
    total = data.get("participants") or 0
    parts = sum(data.get(name) or 0 for name in PARTICIPANT_FIELDS)
    if any((data.get(name) or 0) < 0 for name in ("participants", *PARTICIPANT_FIELDS)):
        raise LiaisonError("negative_count", "participants")
    if parts > total:
        raise LiaisonError("parts_exceed_total", "participants", total=total, parts=parts)


def find_submission_by_key(point: LiaisonPoint, key: str | None) -> Submission | None:
    """The point's batch sent earlier with this idempotency key, if any."""
    if not key:
        return None
    return db.session.scalar(
        select(Submission).where(
            Submission.liaison_point_id == point.id, Submission.idempotency_key == key
        )
    )


def create_submission(
    point: LiaisonPoint,
    draft: Draft,
    data: dict,
    actor: User,
    *,
    idempotency_key: str | None = None,
) -> Submission:
    if not point.active:
        raise LiaisonError("point_inactive")
    if draft.status == DraftStatus.draft:
        raise LiaisonError("draft_unpublished")
    _check_counts(data)
    assignment = db.session.scalar(
        select(Assignment).where(
            Assignment.draft_id == draft.id, Assignment.liaison_point_id == point.id
        )
    )
    submission = Submission(
        liaison_point=point,
        draft=draft,
        assignment_id=assignment.id if assignment else None,
        created_by_id=actor.id,
        status=SubmissionStatus.draft,
        idempotency_key=idempotency_key or None,
    )
    _apply_meta(submission, data)
    db.session.add(submission)
    db.session.flush()
    record(actor, "submission.created", submission, {"draft": draft.slug, "point": point.code})
    return submission


def _apply_meta(submission: Submission, data: dict) -> None:
    submission.method = Method(data.get("method") or Method.forum)
    submission.held_on = data.get("held_on")
    submission.place = clean_text(data.get("place"))[:300]
    submission.summary = clean_text(data.get("summary"))[:5000]
    submission.participants = data.get("participants") or 0
    for name in PARTICIPANT_FIELDS:
        setattr(submission, name, data.get(name) or 0)


def _require_editable(submission: Submission) -> None:
    if submission.status != SubmissionStatus.draft:
        raise LiaisonError("already_submitted")


def update_submission(submission: Submission, data: dict, actor: User) -> None:
    _require_editable(submission)
    _check_counts(data)
    _apply_meta(submission, data)
    db.session.flush()


def detect_article(text: str, article_numbers: set[int]) -> int | None:
    """The first article the text names that exists in the draft (第十二条, 第12条, …)."""
    for ref in find_article_refs(text):
        if ref.article in article_numbers:
            return ref.article
    return None


@dataclass
class OpinionData:
    body: str
    article: int | None = None  # None: detect from the text unless article_fixed
    article_fixed: bool = False  # the person chose "whole draft" deliberately
    stance: Stance = Stance.other
    identity: Identity | None = None
    raised_by: int = 1


def _article_numbers(draft: Draft) -> dict[int, object]:
    return {a.number: a for a in draft.articles}


def add_opinions(submission: Submission, opinions: list[OpinionData], actor: User) -> list[Comment]:
    """Add opinions to a batch that is still being built; all of them or none."""
    _require_editable(submission)
    articles = _article_numbers(submission.draft)
    checked = []
    problems: list[LiaisonError] = []
    for index, data in enumerate(opinions):
        body = clean_text(data.body)
        number = data.article
        if number is None and not data.article_fixed:
            number = detect_article(body, set(articles))
        error = _opinion_problem(body, number, data.raised_by, set(articles), index)
        if error is not None:
            problems.append(error)
        checked.append((data, body, number))
    if problems:
        # Every problem is reported at once (the API lists them per opinion); nothing is saved.
        problems[0].all_errors = problems
        raise problems[0]
    created = []
    for data, body, number in checked:
        article = articles.get(number) if number is not None else None
        comment = Comment(
            draft_id=submission.draft_id,
            submission=submission,
            article=article,
            chapter=article.chapter if article else None,
            article_number=number,
            body=body,
            stance=data.stance,
            identity=data.identity,
            channel=Channel.liaison,
            raised_by=data.raised_by,
            participant_key=f"p:{submission.liaison_point_id}",
            status=CommentStatus.received,
        )
        db.session.add(comment)
        created.append(comment)
    db.session.flush()
    return created


def _opinion_problem(
    body: str, number: int | None, raised_by: int, articles: set[int], index: int
) -> LiaisonError | None:
    if not body:
        return LiaisonError("empty_body", "body", index=index)
    if len(body) > MAX_OPINION:
        return LiaisonError("body_too_long", "body", index=index, max=MAX_OPINION)
    if not 1 <= raised_by <= MAX_RAISED_BY:
        return LiaisonError("raised_by_invalid", "raised_by", index=index)
    if number is not None and number not in articles:
        return LiaisonError("article_unknown", "article", index=index, number=number)
    return None


def update_opinion(comment: Comment, data: OpinionData) -> None:
    """Correct an opinion (its article above all) while the batch is still a draft."""
    _require_editable(comment.submission)
    body = clean_text(data.body)
    if not body:
        raise LiaisonError("empty_body", "body")
    if len(body) > MAX_OPINION:
        raise LiaisonError("body_too_long", "body", max=MAX_OPINION)
    articles = _article_numbers(comment.submission.draft)
    number = data.article
    if number is not None and number not in articles:
        raise LiaisonError("article_unknown", "article", number=number)
    article = articles.get(number) if number is not None else None
    comment.body = body
    comment.article = article
    comment.chapter = article.chapter if article else None
    comment.article_number = number
    comment.stance = data.stance
    comment.identity = data.identity
    comment.raised_by = max(1, data.raised_by)
    db.session.flush()


def delete_opinion(comment: Comment) -> None:
    _require_editable(comment.submission)
    db.session.delete(comment)
    db.session.flush()


def submit(submission: Submission, actor: User) -> Submission:
    """Lock the batch, timestamp and receipt it; from now on the drafting team sees it."""
    _require_editable(submission)
    if not submission.comments:
        raise LiaisonError("no_opinions")
    if submission.held_on is None:
        raise LiaisonError("held_on_required", "held_on")
    submission.status = SubmissionStatus.submitted
    submission.submitted_at = utcnow()
    submission.receipt_code = tracking.new_code()
    for comment in submission.comments:
        comment.created_at = submission.submitted_at
        enqueue_index(comment)
    if submission.assignment_id:
        assignment = db.session.get(Assignment, submission.assignment_id)
        if assignment is not None and assignment.completed_at is None:
            assignment.completed_at = submission.submitted_at
    db.session.flush()
    record(
        actor,
        "submission.submitted",
        submission,
        {"opinions": len(submission.comments), "receipt": submission.receipt_code},
    )
    return submission


def submissions_for_point(point: LiaisonPoint) -> list[Submission]:
    return list(
        db.session.scalars(
            select(Submission)
            .where(Submission.liaison_point_id == point.id)
            .order_by(Submission.updated_at.desc())
        )
    )


# --- attachments ---------------------------------------------------------------------------

# What each allowed type looks like inside; the file name is never trusted.
ATTACHMENT_TYPES = {
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "jpg": "image/jpeg",
    "png": "image/png",
}


def sniff_type(head: bytes, data: bytes) -> str | None:
    """The attachment kind judged by content: magic numbers, and for zips their members."""
    if head.startswith(b"%PDF-"):
        return "pdf"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"PK\x03\x04"):
        import io
        import zipfile

        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                names = set(archive.namelist())
        except zipfile.BadZipFile:
            return None
        if "[Content_Types].xml" in names and "word/document.xml" in names:
            return "docx"
        if "[Content_Types].xml" in names and "xl/workbook.xml" in names:
            return "xlsx"
    return None


def save_attachment(submission: Submission, filename: str, data: bytes, actor: User) -> Attachment:
    _require_editable(submission)
    limit = current_app.config["ATTACHMENT_MAX_BYTES"]
    if not data:
        raise LiaisonError("attachment_empty", "file")
    if len(data) > limit:
        raise LiaisonError("attachment_too_large", "file", max_mb=limit // (1024 * 1024))
    kind = sniff_type(data[:16], data)
    if kind is None:
        raise LiaisonError("attachment_type", "file")
    storage_key = secrets.token_hex(16)
    folder = Path(current_app.config["UPLOAD_DIR"])
    folder.mkdir(parents=True, exist_ok=True)
    # Stored under a random name, outside static/, served only through an access check.
    (folder / storage_key).write_bytes(data)
    safe_name = Path(filename or f"attachment.{kind}").name[:200]
    if not safe_name.lower().endswith(f".{kind}") and not (
        kind == "jpg" and safe_name.lower().endswith(".jpeg")
    ):
        safe_name = f"{safe_name}.{kind}"
    attachment = Attachment(
        submission=submission,
        filename=safe_name,
        content_type=ATTACHMENT_TYPES[kind],
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        storage_key=storage_key,
        uploaded_by_id=actor.id,
    )
    db.session.add(attachment)
    db.session.flush()
    return attachment


def attachment_path(attachment: Attachment) -> Path:
    return Path(current_app.config["UPLOAD_DIR"]) / attachment.storage_key


def delete_attachment(attachment: Attachment) -> None:
    _require_editable(attachment.submission)
    path = attachment_path(attachment)
    db.session.delete(attachment)
    db.session.flush()
    path.unlink(missing_ok=True)


# --- feedback and figures ---------------------------------------------------------------------


@dataclass
class Figures:
    """Opinions submitted and what became of them."""

    opinions: int = 0
    people: int = 0
    decided: int = 0
    adopted: int = 0
    partly_adopted: int = 0
    not_adopted: int = 0
    merged: int = 0

    @property
    def adoption_rate(self) -> float | None:
        """Adopted or partly adopted, among the opinions with a published decision."""
        if not self.decided:
            return None
        return (self.adopted + self.partly_adopted) / self.decided


def _published(decision: Decision):
    return func.sum(
        case(
            (
                (Comment.decision == decision) & Comment.response_published_at.is_not(None),
                1,
            ),
            else_=0,
        )
    )


def _figures_query(*group_by):
    return (
        select(
            *group_by,
            func.count(Comment.id),
            func.coalesce(func.sum(Comment.raised_by), 0),
            func.sum(case((Comment.response_published_at.is_not(None), 1), else_=0)),
            _published(Decision.adopted),
            _published(Decision.partly_adopted),
            _published(Decision.not_adopted),
            _published(Decision.merged),
        )
        .select_from(Comment)
        .join(Submission, Comment.submission_id == Submission.id)
        .where(Submission.status == SubmissionStatus.submitted)
    )


def _to_figures(row) -> Figures:
    return Figures(*(int(v or 0) for v in row))


def figures_by_point_and_draft(point_id: int | None = None) -> dict[tuple[int, int], Figures]:
    query = _figures_query(Submission.liaison_point_id, Comment.draft_id).group_by(
        Submission.liaison_point_id, Comment.draft_id
    )
    if point_id is not None:
        query = query.where(Submission.liaison_point_id == point_id)
    return {(r[0], r[1]): _to_figures(r[2:]) for r in db.session.execute(query)}


def figures_by_point() -> dict[int, Figures]:
    query = _figures_query(Submission.liaison_point_id).group_by(Submission.liaison_point_id)
    return {r[0]: _to_figures(r[1:]) for r in db.session.execute(query)}


def city_figures() -> Figures:
    row = db.session.execute(_figures_query()).one()
    return _to_figures(row)


@dataclass
class PointDashboard:
    point: LiaisonPoint
    assignments: list[AssignmentView]
    per_draft: list[tuple[Draft, Figures]]
    totals: Figures
    city: Figures
    city_average_opinions: float
    points_with_opinions: int
    rank: int | None
    drafts_in_progress: list[Submission] = field(default_factory=list)


def point_dashboard(point: LiaisonPoint) -> PointDashboard:
    per_point = figures_by_point()
    per_draft_raw = figures_by_point_and_draft(point.id)
    drafts = {
        d.id: d
        for d in db.session.scalars(
            select(Draft).where(Draft.id.in_([k[1] for k in per_draft_raw]))
        )
    }
    per_draft = [(drafts[k[1]], f) for k, f in per_draft_raw.items()]
    totals = per_point.get(point.id, Figures())
    ranking = sorted(per_point.items(), key=lambda kv: -kv[1].opinions)
    rank = next((i + 1 for i, (pid, _) in enumerate(ranking) if pid == point.id), None)
    active_points = (
        db.session.scalar(select(func.count(LiaisonPoint.id)).where(LiaisonPoint.active.is_(True)))
        or 1
    )
    city = city_figures()
    return PointDashboard(
        point=point,
        assignments=assignments_for_point(point),
        per_draft=per_draft,
        totals=totals,
        city=city,
        city_average_opinions=city.opinions / active_points,
        points_with_opinions=len(per_point),
        rank=rank,
        drafts_in_progress=[
            s for s in submissions_for_point(point) if s.status == SubmissionStatus.draft
        ],
    )


def point_opinions(point: LiaisonPoint, draft_id: int | None = None) -> list[Comment]:
    """Every submitted opinion of the point, for its feedback page."""
    query = (
        select(Comment)
        .join(Submission, Comment.submission_id == Submission.id)
        .where(
            Submission.liaison_point_id == point.id,
            Submission.status == SubmissionStatus.submitted,
        )
        .order_by(Submission.submitted_at.desc(), Comment.id)
    )
    if draft_id is not None:
        query = query.where(Comment.draft_id == draft_id)
    return list(db.session.scalars(query))


@dataclass
class OverviewRow:
    point: LiaisonPoint
    figures: Figures
    pending: list[Assignment]


def overview() -> tuple[list[OverviewRow], Figures]:
    """All points' figures for the drafting team, with open assignments not yet answered."""
    per_point = figures_by_point()
    submitted_pairs = set(
        db.session.execute(
            select(Submission.liaison_point_id, Submission.draft_id).where(
                Submission.status == SubmissionStatus.submitted
            )
        ).all()
    )
    pending: dict[int, list[Assignment]] = {}
    for assignment in db.session.scalars(
        select(Assignment).join(Draft).where(Draft.status == DraftStatus.consulting)
    ):
        if (assignment.liaison_point_id, assignment.draft_id) not in submitted_pairs:
            pending.setdefault(assignment.liaison_point_id, []).append(assignment)
    rows = [
        OverviewRow(point, per_point.get(point.id, Figures()), pending.get(point.id, []))
        for point in db.session.scalars(select(LiaisonPoint).order_by(LiaisonPoint.code))
    ]
    return rows, city_figures()
