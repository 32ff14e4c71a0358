"""A consultation's public figures and, once the drafting team publishes them, its results.

Used by the public results page, the API's stats endpoint and the Atom feed; nothing here
returns personal data (names, contacts, districts of individual commenters).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select

from portal.audit import record
from portal.extensions import db
from portal.figures import Figures, Scope, compute
from portal.figures import total as figures_total
from portal.models import Channel, Comment, Decision, Draft, DraftStatus, User, utcnow
from portal.sanitize import mask_contacts

# Everything here is public: a decision counts once its response is published (docs/figures.md).
SCOPE = Scope.public


class ResultsError(ValueError):
    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


@dataclass
class ArticleFigures:
    number: int
    heading: str
    figures: Figures


@dataclass
class PublishedResponse:
    """One answer the drafting team published; the opinion's text only if it was published."""

    article: int | None
    decision: Decision
    response: str
    opinion: str
    channel: Channel
    published_at: datetime


@dataclass
class ConsultationFigures:
    """A draft's public figures (portal/figures.py, Scope.public: published decisions only)."""

    draft: Draft
    total: Figures
    by_channel: dict[Channel, Figures]
    by_article: list[ArticleFigures]
    whole_draft: Figures  # opinions on the whole draft or a chapter
    responses: list[PublishedResponse] = field(default_factory=list)

    @property
    def published(self) -> bool:
        """Decisions are public only once the drafting team publishes the results."""
        return self.draft.results_published_at is not None

    @property
    def decisions(self) -> dict[Decision | None, int] | None:
        """Opinions per published decision (None: undecided), or None before publication."""
        return self.total.by_decision() if self.published else None


def published_responses(draft: Draft, limit: int | None = None) -> list[PublishedResponse]:
    from portal.comments.services import staff_visible

    query = (
        select(Comment)
        .where(
            Comment.draft_id == draft.id,
            Comment.response_published_at.is_not(None),
            Comment.decision.is_not(None),
            staff_visible(),
        )
        .order_by(Comment.article_number.is_(None), Comment.article_number, Comment.id)
    )
    if limit is not None:
        query = query.limit(limit)
    return [
        PublishedResponse(
            article=c.article_number,
            decision=c.decision,
            response=mask_contacts(c.response),
            opinion=mask_contacts(c.body) if c.published else "",
            channel=c.channel,
            published_at=c.response_published_at,
        )
        for c in db.session.scalars(query)
    ]


def figures(draft: Draft, *, with_responses: bool = False) -> ConsultationFigures:
    """Figures in total, by channel and by article; decisions and responses once public."""
    total = figures_total(SCOPE, draft_id=draft.id)
    per_channel = compute(SCOPE, by="channel", draft_id=draft.id)
    per_article = compute(SCOPE, by="article", draft_id=draft.id)
    result = ConsultationFigures(
        draft=draft,
        total=total,
        by_channel={channel: per_channel.get(channel, Figures()) for channel in Channel},
        by_article=[
            ArticleFigures(a.number, a.heading, per_article.get(a.id, Figures()))
            for a in draft.articles
        ],
        whole_draft=per_article.get(None, Figures()),
    )
    if result.published and with_responses:
        result.responses = published_responses(draft)
    return result


def can_publish(draft: Draft, now: datetime | None = None) -> bool:
    return draft.phase(now) == "ended"


def publish_results(draft: Draft, actor: User, now: datetime | None = None) -> None:
    """Make the consultation's results public: figures, decisions, responses, the report."""
    if not can_publish(draft, now):
        raise ResultsError("not_ended")
    if draft.results_published_at is None:
        draft.results_published_at = now or utcnow()
        db.session.flush()
        record(actor, "results.published", draft, {"slug": draft.slug})


def withdraw_results(draft: Draft, actor: User) -> None:
    if draft.results_published_at is not None:
        draft.results_published_at = None
        db.session.flush()
        record(actor, "results.withdrawn", draft, {"slug": draft.slug})


def published_drafts() -> list[Draft]:
    return list(
        db.session.scalars(
            select(Draft)
            .where(Draft.results_published_at.is_not(None), Draft.status != DraftStatus.draft)
            .order_by(Draft.results_published_at.desc())
        )
    )
