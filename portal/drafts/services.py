"""Draft rules: what the public may read, participation counts, and replacing a draft's text."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from portal import tallies
from portal.audit import record
from portal.drafts.parser import ParsedDraft
from portal.extensions import db
from portal.figures import Scope, compute
from portal.models import (
    Article,
    Channel,
    Chapter,
    Draft,
    DraftStatus,
    Section,
    User,
    utcnow,
)


@dataclass(frozen=True)
class Participation:
    """How many opinions and distinct participants a draft or an article has received.

    The two reading-page figures of portal.figures.Figures (opinions, people), under the names
    the templates and the API use.
    """

    comments: int = 0
    participants: int = 0


def public_drafts(status: DraftStatus | None = None) -> list[Draft]:
    """Drafts the public may read (everything but unpublished drafts), newest window first."""
    query = select(Draft).where(Draft.status != DraftStatus.draft)
    if status is not None:
        query = query.where(Draft.status == status)
    query = query.order_by(Draft.opens_at.desc().nulls_last(), Draft.id.desc())
    return list(db.session.scalars(query))


def open_drafts(now: datetime | None = None) -> list[Draft]:
    """Drafts whose consultation window is open now, closing soonest first."""
    now = now or utcnow()
    query = (
        select(Draft)
        .where(
            Draft.status == DraftStatus.consulting,
            Draft.opens_at <= now,
            Draft.closes_at > now,
        )
        .order_by(Draft.closes_at)
    )
    return list(db.session.scalars(query))


def upcoming_drafts(now: datetime | None = None) -> list[Draft]:
    now = now or utcnow()
    query = (
        select(Draft)
        .where(Draft.status == DraftStatus.consulting, Draft.opens_at > now)
        .order_by(Draft.opens_at)
    )
    return list(db.session.scalars(query))


def get_public_draft(slug: str) -> Draft | None:
    """A published draft with its structure loaded, or None (unpublished drafts are hidden)."""
    query = (
        select(Draft)
        .where(Draft.slug == slug, Draft.status != DraftStatus.draft)
        .options(
            selectinload(Draft.chapters).selectinload(Chapter.sections),
            selectinload(Draft.articles),
        )
    )
    return db.session.scalar(query)


def get_draft(slug: str) -> Draft | None:
    return db.session.scalar(select(Draft).where(Draft.slug == slug))


# Reading pages show opinions and participants only, as portal/figures.py defines them (the
# scope only matters for decisions, which these omit). Per draft and article they are read from
# the tallies kept as opinions arrive (portal/tallies.py), so a page costs the same at 100 and
# at 100,000 opinions.


def _participation(found: dict) -> dict:
    return {key: Participation(f.opinions, f.people) for key, f in found.items()}


def participation_by_draft(draft_ids: list[int]) -> dict[int, Participation]:
    return _participation(tallies.by_draft(draft_ids))


def participation_by_article(draft_id: int) -> dict[int, Participation]:
    return _participation(tallies.by_article(draft_id))


def participation_by_channel(draft_id: int) -> dict[Channel, Participation]:
    found = _participation(compute(Scope.public, by="channel", draft_id=draft_id))
    return {channel: found.get(channel, Participation()) for channel in Channel}


def replace_text(draft: Draft, parsed: ParsedDraft, actor: User | None) -> None:
    """Replace a draft's structure with a parsed text, keeping article rows by number.

    Articles keep their ids when their number survives, so opinions already given on
    第十二条 stay attached to 第十二条; articles that disappear are removed and their
    opinions keep the number they were given on (Comment.article_number).
    """
    old_articles = {a.number: a for a in draft.articles}
    for article in draft.articles:
        article.chapter = None
        article.section = None
    for chapter in list(draft.chapters):
        db.session.delete(chapter)
    draft.chapters = []
    db.session.flush()

    chapters: list[Chapter] = []
    sections: dict[tuple[int, str], Section] = {}
    for position, parsed_chapter in enumerate(parsed.chapters):
        chapter = Chapter(
            draft=draft,
            number=parsed_chapter.number,
            heading=parsed_chapter.heading,
            position=position,
        )
        for s_position, label in enumerate(parsed_chapter.sections):
            number, heading = _split_section_label(label, s_position + 1)
            section = Section(number=number, heading=heading, position=s_position)
            chapter.sections.append(section)
            sections[(position, label)] = section
        chapters.append(chapter)
        db.session.add(chapter)

    seen: set[int] = set()
    for position, parsed_article in enumerate(parsed.articles):
        if parsed_article.number in seen:
            continue  # the parser already warned about the duplicate; the first one wins
        seen.add(parsed_article.number)
        article = old_articles.pop(parsed_article.number, None) or Article(draft=draft)
        article.number = parsed_article.number
        article.text = "\n".join(parsed_article.paragraphs)
        article.position = position
        index = parsed_article.chapter_index
        article.chapter = chapters[index] if index is not None else None
        article.section = (
            sections.get((index, parsed_article.section))
            if index is not None and parsed_article.section
            else None
        )
        db.session.add(article)
    for gone in old_articles.values():
        db.session.delete(gone)

    draft.preamble = "\n".join(parsed.preamble)
    draft.version = (draft.version or 0) + 1
    db.session.flush()
    record(
        actor,
        "draft.text_replaced",
        draft,
        {"version": draft.version, "articles": len(seen), "chapters": len(chapters)},
    )


def _split_section_label(label: str, fallback: int) -> tuple[int, str]:
    """'第一节 一般规定' -> (1, '一般规定')."""
    from portal.numerals import chinese_to_int

    head, _, heading = label.partition(" ")
    try:
        number = chinese_to_int(head.removeprefix("第").removesuffix("节"))
    except ValueError:
        return fallback, label
    return number, heading.strip()


def get_readable_draft(slug: str, user) -> Draft | None:
    """A draft as the given user may read it: staff also see unpublished drafts."""
    draft = get_public_draft(slug)
    if draft is None and getattr(user, "is_authenticated", False) and user.is_staff:
        draft = db.session.scalar(
            select(Draft)
            .where(Draft.slug == slug)
            .options(
                selectinload(Draft.chapters).selectinload(Chapter.sections),
                selectinload(Draft.articles),
            )
        )
    return draft


_META_FIELDS = (
    "slug",
    "title",
    "title_en",
    "summary",
    "summary_en",
    "drafting_body",
    "drafting_body_en",
    "opens_at",
    "closes_at",
)


def create_draft(data: dict, actor: User | None) -> Draft:
    draft = Draft(status=DraftStatus(data.get("status") or DraftStatus.draft))
    for name in _META_FIELDS:
        if name in data:
            setattr(draft, name, data[name])
    db.session.add(draft)
    db.session.flush()
    record(actor, "draft.created", draft, {"slug": draft.slug})
    return draft


def update_draft(draft: Draft, data: dict, actor: User | None) -> None:
    changed = {}
    for name in (*_META_FIELDS, "status"):
        if name not in data:
            continue
        value = DraftStatus(data[name]) if name == "status" else data[name]
        if getattr(draft, name) != value:
            changed[name] = str(value) if value is not None else None
            setattr(draft, name, value)
    db.session.flush()
    if changed:
        record(actor, "draft.updated", draft, changed)
