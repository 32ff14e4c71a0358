"""A consultation's public figures and, once the drafting team publishes them, its results.

Used by the public results page, the API's stats endpoint and the Atom feed; nothing here
returns personal data (names, contacts, districts of individual commenters).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select

from portal.audit import record
from portal.drafts.services import (
    Participation,
    participation_by_article,
    participation_by_channel,
    participation_by_draft,
)
from portal.extensions import db
from portal.models import Channel, Comment, Decision, Draft, DraftStatus, User, utcnow
from portal.sanitize import mask_contacts


class ResultsError(ValueError):
    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


@dataclass
class ArticleFigures:
    number: int
    heading: str
    participation: Participation


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
    draft: Draft
    total: Participation
    by_channel: dict[Channel, Participation]
    by_article: list[ArticleFigures]
    whole_draft: Participation
    decisions: dict[Decision | None, int] | None = None  # only once results are published
    responses: list[PublishedResponse] = field(default_factory=list)

    @property
    def published(self) -> bool:
        return self.decisions is not None


def _decision_counts(draft: Draft) -> dict[Decision | None, int]:
    from portal.comments.services import staff_visible

    query = (
        select(Comment.decision, func.count(Comment.id))
        .where(Comment.draft_id == draft.id, staff_visible())
        .group_by(Comment.decision)
    )
    counts: dict[Decision | None, int] = {decision: 0 for decision in Decision}
    counts[None] = 0
    for decision, n in db.session.execute(query):
        counts[decision] = n
    return counts


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
            response=c.response,
            opinion=mask_contacts(c.body) if c.published else "",
            channel=c.channel,
            published_at=c.response_published_at,
        )
        for c in db.session.scalars(query)
    ]


def figures(draft: Draft, *, with_responses: bool = False) -> ConsultationFigures:
    """Participation by channel and article; decisions and responses once results are public."""
    total = participation_by_draft([draft.id]).get(draft.id, Participation())
    per_article = participation_by_article(draft.id)
    articles = [
        ArticleFigures(a.number, a.heading, per_article.get(a.id, Participation()))
        for a in draft.articles
    ]
    in_articles = sum(a.participation.comments for a in articles)
    result = ConsultationFigures(
        draft=draft,
        total=total,
        by_channel=participation_by_channel(draft.id),
        by_article=articles,
        whole_draft=Participation(comments=max(0, total.comments - in_articles)),
    )
    if draft.results_published_at is not None:
        result.decisions = _decision_counts(draft)
        if with_responses:
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
