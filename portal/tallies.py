"""Tallies: opinions and people per draft and article, kept in the transaction that changes them.

Public pages (the home page, the draft list and reading pages, GET /api/v1/drafts) show how
many opinions and people a draft and each article have. Counting distinct participants over
every opinion on each request made them slower as a consultation succeeded, so the figures
are kept instead (portal/models/tallies.py) and a page reads a few rows.

One mechanism keeps them, whatever path changes an opinion: SQLAlchemy session hooks. Before
a flush they read, from the database, what the comments about to change contributed (the
dirty or deleted comments whose counting columns change, and every comment of a batch whose
status changes or that is deleted); after the flush they read it again, together with the new
comments, and apply the difference. Reading the rows themselves rather than attribute history
means the hooks see exactly what the database holds, whichever relationship or foreign key set
it. Bulk UPDATE and DELETE of comments or batches run through the session go through the same
difference.

Which opinions count and who the people are come from portal/figures.py (counted(),
participant(), raised_by()), so a tally equals figures.compute() for the same group in either
scope (opinions and people do not depend on the scope). Counters move by atomic
`n = n + delta` upserts, so concurrent workers never lose an update; participant rows are
never deleted (0 means "no opinion counts any more"), so an insert never races a delete.

Not kept by the hooks: database cascades. A deleted draft or article takes its tallies with it
(ON DELETE CASCADE, like its opinions); raw SQL that changes comments behind the ORM needs
`flask portal rebuild-tallies`, which recomputes everything and reports what it fixed.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import islice

from sqlalchemy import event, func, inspect, select, update
from sqlalchemy.orm import Session

from portal import figures
from portal.extensions import db
from portal.models import (
    ArticleParticipant,
    ArticleTally,
    Comment,
    DraftParticipant,
    DraftTally,
    Submission,
)

_BEFORE = "tallies.before"  # session.info: what the comments of the coming flush contributed

# The columns (and the relationships that set them) that decide what an opinion contributes.
COMMENT_WATCHED = (
    "draft",
    "draft_id",
    "article",
    "article_id",
    "submission",
    "submission_id",
    "participant_key",
    "raised_by",
)
# A batch's status decides whether its opinions count (figures.counted()).
SUBMISSION_WATCHED = ("status",)

_CHUNK = 500  # ids per IN (...) list


@dataclass(frozen=True)
class Share:
    """What one counted opinion adds to its draft and, when it has one, its article."""

    draft_id: int
    article_id: int | None
    participant: str | None  # online and API opinions: their participant key
    raised_by: int  # liaison opinions: the people who raised it


# A group is ("draft", draft_id) or ("article", article_id).
LEVELS = {
    "draft": (DraftTally, DraftParticipant, "draft_id"),
    "article": (ArticleTally, ArticleParticipant, "article_id"),
}


def _groups(share: Share) -> list[tuple[str, int]]:
    groups = [("draft", share.draft_id)]
    if share.article_id is not None:
        groups.append(("article", share.article_id))
    return groups


def _chunks(ids: Iterable[int]) -> Iterable[list[int]]:
    iterator = iter(sorted(ids))
    while chunk := list(islice(iterator, _CHUNK)):
        yield chunk


def shares(connection, comment_ids: Iterable[int]) -> dict[int, Share]:
    """What these comments contribute now: the counted ones, by id."""
    columns = (
        Comment.id,
        Comment.draft_id,
        Comment.article_id,
        figures.participant(),
        figures.raised_by(),
    )
    found: dict[int, Share] = {}
    for chunk in _chunks(comment_ids):
        query = select(*columns).where(Comment.id.in_(chunk), figures.counted())
        for row in connection.execute(query):
            found[row[0]] = Share(row[1], row[2], row[3], int(row[4] or 0))
    return found


def comments_of(connection, submission_ids: Iterable[int]) -> set[int]:
    """Every comment of these batches, counted or not (a change of the batch may move them)."""
    found: set[int] = set()
    for chunk in _chunks(submission_ids):
        query = select(Comment.id).where(Comment.submission_id.in_(chunk))
        found.update(connection.execute(query).scalars())
    return found


# --- applying a difference ---------------------------------------------------------------


def _insert(connection, table):
    if connection.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    elif connection.dialect.name == "sqlite":
        from sqlalchemy.dialects.sqlite import insert
    else:  # pragma: no cover (the portal runs on SQLite and PostgreSQL only)
        raise NotImplementedError(connection.dialect.name)
    return insert(table)


def _bump_participant(connection, level: str, group_id: int, key: str, delta: int) -> int:
    """Move one participant's opinion count; returns +1 if they joined the group, -1 if they
    left it, 0 otherwise."""
    _, model, id_name = LEVELS[level]
    table = model.__table__
    where = (table.c[id_name] == group_id) & (table.c.participant_key == key)
    if delta > 0:
        statement = _insert(connection, table).values(
            {id_name: group_id, "participant_key": key, "opinions": delta}
        )
        statement = statement.on_conflict_do_update(
            index_elements=[table.c[id_name], table.c.participant_key],
            set_={"opinions": table.c.opinions + statement.excluded.opinions},
        ).returning(table.c.opinions)
    else:
        statement = (
            update(table)
            .where(where)
            .values(opinions=table.c.opinions + delta)
            .returning(table.c.opinions)
        )
    now = connection.execute(statement).scalar()
    if now is None:  # a removal from a row that was never there: only rebuild can say
        return 0
    return int(now > 0) - int(now - delta > 0)


def _bump_tally(connection, level: str, group_id: int, draft_id: int, delta: Counter) -> None:
    model, _, id_name = LEVELS[level]
    table = model.__table__
    values = {name: delta[name] for name in ("opinions", "participants", "raised_by")}
    if values["opinions"] > 0:
        # The group has a counted opinion now, so its draft or article exists.
        row = {id_name: group_id, **values}
        if level == "article":
            row["draft_id"] = draft_id
        statement = _insert(connection, table).values(row)
        statement = statement.on_conflict_do_update(
            index_elements=[table.c[id_name]],
            set_={name: table.c[name] + statement.excluded[name] for name in values},
        )
    else:
        # Only removals or moves within the group: never insert (the draft may be going).
        statement = (
            update(table)
            .where(table.c[id_name] == group_id)
            .values({name: table.c[name] + n for name, n in values.items()})
        )
    connection.execute(statement)


def apply(connection, before: dict[int, Share], after: dict[int, Share]) -> None:
    """Move the tallies from what `before` contributed to what `after` does."""
    deltas: dict[tuple[str, int], Counter] = {}
    keys: Counter = Counter()
    drafts: dict[tuple[str, int], int] = {}
    for sign, found in ((-1, before), (1, after)):
        for share in found.values():
            for group in _groups(share):
                delta = deltas.setdefault(group, Counter())
                delta["opinions"] += sign
                delta["raised_by"] += sign * share.raised_by
                drafts[group] = share.draft_id
                if share.participant is not None:
                    keys[(*group, share.participant)] += sign
    # Sorted, so that two transactions lock the same rows in the same order.
    for (level, group_id, key), delta in sorted(keys.items()):
        if delta:
            joined = _bump_participant(connection, level, group_id, key, delta)
            deltas[(level, group_id)]["participants"] += joined
    for group, delta in sorted(deltas.items()):
        if any(delta.values()):
            _bump_tally(connection, *group, drafts[group], delta)


# --- the session hooks: one mechanism for every path --------------------------------------


@dataclass
class _Before:
    comment_ids: set[int] = field(default_factory=set)
    shares: dict[int, Share] = field(default_factory=dict)


def _changed(state, names: tuple[str, ...]) -> bool:
    return any(state.attrs[name].history.has_changes() for name in names)


@event.listens_for(Session, "before_flush")
def _before_flush(session: Session, _context, _instances) -> None:
    watched, submission_ids = _Before(), set()
    changes = [(obj, False) for obj in session.dirty] + [(obj, True) for obj in session.deleted]
    for obj, deleted in changes:
        if not isinstance(obj, Comment | Submission):
            continue
        state = inspect(obj)
        if state.identity is None:  # pending: nothing in the database yet
            continue
        if isinstance(obj, Comment) and (deleted or _changed(state, COMMENT_WATCHED)):
            watched.comment_ids.add(state.identity[0])
        elif isinstance(obj, Submission) and (deleted or _changed(state, SUBMISSION_WATCHED)):
            submission_ids.add(state.identity[0])
    if watched.comment_ids or submission_ids:
        connection = session.connection()
        watched.comment_ids |= comments_of(connection, submission_ids)
        watched.shares = shares(connection, watched.comment_ids)
    session.info[_BEFORE] = watched


@event.listens_for(Session, "after_flush")
def _after_flush(session: Session, _context) -> None:
    watched = session.info.pop(_BEFORE, None) or _Before()
    new = {obj.id for obj in session.new if isinstance(obj, Comment)}
    if not (new or watched.comment_ids):
        return
    connection = session.connection()
    apply(connection, watched.shares, shares(connection, watched.comment_ids | new))


@event.listens_for(Session, "after_soft_rollback")
def _forget(session: Session, _previous) -> None:
    session.info.pop(_BEFORE, None)


@event.listens_for(Session, "do_orm_execute")
def _bulk(state):
    """Bulk UPDATE or DELETE of comments or batches through the session (ORM or Core): the
    same difference, taken around the statement."""
    if not (state.is_update or state.is_delete):
        return None
    statement = state.statement
    name = getattr(getattr(statement, "table", None), "name", None)  # ORM or Core, annotated
    if name == Comment.__tablename__:
        entity, watched, column = Comment, COMMENT_WATCHED, Comment.id
    elif name == Submission.__tablename__:
        entity, watched, column = Submission, SUBMISSION_WATCHED, Submission.id
    else:
        return None
    if state.is_update:
        names = {getattr(key, "key", key) for key in statement._values or {}}
        if not names & set(watched):
            return None
    # Pending changes first, so that the snapshot below is what the statement changes.
    state.session.flush()
    query = select(column)
    if statement.whereclause is not None:
        query = query.where(statement.whereclause)
    connection = state.session.connection()
    ids = set(connection.execute(query).scalars())
    comment_ids = ids if entity is Comment else comments_of(connection, ids)
    before = shares(connection, comment_ids)
    result = state.invoke_statement()
    apply(connection, before, shares(connection, comment_ids))
    return result


# --- reading -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Tally:
    opinions: int = 0
    people: int = 0


def by_draft(draft_ids: Iterable[int]) -> dict[int, Tally]:
    """The kept figures of these drafts (those with none are left out)."""
    ids = list(draft_ids)
    if not ids:
        return {}
    t = DraftTally
    query = select(t.draft_id, t.opinions, t.participants + t.raised_by).where(t.draft_id.in_(ids))
    return {row[0]: Tally(row[1], row[2]) for row in db.session.execute(query)}


def by_article(draft_id: int) -> dict[int, Tally]:
    """The kept figures of a draft's articles (those with none are left out)."""
    t = ArticleTally
    query = select(t.article_id, t.opinions, t.participants + t.raised_by).where(
        t.draft_id == draft_id
    )
    return {row[0]: Tally(row[1], row[2]) for row in db.session.execute(query)}


# --- rebuilding from the comments ----------------------------------------------------------


@dataclass
class Rebuilt:
    """What rebuild() found: the groups it tallied and each difference it fixed."""

    drafts: int = 0
    articles: int = 0
    participants: int = 0
    fixed: list[str] = field(default_factory=list)


def _expected_tallies(level: str) -> dict[int, tuple]:
    column = Comment.draft_id if level == "draft" else Comment.article_id
    query = (
        select(
            column,
            Comment.draft_id,
            func.count(Comment.id),
            func.count(func.distinct(figures.participant())),
            func.coalesce(func.sum(figures.raised_by()), 0),
        )
        .where(figures.counted(), column.is_not(None))
        .group_by(column, Comment.draft_id)
    )
    return {row[0]: (row[1], *(int(v) for v in row[2:])) for row in db.session.execute(query)}


def _expected_participants(level: str) -> dict[tuple[int, str], int]:
    column = Comment.draft_id if level == "draft" else Comment.article_id
    key = figures.participant()
    query = (
        select(column, key, func.count(Comment.id))
        .where(figures.counted(), column.is_not(None), key.is_not(None))
        .group_by(column, key)
    )
    return {(row[0], row[1]): int(row[2]) for row in db.session.execute(query)}


def rebuild() -> Rebuilt:
    """Recompute every tally from the comments; report and fix what differed. Flushes; the
    caller commits. On PostgreSQL writers wait meanwhile, so no opinion falls between."""
    if db.session.get_bind().dialect.name == "postgresql":
        names = ", ".join(model.__tablename__ for level in LEVELS.values() for model in level[:2])
        db.session.execute(db.text(f"LOCK TABLE {names} IN SHARE ROW EXCLUSIVE MODE"))
    db.session.flush()
    report = Rebuilt()
    for level, (tally_model, participant_model, id_name) in LEVELS.items():
        tally_table, participant_table = tally_model.__table__, participant_model.__table__
        expected = _expected_tallies(level)
        kept = {
            row[0]: tuple(row[1:])
            for row in db.session.execute(
                select(
                    tally_table.c[id_name],
                    tally_table.c.opinions,
                    tally_table.c.participants,
                    tally_table.c.raised_by,
                )
            )
        }
        for group_id in sorted(set(expected) | set(kept)):
            want = expected.get(group_id, (None, 0, 0, 0))[1:]
            have = kept.get(group_id, (0, 0, 0))
            if tuple(want) != tuple(have):
                report.fixed.append(
                    f"{level} {group_id}: opinions {have[0]} → {want[0]}, participants "
                    f"{have[1]} → {want[1]}, raised by {have[2]} → {want[2]}"
                )
        wanted = _expected_participants(level)
        had = {
            (row[0], row[1]): row[2]
            for row in db.session.execute(
                select(
                    participant_table.c[id_name],
                    participant_table.c.participant_key,
                    participant_table.c.opinions,
                ).where(participant_table.c.opinions != 0)
            )
        }
        wrong = sum(1 for key in set(wanted) | set(had) if wanted.get(key) != had.get(key))
        if wrong:
            report.fixed.append(f"{level} participants: {wrong} rows differed")

        db.session.execute(participant_table.delete())
        db.session.execute(tally_table.delete())
        rows = []
        for group_id, (draft_id, opinions, participants, raised_by) in expected.items():
            row = {
                id_name: group_id,
                "opinions": opinions,
                "participants": participants,
                "raised_by": raised_by,
            }
            if level == "article":
                row["draft_id"] = draft_id
            rows.append(row)
        if rows:
            db.session.execute(tally_table.insert(), rows)
        rows = [
            {id_name: group_id, "participant_key": key, "opinions": n}
            for (group_id, key), n in wanted.items()
        ]
        for start in range(0, len(rows), 10_000):
            db.session.execute(participant_table.insert(), rows[start : start + 10_000])
        setattr(report, f"{level}s", len(expected))
        report.participants += len(wanted)
    return report
