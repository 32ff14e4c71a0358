"""Liaison rules: assignments, building and submitting batches, attachments and feedback.

Every function that reads a submission takes the acting user and enforces that staff of one
point only ever reach their own point's data; the drafting team and admins see all points.

A batch is built and sent only inside the draft's liaison window (``window_problem``): from
the consultation's opening until its closing plus ``LIAISON_GRACE_DAYS``, never once the
results are published. Before it is sent, opinions the point already sent for the draft are
found (``find_repeats``) and either left out or sent knowingly.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

from flask import current_app
from sqlalchemy import func, select

from portal import uploads
from portal.audit import record
from portal.comments import tracking
from portal.extensions import db
from portal.figures import Figures, Scope, compute, total
from portal.models import (
    Assignment,
    Attachment,
    Channel,
    Comment,
    CommentStatus,
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
from portal.ops.metrics import count_opinions_on_commit
from portal.sanitize import clean_line, clean_text

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


# --- the liaison window -------------------------------------------------------------------

# The refusals of window_problem(): the API answers them 403, the pages show them on top.
WINDOW_CODES = frozenset(
    {"draft_unpublished", "not_open", "window_closed", "draft_archived", "results_published"}
)


def grace_days() -> int:
    return max(0, int(current_app.config.get("LIAISON_GRACE_DAYS", 3)))


def liaison_deadline(draft: Draft) -> datetime | None:
    """The last moment a batch is accepted: the closing plus the grace for forum notes."""
    if draft.closes_at is None:
        return None
    return draft.closes_at + timedelta(days=grace_days())


def window_problem(draft: Draft, now: datetime | None = None) -> LiaisonError | None:
    """Why a batch for this draft cannot be built or sent now, or None when it can.

    The one place of the rule: creating, editing, adding or importing opinions, attaching and
    submitting all ask it, through the pages and the API alike. Removing things from a batch
    that was never sent does not: it changes nothing anybody else sees.
    """
    now = now or utcnow()
    if draft.status == DraftStatus.draft:
        return LiaisonError("draft_unpublished", "draft")
    if draft.results_published_at is not None:
        # The published figures must stay what was published.
        return LiaisonError("results_published", "draft", published_at=draft.results_published_at)
    if draft.status == DraftStatus.archived:
        return LiaisonError("draft_archived", "draft")
    if draft.opens_at is None or now < draft.opens_at:
        return LiaisonError("not_open", "draft", opens_at=draft.opens_at)
    deadline = liaison_deadline(draft)
    if deadline is None:
        # Consulting without a closing date is not under consultation yet (Draft.phase).
        return LiaisonError("not_open", "draft", opens_at=None)
    if now >= deadline:
        return LiaisonError(
            "window_closed",
            "draft",
            closes_at=draft.closes_at,
            deadline=deadline,
            days=grace_days(),
        )
    # A draft closed by hand (status closed) still takes batches during the grace period.
    return None


def check_window(draft: Draft, now: datetime | None = None) -> None:
    problem = window_problem(draft, now)
    if problem is not None:
        raise problem


# --- submissions --------------------------------------------------------------------------


def _check_counts(data: dict) -> None:
    """The breakdown by kind of participant adds up to the total, or is left out (all 0)."""
    total = data.get("participants") or 0
    parts = sum(data.get(name) or 0 for name in PARTICIPANT_FIELDS)
    if any((data.get(name) or 0) < 0 for name in ("participants", *PARTICIPANT_FIELDS)):
        raise LiaisonError("negative_count", "participants")
    if parts and parts != total:
        raise LiaisonError("breakdown_mismatch", "participants", total=total, parts=parts)


def _stored_counts(submission: Submission) -> dict:
    return {name: getattr(submission, name) for name in ("participants", *PARTICIPANT_FIELDS)}


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
    check_window(draft)
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
    check_window(submission.draft)
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
    check_window(submission.draft)
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
    check_window(comment.submission.draft)
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


# --- opinions the point already sent -------------------------------------------------------


@dataclass(frozen=True)
class EarlierOpinion:
    """An opinion of a batch the point already sent, with what names that batch."""

    comment_id: int
    body: str
    submission_id: int
    receipt_code: str | None
    submitted_at: datetime | None


@dataclass(frozen=True)
class Repeat:
    comment: Comment  # in the batch being built
    earlier: EarlierOpinion  # the first time the point sent the same text


def repeat_key(text: str) -> str:
    """The form two opinions are compared in: the duplicate clusters' normalisation (width,
    case, spacing, punctuation and 第12条/第十二条 do not count)."""
    # Imported here: the review package imports this module (article detection).
    from portal.review.clustering import normalize_text

    return normalize_text(text)


def find_repeats(submission: Submission) -> list[Repeat]:
    """The batch's opinions whose text the same point already sent for the same draft."""
    if not submission.comments:
        return []
    rows = db.session.execute(
        select(
            Comment.id,
            Comment.body,
            Submission.id,
            Submission.receipt_code,
            Submission.submitted_at,
        )
        .join(Submission, Comment.submission_id == Submission.id)
        .where(
            Submission.liaison_point_id == submission.liaison_point_id,
            Submission.draft_id == submission.draft_id,
            Submission.status == SubmissionStatus.submitted,
            Submission.id != submission.id,
        )
        .order_by(Submission.submitted_at, Comment.id)
    )
    sent: dict[str, EarlierOpinion] = {}
    for row in rows:
        key = repeat_key(row[1])
        if key and key not in sent:
            sent[key] = EarlierOpinion(*row)
    if not sent:
        return []
    repeats = []
    for comment in sorted(submission.comments, key=lambda c: c.id):
        earlier = sent.get(repeat_key(comment.body))
        if earlier is not None:
            repeats.append(Repeat(comment, earlier))
    return repeats


def leave_out_repeats(submission: Submission, actor: User) -> list[Repeat]:
    """Remove from the unsent batch every opinion the point already sent; returns them."""
    _require_editable(submission)
    repeats = find_repeats(submission)
    for repeat in repeats:
        submission.comments.remove(repeat.comment)
        db.session.delete(repeat.comment)
    db.session.flush()
    if repeats:
        record(
            actor,
            "submission.repeats_left_out",
            submission,
            {"opinions": [r.comment.id for r in repeats]},
        )
    return repeats


# What submit() does with opinions the point already sent.
REPEATS_WARN = "warn"  # refuse with "repeats_found" (the pages then ask the person)
REPEATS_INCLUDE = "include"  # send them anyway
REPEATS_LEAVE_OUT = "leave_out"  # remove them, send the rest


def submit(submission: Submission, actor: User, *, repeats: str = REPEATS_WARN) -> Submission:
    """Lock the batch, timestamp and receipt it; from now on the drafting team sees it."""
    _require_editable(submission)
    check_window(submission.draft)
    # Checked again here: a batch saved before the rule, whatever path filled it.
    _check_counts(_stored_counts(submission))
    if not submission.comments:
        raise LiaisonError("no_opinions")
    if submission.held_on is None:
        raise LiaisonError("held_on_required", "held_on")
    found = find_repeats(submission)
    if found and repeats == REPEATS_WARN:
        raise LiaisonError("repeats_found", count=len(found))
    if found and repeats == REPEATS_LEAVE_OUT:
        leave_out_repeats(submission, actor)
        if not submission.comments:
            raise LiaisonError("all_repeats", count=len(found))
        found = []
    submission.status = SubmissionStatus.submitted
    submission.submitted_at = utcnow()
    submission.receipt_code = tracking.new_code()
    for comment in submission.comments:
        comment.created_at = submission.submitted_at
    if submission.assignment_id:
        assignment = db.session.get(Assignment, submission.assignment_id)
        if assignment is not None and assignment.completed_at is None:
            assignment.completed_at = submission.submitted_at
    db.session.flush()
    count_opinions_on_commit(db.session, Channel.liaison.value, len(submission.comments))
    record(
        actor,
        "submission.submitted",
        submission,
        {
            "opinions": len(submission.comments),
            "receipt": submission.receipt_code,
            "repeats": len(found),
        },
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
    check_window(submission.draft)
    limit = current_app.config["ATTACHMENT_MAX_BYTES"]
    if not data:
        raise LiaisonError("attachment_empty", "file")
    if len(data) > limit:
        raise LiaisonError("attachment_too_large", "file", max_mb=limit // (1024 * 1024))
    kind = sniff_type(data[:16], data)
    if kind is None:
        raise LiaisonError("attachment_type", "file")
    storage_key = secrets.token_hex(16)
    # The name is shown and sent back in Content-Disposition: one clean line (no NUL, which
    # PostgreSQL refuses, no control or bidi characters that would disguise the extension).
    safe_name = clean_line(Path(clean_line(filename) or f"attachment.{kind}").name)[:200]
    safe_name = safe_name or f"attachment.{kind}"
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
    # Written only once the row is accepted, and removed again unless the transaction commits.
    # Stored under a random name, outside static/, served only through an access check.
    uploads.write(db.session, attachment_path(attachment), data)
    return attachment


def attachment_path(attachment: Attachment) -> Path:
    return Path(current_app.config["UPLOAD_DIR"]) / attachment.storage_key


def delete_attachment(attachment: Attachment) -> None:
    _require_editable(attachment.submission)
    path = attachment_path(attachment)
    db.session.delete(attachment)
    db.session.flush()
    uploads.remove_after_commit(db.session, path)


# --- feedback and figures ---------------------------------------------------------------------


# A point sees what the public sees of its opinions' fate: a decision counts once its response
# is published (portal/figures.py, Scope.public; docs/figures.md).
FIGURES_SCOPE = Scope.public


def figures_by_point_and_draft(point_id: int | None = None) -> dict[tuple[int, int], Figures]:
    return compute(FIGURES_SCOPE, by=("point", "draft"), point_id=point_id)


def figures_by_point() -> dict[int, Figures]:
    return compute(FIGURES_SCOPE, by="point")


def city_figures() -> Figures:
    """All points together: every liaison opinion in a submitted batch."""
    return total(FIGURES_SCOPE, channel=Channel.liaison)


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
