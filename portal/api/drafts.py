"""Public endpoints: drafts, their text, and their figures."""

from __future__ import annotations

from flask_smorest import Blueprint, abort

from portal.api.paging import page_of
from portal.api.schemas import (
    DraftDetailSchema,
    DraftListArgs,
    DraftListSchema,
    StatsSchema,
)
from portal.api.security import limit
from portal.drafts import results
from portal.drafts import services as drafts
from portal.models import Draft, DraftStatus
from portal.urls import external_url

blp = Blueprint(
    "api_drafts",
    __name__,
    url_prefix="/api/v1/drafts",
    description="Drafts under consultation, their text and figures (public).",
)
limit(blp)


def draft_dict(draft: Draft, participation: drafts.Participation) -> dict:
    phase = draft.phase()
    return {
        "slug": draft.slug,
        "title": draft.title,
        "title_en": draft.title_en,
        "status": draft.status.value,
        "phase": phase if phase != "unpublished" else "upcoming",
        "opens_at": draft.opens_at,
        "closes_at": draft.closes_at,
        "comment_count": participation.comments,
        "participant_count": participation.participants,
        "results_published_at": draft.results_published_at,
        "url": external_url("drafts.show", slug=draft.slug),
    }


def _public_draft(slug: str) -> Draft:
    draft = drafts.get_public_draft(slug)
    if draft is None:
        abort(404, code="draft_not_found")
    return draft


@blp.route("")
@blp.arguments(DraftListArgs, location="query", as_kwargs=True)
@blp.response(200, DraftListSchema)
def list_drafts(page: int, per_page: int, status: str | None = None):
    """Published drafts, newest consultation first."""
    found = drafts.public_drafts(DraftStatus(status) if status else None)

    def convert(chosen: list[Draft]) -> list[dict]:
        counts = drafts.participation_by_draft([d.id for d in chosen])
        return [draft_dict(d, counts.get(d.id, drafts.Participation())) for d in chosen]

    return page_of(found, page, per_page, convert)


@blp.route("/<slug>")
@blp.response(200, DraftDetailSchema)
@blp.alt_response(404, response="NOT_FOUND")
def get_draft(slug: str):
    """A draft with its chapters and articles."""
    draft = _public_draft(slug)
    counts = drafts.participation_by_draft([draft.id]).get(draft.id, drafts.Participation())
    data = draft_dict(draft, counts)
    data.update(
        summary=draft.summary,
        summary_en=draft.summary_en,
        drafting_body=draft.drafting_body,
        preamble=draft.preamble,
        chapters=[{"number": c.number, "heading": c.heading} for c in draft.chapters],
        articles=[
            {
                "number": a.number,
                "heading": a.heading,
                "chapter": a.chapter.number if a.chapter else None,
                "section": a.section.number if a.section else None,
                "text": a.text,
                "paragraphs": a.paragraphs,
            }
            for a in draft.articles
        ],
    )
    return data


@blp.route("/<slug>/stats")
@blp.response(200, StatsSchema)
@blp.alt_response(404, response="NOT_FOUND")
def draft_stats(slug: str):
    """Opinions and participants per channel and article; decisions once results are published.

    Decided, undecided and the adoption rate follow docs/figures.md (published decisions only).
    """
    draft = _public_draft(slug)
    figures = results.figures(draft)
    total = figures.total
    decisions = None
    if figures.decisions is not None:
        decisions = [
            {"decision": d.value if d is not None else "none", "comments": n}
            for d, n in figures.decisions.items()
        ]
    return {
        "draft": draft.slug,
        "comment_count": total.opinions,
        "participant_count": total.people,
        "by_channel": [
            {"channel": c.value, "comments": f.opinions, "participants": f.people}
            for c, f in figures.by_channel.items()
        ],
        "by_article": [
            {
                "article": a.number,
                "comments": a.figures.opinions,
                "participants": a.figures.people,
            }
            for a in figures.by_article
        ],
        "whole_draft": figures.whole_draft.opinions,
        "results_published_at": draft.results_published_at,
        "decisions": decisions,
        "decided": total.decided if figures.published else None,
        "undecided": total.undecided if figures.published else None,
        "adoption_rate": total.adoption_rate if figures.published else None,
    }
