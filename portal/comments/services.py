"""Commenting rules: the window, consent, repeats and idempotency, receipts and decisions.

Callable without HTTP: the form, the API and the tests use the same functions. Each function
changes the session and flushes; the caller commits once.

Who sent an opinion is known only as far as the submitter shows it: their account, or their
browser (a random id in the session cookie). The address is never used to tell people apart:
a household's Wi-Fi, an office or a carrier's NAT puts hundreds of people behind one address
and one browser version, and a forwarded campaign text makes their opinions identical.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from email_validator import EmailNotValidError, validate_email
from flask import current_app
from sqlalchemy import select

from portal.audit import record
from portal.comments import tracking
from portal.extensions import db
from portal.models import (
    Article,
    Channel,
    Chapter,
    Comment,
    CommentStatus,
    Decision,
    Draft,
    Identity,
    Stance,
    User,
    utcnow,
)
from portal.numerals import parse_int
from portal.ops.metrics import count_opinions_on_commit
from portal.sanitize import clean_text

MAX_BODY = 5000
MAX_QUOTE = 1000
PHONE_RE = re.compile(r"^1\d{10}$")
# The same text from the same submitter on the same target within this time is one opinion.
DUPLICATE_WINDOW = timedelta(minutes=10)


class CommentRejected(ValueError):
    """The comment breaks a rule; ``code`` selects the message shown in the user's language."""

    def __init__(self, code: str, field: str | None = None):
        super().__init__(code)
        self.code = code
        self.field = field


@dataclass(frozen=True)
class ClientInfo:
    """Who is on the other end, reduced to what the rules need.

    ``browser_id`` is the random per-browser id the web form keeps in the session; the API has
    none. ``address`` and ``user_agent`` never tell submitters apart (see the module docstring);
    they only bind an anonymous API caller's idempotency key.
    """

    address: str = ""
    user_agent: str = ""
    browser_id: str = ""


@dataclass
class CommentInput:
    body: str
    stance: Stance = Stance.other
    target: str = "draft"  # "draft", "chapter-N" or "article-N"
    quote: str = ""
    name: str = ""
    contact: str = ""
    identity: Identity | None = None
    district: str = ""
    consent: bool = False
    idempotency_key: str | None = None
    channel: Channel = Channel.online


@dataclass(frozen=True)
class SubmitResult:
    comment: Comment
    created: bool


def _keyed_hash(*parts: str) -> str:
    """A keyed hash: lets us recognise the same client or contact without storing it."""
    key = current_app.config["SECRET_KEY"].encode()
    message = "\x1f".join(parts).encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def submitter_hash(author: User | None, client: ClientInfo) -> str:
    """The submitter as far as repeats go: the account, else the browser; "" for neither (an
    anonymous API call), whose repeats only its Idempotency-Key recognises."""
    if author is not None:
        return _keyed_hash("submitter", f"u:{author.id}")
    if client.browser_id:
        return _keyed_hash("submitter", f"b:{client.browser_id}")
    return ""


def participant_key(author: User | None, client: ClientInfo) -> str:
    """Who counts as one participant: the account, else the browser, else this one opinion.

    Never the address, and never a declared phone or e-mail: both are often a household's or an
    office's, and neither is verified, so merging by them would count several people as one.
    Counting the same person twice (in two browsers) is the lesser error.
    """
    if author is not None:
        return f"u:{author.id}"
    if client.browser_id:
        return "b:" + _keyed_hash("participant", client.browser_id)[:40]
    return "o:" + secrets.token_hex(20)


def scoped_idempotency_key(key: str | None, *scope: str) -> str | None:
    """The caller's key bound to the caller: the same key from anyone else is another key, so a
    guessed or copied key never returns someone else's opinion."""
    if not key:
        return None
    return _keyed_hash("idempotency", *scope, key)[:64]


def normalize_contact(contact: str) -> str:
    """A phone number (11 digits) or an e-mail address, normalised; raises CommentRejected."""
    contact = re.sub(r"[\s\-]", "", contact) if "@" not in contact else contact.strip()
    if PHONE_RE.match(contact):
        return contact
    try:
        return validate_email(contact, check_deliverability=False).normalized
    except EmailNotValidError as error:
        raise CommentRejected("bad_contact", "contact") from error


def mask_contact(contact: str) -> str:
    """138****1234 for phones, z***@example.org for e-mail; for everyone but drafters."""
    if not contact:
        return ""
    if "@" in contact:
        local, _, domain = contact.partition("@")
        return f"{local[:1]}***@{domain}"
    if len(contact) >= 7:
        return f"{contact[:3]}****{contact[-4:]}"
    return "****"


def mask_name(name: str) -> str:
    """张** : the family name only."""
    return f"{name[:1]}{'*' * min(len(name) - 1, 2)}" if name else ""


def resolve_target(draft: Draft, target: str) -> tuple[Chapter | None, Article | None]:
    """Turn "article-12" or "chapter-3" into rows of this draft; anything else is refused."""
    if target in ("", "draft"):
        return None, None
    kind, _, number = target.partition("-")
    number = parse_int(number, minimum=1)
    if number is None:
        raise CommentRejected("bad_target", "target")
    if kind == "article":
        article = db.session.scalar(
            select(Article).where(Article.draft_id == draft.id, Article.number == number)
        )
        if article is None:
            raise CommentRejected("bad_target", "target")
        return article.chapter, article
    if kind == "chapter":
        chapter = db.session.scalar(
            select(Chapter).where(Chapter.draft_id == draft.id, Chapter.number == number)
        )
        if chapter is None:
            raise CommentRejected("bad_target", "target")
        return chapter, None
    raise CommentRejected("bad_target", "target")


def _same_text(text: str) -> str:
    return re.sub(r"\s+", "", text)


def submit_comment(
    draft: Draft,
    data: CommentInput,
    *,
    author: User | None = None,
    client: ClientInfo | None = None,
    now: datetime | None = None,
) -> SubmitResult:
    """Accept one opinion under the consultation's rules.

    Returns the existing comment (created=False) only when the same submitter repeats
    themselves: the same idempotency key (already bound to its caller, see
    ``scoped_idempotency_key``), or the same text from the same account or browser on the same
    target within ``DUPLICATE_WINDOW``. Different people are never merged.
    """
    now = now or utcnow()
    client = client or ClientInfo()
    if not draft.is_open(now):
        raise CommentRejected("window_closed")

    if data.idempotency_key:
        existing = db.session.scalar(
            select(Comment).where(Comment.idempotency_key == data.idempotency_key)
        )
        if existing is not None:
            if existing.draft_id != draft.id:
                raise CommentRejected("bad_idempotency_key")
            return SubmitResult(existing, created=False)

    body = clean_text(data.body)
    if not body:
        raise CommentRejected("empty_body", "body")
    if len(body) > MAX_BODY:
        raise CommentRejected("body_too_long", "body")
    quote = clean_text(data.quote)
    if len(quote) > MAX_QUOTE:
        raise CommentRejected("quote_too_long", "quote")

    chapter, article = resolve_target(draft, data.target)

    name = clean_text(data.name)[:100]
    contact = clean_text(data.contact)
    if (name or contact) and not data.consent:
        raise CommentRejected("consent_required", "consent")
    if contact:
        contact = normalize_contact(contact)

    submitter = submitter_hash(author, client)
    earlier = _repeat_of(draft, chapter, article, submitter, body, now) if submitter else None
    if earlier is not None:
        return SubmitResult(earlier, created=False)

    comment = Comment(
        draft=draft,
        article=article,
        chapter=chapter,
        article_number=article.number if article else None,
        quote=quote,
        body=body,
        stance=data.stance,
        identity=data.identity,
        channel=data.channel,
        author=author,
        name=name,
        contact=contact,
        consent_at=now if data.consent and (name or contact) else None,
        district=clean_text(data.district)[:100],
        participant_key=participant_key(author, client),
        submitter_hash=submitter,
        idempotency_key=data.idempotency_key or None,
        tracking_code=tracking.new_code(),
        status=CommentStatus.received,
        created_at=now,
    )
    db.session.add(comment)
    db.session.flush()
    count_opinions_on_commit(db.session, comment.channel.value)
    return SubmitResult(comment, created=True)


def _repeat_of(
    draft: Draft,
    chapter: Chapter | None,
    article: Article | None,
    submitter: str,
    body: str,
    now: datetime,
) -> Comment | None:
    """This submitter's own opinion with the same text on the same target, sent minutes ago."""
    recent = db.session.scalars(
        select(Comment).where(
            Comment.draft_id == draft.id,
            Comment.article_id == article.id if article else Comment.article_id.is_(None),
            Comment.chapter_id == chapter.id if chapter else Comment.chapter_id.is_(None),
            Comment.submitter_hash == submitter,
            Comment.submission_id.is_(None),
            Comment.created_at >= now - DUPLICATE_WINDOW,
        )
    )
    text = _same_text(body)
    return next((c for c in recent if _same_text(c.body) == text), None)


def find_by_code(typed: str | None) -> Comment | None:
    """The comment for a typed tracking code; None alike for malformed and unknown codes."""
    code = tracking.normalize(typed)
    if code is None:
        return None
    return db.session.scalar(select(Comment).where(Comment.tracking_code == code))


def comments_by_author(user: User) -> list[Comment]:
    return list(
        db.session.scalars(
            select(Comment).where(Comment.author_id == user.id).order_by(Comment.created_at.desc())
        )
    )


def record_decision(
    comment: Comment,
    *,
    actor: User,
    status: CommentStatus,
    decision: Decision | None,
    response: str,
    publish: bool,
    now: datetime | None = None,
) -> None:
    """Set the drafting team's decision and response; publishing shows them to the commenter."""
    now = now or utcnow()
    response = clean_text(response)
    if decision is not None:
        status = CommentStatus.decided
    if publish and (decision is None or not response):
        raise CommentRejected("publish_needs_decision", "response")
    before = {
        "status": str(comment.status),
        "decision": str(comment.decision) if comment.decision else None,
        "published": comment.response_published_at is not None,
    }
    comment.status = status
    comment.decision = decision
    comment.response = response
    if decision is not None and (comment.decided_at is None or before["decision"] != decision):
        comment.decided_at = now
        comment.decided_by_id = actor.id
    comment.response_published_at = (comment.response_published_at or now) if publish else None
    db.session.flush()
    record(
        actor,
        "comment.decided",
        comment,
        {
            "before": before,
            "status": str(status),
            "decision": str(decision) if decision else None,
            "published": publish,
        },
    )


@dataclass(frozen=True)
class PublicStatus:
    """What a receipt holder may see of the drafting team's work."""

    status: CommentStatus
    decision: Decision | None
    response: str
    published_at: datetime | None


def public_status(comment: Comment) -> PublicStatus:
    if comment.response_published_at is None:
        # Until published, a decision is internal: the commenter sees "under review" at most.
        status = (
            CommentStatus.under_review
            if comment.status != CommentStatus.received
            else CommentStatus.received
        )
        return PublicStatus(status, None, "", None)
    return PublicStatus(
        CommentStatus.decided, comment.decision, comment.response, comment.response_published_at
    )


def find_by_idempotency_key(key: str | None) -> Comment | None:
    if not key:
        return None
    return db.session.scalar(select(Comment).where(Comment.idempotency_key == key))


def staff_visible():
    """The drafting team sees online opinions and liaison opinions once their batch is submitted."""
    from portal.models import Submission, SubmissionStatus

    submitted = select(Submission.id).where(Submission.status == SubmissionStatus.submitted)
    return Comment.submission_id.is_(None) | Comment.submission_id.in_(submitted)


def get_for_staff(comment_id: int) -> Comment | None:
    return db.session.scalar(select(Comment).where(Comment.id == comment_id, staff_visible()))


def set_published(comment: Comment, published: bool, actor: User) -> None:
    """Publish an opinion's text (never its author or contact) on the draft's public page."""
    if comment.published == published:
        return
    comment.published = published
    db.session.flush()
    record(actor, "comment.published" if published else "comment.unpublished", comment, {})


def published_comments(draft: Draft) -> list[Comment]:
    return list(
        db.session.scalars(
            select(Comment)
            .where(Comment.draft_id == draft.id, Comment.published.is_(True), staff_visible())
            .order_by(Comment.article_number.is_(None), Comment.article_number, Comment.id)
        )
    )
