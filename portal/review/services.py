"""The drafting team's rules: categories, bulk actions, clause-by-clause review, statistics.

Every function works on opinions the drafting team may see (comments.services.staff_visible)
and writes an audit entry for each opinion it changes (the search outbox follows by itself,
portal/search/outbox.py); the caller commits.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import delete, func, insert, select

from portal.audit import record
from portal.comments import services as comments
from portal.extensions import db
from portal.figures import Figures, Scope, compute, total
from portal.models import (
    Article,
    Category,
    Channel,
    Comment,
    CommentStatus,
    Decision,
    Draft,
    LiaisonPoint,
    ResponseTemplate,
    Stance,
    User,
    comment_categories,
)
from portal.sanitize import clean_text

DEFAULT_CATEGORIES = (
    ("立法必要性", "Need for the law"),
    ("总体意见", "General"),
    ("条款修改", "Amend an article"),
    ("新增内容", "New content"),
    ("删除内容", "Delete content"),
    ("文字表述", "Wording"),
    ("法律责任", "Legal liability"),
    ("监督管理", "Supervision"),
    ("其他", "Other"),
)


class ReviewError(ValueError):
    def __init__(self, code: str, **params):
        super().__init__(code)
        self.code = code
        self.params = params


# --- categories ---------------------------------------------------------------------------


def categories_for(draft: Draft) -> list[Category]:
    """The draft's categories; the default set is created the first time they are needed."""
    items = list(
        db.session.scalars(
            select(Category).where(Category.draft_id == draft.id).order_by(Category.position)
        )
    )
    if items:
        return items
    for position, (name, name_en) in enumerate(DEFAULT_CATEGORIES):
        db.session.add(Category(draft_id=draft.id, name=name, name_en=name_en, position=position))
    db.session.flush()
    return categories_for(draft)


def _unique_name(draft: Draft, name: str, exclude: Category | None = None) -> None:
    existing = db.session.scalar(
        select(Category).where(Category.draft_id == draft.id, Category.name == name)
    )
    if existing is not None and existing is not exclude:
        raise ReviewError("category_exists", name=name)


def save_category(
    draft: Draft,
    category: Category | None,
    *,
    name: str,
    name_en: str = "",
    keywords: str = "",
    actor: User,
) -> Category:
    name = clean_text(name)[:100]
    if not name:
        raise ReviewError("category_name_required")
    _unique_name(draft, name, category)
    created = category is None
    if category is None:
        position = db.session.scalar(
            select(func.coalesce(func.max(Category.position), -1)).where(
                Category.draft_id == draft.id
            )
        )
        category = Category(draft_id=draft.id, position=position + 1)
        db.session.add(category)
    category.name = name
    category.name_en = clean_text(name_en)[:100]
    category.keywords = clean_text(keywords)
    db.session.flush()
    record(actor, "category.created" if created else "category.updated", category, {"name": name})
    return category


def _comment_ids_in(category: Category) -> list[int]:
    return list(
        db.session.scalars(
            select(comment_categories.c.comment_id).where(
                comment_categories.c.category_id == category.id
            )
        )
    )


def merge_categories(source: Category, target: Category, actor: User) -> int:
    """Move every opinion of source into target and remove source."""
    if source.id == target.id or source.draft_id != target.draft_id:
        raise ReviewError("bad_merge")
    moved = _comment_ids_in(source)
    already = set(_comment_ids_in(target))
    to_add = [cid for cid in moved if cid not in already]
    if to_add:
        db.session.execute(
            insert(comment_categories),
            [{"comment_id": cid, "category_id": target.id} for cid in to_add],
        )
    db.session.execute(
        delete(comment_categories).where(comment_categories.c.category_id == source.id)
    )
    record(actor, "category.merged", target, {"from": source.name, "opinions": len(moved)})
    db.session.delete(source)
    # The outbox follows these statements (portal/search/outbox.py): one job per moved opinion.
    db.session.flush()
    return len(moved)


# --- response templates ------------------------------------------------------------------------


def response_templates(draft: Draft) -> list[ResponseTemplate]:
    return list(
        db.session.scalars(
            select(ResponseTemplate)
            .where((ResponseTemplate.draft_id == draft.id) | ResponseTemplate.draft_id.is_(None))
            .order_by(ResponseTemplate.title)
        )
    )


def save_template(draft: Draft, *, title: str, body: str, actor: User) -> ResponseTemplate:
    title, body = clean_text(title)[:200], clean_text(body)
    if not title or not body:
        raise ReviewError("template_incomplete")
    template = ResponseTemplate(draft_id=draft.id, title=title, body=body)
    db.session.add(template)
    db.session.flush()
    record(actor, "response_template.created", template, {"title": title})
    return template


# --- bulk actions --------------------------------------------------------------------------------


@dataclass
class BulkResult:
    changed: int = 0
    skipped: int = 0


def visible_comments(draft: Draft, ids) -> list[Comment]:
    ids = {int(i) for i in ids}
    if not ids:
        return []
    return list(
        db.session.scalars(
            select(Comment)
            .where(Comment.id.in_(ids), Comment.draft_id == draft.id, comments.staff_visible())
            .order_by(Comment.id)
        )
    )


def add_category(items: list[Comment], category: Category, actor: User) -> BulkResult:
    result = BulkResult()
    for comment in items:
        if category in comment.categories:
            result.skipped += 1
            continue
        comment.categories.append(category)
        result.changed += 1
    db.session.flush()
    record(
        actor,
        "bulk.category_added",
        category,
        {"opinions": [c.id for c in items], "changed": result.changed},
    )
    return result


def remove_category(items: list[Comment], category: Category, actor: User) -> BulkResult:
    result = BulkResult()
    for comment in items:
        if category not in comment.categories:
            result.skipped += 1
            continue
        comment.categories.remove(category)
        result.changed += 1
    db.session.flush()
    record(
        actor,
        "bulk.category_removed",
        category,
        {"opinions": [c.id for c in items], "changed": result.changed},
    )
    return result


def set_article(items: list[Comment], draft: Draft, number: int | None, actor: User) -> BulkResult:
    article = None
    if number is not None:
        article = db.session.scalar(
            select(Article).where(Article.draft_id == draft.id, Article.number == number)
        )
        if article is None:
            raise ReviewError("article_unknown", number=number)
    result = BulkResult()
    for comment in items:
        if comment.article_number == number:
            result.skipped += 1
            continue
        before = comment.article_number
        comment.article = article
        comment.chapter = article.chapter if article else None
        comment.article_number = number
        result.changed += 1
        record(actor, "comment.article_set", comment, {"before": before, "after": number})
    db.session.flush()
    return result


def decide(
    items: list[Comment], *, decision: Decision, response: str, publish: bool, actor: User
) -> BulkResult:
    result = BulkResult()
    for comment in items:
        comments.record_decision(
            comment,
            actor=actor,
            status=CommentStatus.decided,
            decision=decision,
            response=response,
            publish=publish,
        )
        result.changed += 1
    return result


def merge_into(
    items: list[Comment], target: Comment, *, response: str, publish: bool, actor: User
) -> BulkResult:
    """Mark opinions as merged into another one (已合并); the target keeps its own decision."""
    result = BulkResult()
    for comment in items:
        if comment.id == target.id:
            result.skipped += 1
            continue
        comment.merged_into_id = target.id
        comments.record_decision(
            comment,
            actor=actor,
            status=CommentStatus.decided,
            decision=Decision.merged,
            response=response,
            publish=publish,
        )
        result.changed += 1
    return result


# --- clause-by-clause review ---------------------------------------------------------------------


@dataclass
class ClauseGroup:
    stance: Stance
    by_category: list[tuple[str, list[Comment]]]
    count: int


@dataclass
class ClauseReview:
    draft: Draft
    article: Article | None
    groups: list[ClauseGroup]
    total: int
    decisions: Counter
    previous: int | None
    next: int | None
    numbers: list[int] = field(default_factory=list)


def clause_review(draft: Draft, number: int | None) -> ClauseReview:
    """One article (None: the whole draft) beside every opinion on it, by stance and category."""
    numbers = [a.number for a in draft.articles]
    article = next((a for a in draft.articles if a.number == number), None)
    if number is not None and article is None:
        raise ReviewError("article_unknown", number=number)
    query = select(Comment).where(Comment.draft_id == draft.id, comments.staff_visible())
    query = query.where(
        Comment.article_number == number if number is not None else Comment.article_number.is_(None)
    )
    items = list(db.session.scalars(query.order_by(Comment.created_at, Comment.id)))
    by_stance: dict[Stance, dict[str, list[Comment]]] = defaultdict(lambda: defaultdict(list))
    for comment in items:
        names = [c.name for c in comment.categories] or [""]
        by_stance[comment.stance][names[0]].append(comment)
    groups = [
        ClauseGroup(
            stance,
            sorted(by_stance[stance].items(), key=lambda kv: (kv[0] == "", kv[0])),
            sum(len(v) for v in by_stance[stance].values()),
        )
        for stance in Stance
        if stance in by_stance
    ]
    decisions = Counter(c.decision.value if c.decision else "undecided" for c in items)
    sequence: list[int | None] = [None, *numbers]
    index = sequence.index(number)
    return ClauseReview(
        draft=draft,
        article=article,
        groups=groups,
        total=len(items),
        decisions=decisions,
        previous=sequence[index - 1] if index > 0 else None,
        next=sequence[index + 1] if index + 1 < len(sequence) else None,
        numbers=numbers,
    )


# --- statistics ----------------------------------------------------------------------------------

# The drafting team sees every decision it has recorded, published or not (docs/figures.md).
STATS_SCOPE = Scope.staff


@dataclass
class DraftStats:
    """The workbench's statistics: figures in the staff scope (every recorded decision)."""

    figures: Figures
    by_day: list[tuple[date, int]]
    by_channel: list[tuple[str, int]]
    by_stance: list[tuple[str, int]]
    by_identity: list[tuple[str, int]]
    by_decision: list[tuple[str, int]]
    by_point: list[tuple[str, int]]
    heat: list[tuple[object, list[tuple[Article, int]]]]  # (chapter or None, [(article, count)])
    max_per_article: int

    @property
    def total(self) -> int:
        return self.figures.opinions

    @property
    def participants(self) -> int:
        return self.figures.people


def _grouped(draft: Draft, name: str) -> list[tuple[str, int]]:
    """Opinions per value of one group (portal.figures.GROUPS), most first; "" for none given."""
    found = compute(STATS_SCOPE, by=name, draft_id=draft.id)
    rows = [(str(key.value) if key is not None else "", f.opinions) for key, f in found.items()]
    return sorted(rows, key=lambda row: (-row[1], row[0]))


def draft_stats(draft: Draft) -> DraftStats:
    figures = total(STATS_SCOPE, draft_id=draft.id)
    # Days are local (Beijing) dates: grouped here, over the same opinions figures counts.
    days = Counter(
        created.astimezone(_zone()).date()
        for created in db.session.scalars(
            select(Comment.created_at).where(Comment.draft_id == draft.id, comments.staff_visible())
        )
    )
    per_article = {
        article_id: f.opinions
        for article_id, f in compute(STATS_SCOPE, by="article", draft_id=draft.id).items()
        if article_id is not None
    }
    heat = []
    loose = [(a, per_article.get(a.id, 0)) for a in draft.articles if a.chapter_id is None]
    if loose:
        heat.append((None, loose))
    for chapter in draft.chapters:
        heat.append((chapter, [(a, per_article.get(a.id, 0)) for a in chapter.articles]))
    per_point = compute(STATS_SCOPE, by="point", draft_id=draft.id)
    names = dict(
        db.session.execute(
            select(LiaisonPoint.id, LiaisonPoint.name).where(LiaisonPoint.id.in_(list(per_point)))
        ).all()
    )
    points = sorted(((names[pid], f.opinions) for pid, f in per_point.items()), key=lambda r: -r[1])
    return DraftStats(
        figures=figures,
        by_day=sorted(days.items()),
        by_channel=_grouped(draft, "channel"),
        by_stance=_grouped(draft, "stance"),
        by_identity=_grouped(draft, "identity"),
        by_decision=[
            (decision.value if decision else "undecided", n)
            for decision, n in figures.by_decision().items()
        ],
        by_point=points,
        heat=heat,
        max_per_article=max(per_article.values(), default=0),
    )


def _zone():
    from zoneinfo import ZoneInfo

    from flask import current_app

    return ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])


CHANNELS = tuple(c.value for c in Channel)
