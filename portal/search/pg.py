"""The PostgreSQL search backend: opinions searched where they are stored.

Each opinion the drafting team may see has a row in comment_search (portal/models/search.py):
the same analyzer's tokens as the Whoosh index (portal/search/analysis.py: character unigrams
and bigrams with their positions, article references as one token; synonyms are expanded at
query time, as for Whoosh) stored as a tsvector, and the facet values. No text search
configuration touches the tokens: they are written and queried as literal lexemes, which is
what the 'simple' configuration would keep. The row is written in the transaction that changes
the opinion (apply_in_transaction, called by the outbox's session hook before the commit), so
an opinion is searchable the moment it is committed and app hosts hold no search state.

Queries are parsed by portal/search/query.py (one syntax for both engines) and compiled here:
text into one tsquery where it can be (a word is a phrase of its bigrams, ``<->``), facet
terms into column conditions, the two combined with AND / OR / NOT in SQL. The total, the
page and the facet counts come from one statement over the matches. Relevance is ts_rank,
not Whoosh's BM25F, so the order of equally relevant opinions may differ between engines;
the matches, totals, facets, filters, field sorts and snippets are the same
(tests/search/test_pg*.py, and the search tests run against both engines on PostgreSQL).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    Integer,
    Text,
    and_,
    cast,
    delete,
    false,
    func,
    literal,
    not_,
    or_,
    select,
    true,
    type_coerce,
    union_all,
)
from sqlalchemy.dialects.postgresql import ARRAY, TSQUERY, TSVECTOR, aggregate_order_by
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session
from whoosh.query import And, AndNot, Every, NumericRange, Or, Phrase, Query, Term
from whoosh.query.qcore import _NullQuery

from portal.extensions import db
from portal.models import (
    Chapter,
    Comment,
    CommentSearch,
    IndexJob,
    LiaisonPoint,
    Submission,
    comment_categories,
)
from portal.search.analysis import chinese_analyzer
from portal.search.backend import SearchUnavailable
from portal.search.query import (
    FACET_FIELDS,
    MAX_PER_PAGE,
    SORTS,
    TEXT_FIELDS,
    SearchParams,
    SearchResult,
    _local_midnight_utc,
    _parse,
    snippet,
)

__all__ = [
    "PostgresBackend",
    "apply_in_transaction",
    "compile_query",
    "tsquery_phrase",
    "tsvector_text",
    "write_documents",
]

log = logging.getLogger(__name__)

# Comments read, tokenised and written per statement (apply, rebuild).
BATCH_SIZE = 1000
# PostgreSQL keeps positions 1..16383 (larger ones become 16383) and a lexeme of at most 2 KB:
# opinions are at most 5,000 characters and quotes 1,000, far below; longer words are cut
# the same way in documents and queries, so they still find each other.
MAX_POSITION = 16383
MAX_LEXEME_CHARS = 500
# Positions between the opinion and its quote: a phrase never spans the two fields.
FIELD_GAP = 2

_analyzer = chinese_analyzer()
_TABLE = CommentSearch.__table__
_TSV = type_coerce(CommentSearch.tsv, TSVECTOR)


# -- documents ------------------------------------------------------------------------------


def _lexeme(token: str) -> str:
    """A token as a quoted lexeme of tsvector / tsquery input syntax."""
    token = token[:MAX_LEXEME_CHARS]
    if "'" in token or "\\" in token:
        token = token.replace("\\", "\\\\").replace("'", "''")
    return f"'{token}'"


# Position numbers as text, precomputed: formatting them was most of the cost of a document.
_POSITIONS = [str(min(p, MAX_POSITION)) for p in range(MAX_POSITION + 8192)]


def tsvector_text(body: str, quote: str = "") -> str:
    """The tsvector (input syntax) of an opinion: its body's tokens with their positions
    (1-based), then its quote's after a gap, exactly the tokens the Whoosh index holds."""
    fields = [postings for postings in (_postings(body), _postings(quote)) if postings]
    if not fields:
        return ""
    if len(fields) == 1:
        merged = {token: [p + 1 for p in positions] for token, positions in fields[0].items()}
    else:
        body_postings, quote_postings = fields
        offset = max(positions[-1] for positions in body_postings.values()) + 2 + FIELD_GAP
        merged = {token: [p + 1 for p in positions] for token, positions in body_postings.items()}
        for token, positions in quote_postings.items():
            merged.setdefault(token, []).extend(p + offset for p in positions)
    table = _POSITIONS
    if max(positions[-1] for positions in merged.values()) >= len(table):
        table = _ClampedPositions()
    return " ".join(
        f"{_lexeme(token)}:{','.join([table[p] for p in positions])}"
        for token, positions in merged.items()
    )


class _ClampedPositions:
    """_POSITIONS for texts longer than it: PostgreSQL keeps 16383 as the last position."""

    def __getitem__(self, position: int) -> str:
        return str(min(position, MAX_POSITION))


def _postings(text: str) -> dict[str, list[int]]:
    if not text:
        return {}
    postings = _analyzer.term_positions(text)
    if any(len(token) > MAX_LEXEME_CHARS for token in postings):
        cut: dict[str, list[int]] = {}
        for token, positions in postings.items():
            cut.setdefault(token[:MAX_LEXEME_CHARS], []).extend(positions)
        postings = {token: sorted(set(positions)) for token, positions in cut.items()}
    return postings


def _visible_clause():
    """The drafting team's visibility rule (the Whoosh backend's indexable_clause)."""
    from portal.search.index import indexable_clause

    return indexable_clause()


def _document_select(ids_clause):
    """One row per visible comment matching ids_clause, with every value of its document."""
    return (
        select(
            Comment.id,
            Comment.draft_id,
            Comment.article_number,
            Chapter.number.label("chapter_number"),
            Comment.stance,
            Comment.identity,
            Comment.channel,
            Comment.decision,
            Comment.status,
            LiaisonPoint.code.label("point_code"),
            LiaisonPoint.district.label("point_district"),
            Comment.district,
            Comment.created_at,
            Comment.body,
            Comment.quote,
        )
        .outerjoin(Chapter, Chapter.id == Comment.chapter_id)
        .outerjoin(Submission, Submission.id == Comment.submission_id)
        .outerjoin(LiaisonPoint, LiaisonPoint.id == Submission.liaison_point_id)
        .where(ids_clause, _visible_clause())
        .order_by(Comment.id)
    )


def _document(row, categories: list[int]) -> dict:
    """The comment_search row of a comment: the values of the Whoosh document_for()."""
    return {
        "comment_id": row.id,
        "draft_id": row.draft_id,
        "article": row.article_number or 0,
        "chapter": row.chapter_number or 0,
        "categories": sorted(categories),
        "stance": str(row.stance or "other"),
        "identity": str(row.identity) if row.identity else "none",
        "channel": str(row.channel),
        "decision": str(row.decision) if row.decision else "none",
        "status": str(row.status),
        "liaison_point": row.point_code or "",
        "district": row.district or row.point_district or "",
        "created_at": row.created_at or datetime.now(UTC),
        "tsv": tsvector_text(row.body or "", row.quote or ""),
    }


def _documents(session, ids_clause, category_clause) -> list[dict]:
    rows = session.execute(_document_select(ids_clause)).all()
    categories: dict[int, list[int]] = {}
    if rows:
        for comment_id, category_id in session.execute(
            select(comment_categories.c.comment_id, comment_categories.c.category_id).where(
                category_clause
            )
        ):
            categories.setdefault(comment_id, []).append(category_id)
    return [_document(row, categories.get(row.id, [])) for row in rows]


def _chunks(items: list[int], size: int) -> Iterator[list[int]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def write_documents(session, comment_ids: Iterable[int]) -> tuple[int, int]:
    """Write the current document of each comment (insert or replace) and remove those of
    comments that are gone or not visible, in the session's transaction. Returns (written,
    removed)."""
    written = removed = 0
    for chunk in _chunks(sorted(set(comment_ids)), BATCH_SIZE):
        docs = _documents(
            session, Comment.id.in_(chunk), comment_categories.c.comment_id.in_(chunk)
        )
        if docs:
            statement = pg_insert(_TABLE)
            columns = {c.name: statement.excluded[c.name] for c in _TABLE.columns}
            del columns["comment_id"]
            session.execute(
                statement.on_conflict_do_update(index_elements=["comment_id"], set_=columns),
                docs,
            )
        visible = {doc["comment_id"] for doc in docs}
        gone = [comment_id for comment_id in chunk if comment_id not in visible]
        if gone:
            result = session.execute(delete(_TABLE).where(_TABLE.c.comment_id.in_(gone)))
            removed += result.rowcount or 0
        written += len(docs)
    return written, removed


def _report():
    from portal.search.index import SyncReport

    return SyncReport()


def apply_in_transaction(session, comment_ids: Iterable[int]):
    """Bring the documents of these comments up to date inside the session's transaction and
    delete their outbox rows: called by the outbox hook just before the commit, so the
    opinion and its document are committed together (or not at all)."""
    report = _report()
    ids = sorted(set(comment_ids))
    if not ids:
        return report
    report.indexed, report.deleted = write_documents(session, ids)
    for chunk in _chunks(ids, BATCH_SIZE):
        result = session.execute(delete(IndexJob).where(IndexJob.comment_id.in_(chunk)))
        report.jobs += result.rowcount or 0
    return report


# -- compiling queries ----------------------------------------------------------------------


class _Ts(str):
    """A tsquery in input syntax (text only: it can be one @@ on the GIN index)."""


class _All:
    """Matches every document."""


class _None:
    """Matches nothing."""


ALL, NONE = _All(), _None()


def tsquery_phrase(tokens: list[str]) -> str:
    """Tokens at consecutive positions, the tsquery of a word (its bigrams) or a phrase."""
    return " <-> ".join(_lexeme(token) for token in tokens)


def _match(tsquery: str):
    return _TSV.op("@@")(cast(literal(tsquery, Text), TSQUERY))


def _as_clause(node):
    if node is ALL:
        return true()
    if node is NONE:
        return false()
    if isinstance(node, _Ts):
        return _match(node)
    return node


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


_COLUMNS = {
    "stance": CommentSearch.stance,
    "identity": CommentSearch.identity,
    "channel": CommentSearch.channel,
    "decision": CommentSearch.decision,
    "status": CommentSearch.status,
    "liaison_point": CommentSearch.liaison_point,
    "district": CommentSearch.district,
}
_CATEGORIES = type_coerce(CommentSearch.categories, ARRAY(Integer))


def _field_term(fieldname: str, value: str):
    if fieldname in ("draft", "id", "categories"):
        number = _int(value)
        if number is None:
            return NONE
        if fieldname == "draft":
            return CommentSearch.draft_id == number
        if fieldname == "id":
            return CommentSearch.comment_id == number
        return _CATEGORIES.contains([number])
    column = _COLUMNS.get(fieldname)
    if column is None:
        return NONE
    return column == value


def _numeric_range(query: NumericRange):
    column = {"article": CommentSearch.article, "chapter": CommentSearch.chapter}.get(
        query.fieldname
    )
    if column is None:
        return NONE
    parts = []
    if query.start is not None:
        parts.append(column > query.start if query.startexcl else column >= query.start)
    if query.end is not None:
        parts.append(column < query.end if query.endexcl else column <= query.end)
    return and_(*parts) if parts else ALL


@dataclass
class Compiled:
    """A query as SQL: the WHERE condition and the tsquery that ranks (its words that are not
    negated), or None when nothing ranks."""

    condition: Any
    rank: str | None


def compile_query(query: Query | None) -> Compiled:
    """The parser's Whoosh query tree (portal/search/query.py) as an SQL condition."""
    if query is None:
        return Compiled(true(), None)
    ranked: list[str] = []
    node = _compile(query, ranked, negated=False)
    rank = " | ".join(f"({part})" for part in dict.fromkeys(ranked)) or None
    return Compiled(_as_clause(node), rank)


def _compile(query: Query, ranked: list[str], *, negated: bool):
    if isinstance(query, _NullQuery):
        return NONE
    if isinstance(query, Every):
        return ALL
    if isinstance(query, Term):
        if query.fieldname in TEXT_FIELDS:
            text = query.text.decode() if isinstance(query.text, bytes) else query.text
            tsquery = _Ts(_lexeme(text))
            if not negated:
                ranked.append(tsquery)
            return tsquery
        return _field_term(query.fieldname, query.text)
    if isinstance(query, Phrase):
        tsquery = _Ts(tsquery_phrase(list(query.words)))
        if not negated:
            ranked.append(tsquery)
        return tsquery
    if isinstance(query, NumericRange):
        return _numeric_range(query)
    if isinstance(query, AndNot):
        positive = _compile(query.a, ranked, negated=negated)
        negative = _compile(query.b, ranked, negated=not negated)
        return _and_not(positive, negative)
    if isinstance(query, And):
        return _and([_compile(q, ranked, negated=negated) for q in query.subqueries])
    if isinstance(query, Or):
        return _or([_compile(q, ranked, negated=negated) for q in query.subqueries])
    # The parser builds nothing else; an unknown node matches nothing rather than everything.
    log.warning("search query node %r is not supported by the PostgreSQL backend", query)
    return NONE


def _and(parts: list):
    if any(part is NONE for part in parts):
        return NONE
    parts = [part for part in parts if part is not ALL]
    if not parts:
        return ALL
    texts = list(dict.fromkeys(part for part in parts if isinstance(part, _Ts)))
    others = [part for part in parts if not isinstance(part, _Ts)]
    text = _Ts(" & ".join(f"({t})" for t in texts)) if texts else None
    if not others:
        return text
    if text is not None:
        others.insert(0, _match(text))
    return others[0] if len(others) == 1 else and_(*others)


def _or(parts: list):
    if any(part is ALL for part in parts):
        return ALL
    parts = [part for part in parts if part is not NONE]
    if not parts:
        return NONE
    texts = list(dict.fromkeys(part for part in parts if isinstance(part, _Ts)))
    others = [part for part in parts if not isinstance(part, _Ts)]
    text = _Ts(" | ".join(f"({t})" for t in texts)) if texts else None
    if not others:
        return text
    if text is not None:
        others.insert(0, _match(text))
    return others[0] if len(others) == 1 else or_(*others)


def _and_not(positive, negative):
    if positive is NONE or negative is ALL:
        return NONE
    if negative is NONE:
        return positive
    if isinstance(negative, _Ts):
        if positive is ALL:
            return _Ts(f"!({negative})")
        if isinstance(positive, _Ts):
            return _Ts(f"({positive}) & !({negative})")
    return and_(_as_clause(positive), not_(_as_clause(negative)))


def _filters(params: SearchParams, tz: ZoneInfo) -> list:
    """The filters of params as conditions (the Whoosh backend's _filter_mask)."""
    conditions = []
    if params.draft_id is not None:
        conditions.append(CommentSearch.draft_id == params.draft_id)
    if params.article is not None:
        conditions.append(CommentSearch.article == params.article)
    if params.chapter is not None:
        conditions.append(CommentSearch.chapter == params.chapter)
    if params.category_ids:
        wanted = sorted({int(c) for c in params.category_ids})
        conditions.append(_CATEGORIES.overlap(wanted))
    for name in ("stance", "identity", "channel", "decision"):
        value = getattr(params, name)
        if value:
            conditions.append(_COLUMNS[name] == str(value).lower())
    if params.liaison_point:
        conditions.append(CommentSearch.liaison_point == params.liaison_point)
    if params.district:
        conditions.append(CommentSearch.district == params.district)
    if params.date_from:
        start = _local_midnight_utc(params.date_from, tz).replace(tzinfo=UTC)
        conditions.append(CommentSearch.created_at >= start)
    if params.date_to:
        end = _local_midnight_utc(params.date_to + timedelta(days=1), tz).replace(tzinfo=UTC)
        conditions.append(CommentSearch.created_at < end)
    return conditions


@dataclass
class _Plan:
    """The condition, the order (column names of comment_search or "rank", descending or
    not) and the ranking expression of a search."""

    condition: Any
    order: list[tuple[str, bool]]
    rank: Any
    needles: list[str]

    def order_by(self, source) -> list:
        """The order as expressions on comment_search (source None) or on a CTE of it."""
        keys = []
        for name, descending in self.order:
            if source is None:
                column = self.rank if name == "rank" else getattr(CommentSearch, name)
            else:
                column = source.c[name]
            keys.append(column.desc() if descending else column)
        return keys


def _plan(params: SearchParams, tz: ZoneInfo) -> _Plan:
    query, needles = _parse(params.q)
    compiled = compile_query(query)
    condition = and_(compiled.condition, *_filters(params, tz))
    sort = params.sort if params.sort in SORTS else "relevance"
    rank = None
    if sort == "relevance" and query is None:
        sort = "newest"  # browsing has no relevance: newest first, as the Whoosh backend
    # Ties by id, as the Whoosh backend orders ties by document number (the order written).
    if sort == "relevance":
        if compiled.rank is not None:
            rank = func.ts_rank(_TSV, cast(literal(compiled.rank, Text), TSQUERY))
            order = [("rank", True), ("comment_id", False)]
        else:
            order = [("comment_id", False)]  # facet terms only: all equally relevant
    elif sort == "oldest":
        order = [("created_at", False), ("comment_id", False)]
    elif sort == "article":
        order = [("article", False), ("created_at", False), ("comment_id", False)]
    else:
        order = [("created_at", True), ("comment_id", False)]
    return _Plan(condition, order, rank, needles)


# -- running a search -----------------------------------------------------------------------

_CODED = tuple(name for name in FACET_FIELDS if name != "categories")
_FACET_COLUMN = {"draft": "draft_id", "article": "article", "chapter": "chapter"}
_INT_FACETS = frozenset({"draft", "article", "chapter", "categories"})


def _facet_value(name: str, text: str) -> Any:
    return int(text) if name in _INT_FACETS else text


def run_search(
    session,
    params: SearchParams,
    *,
    page: int = 1,
    per_page: int = 20,
    tz: ZoneInfo | None = None,
    facets: bool = True,
) -> SearchResult:
    """search() on a given session or connection; no Flask needed (the benchmark calls this).

    One statement: the matches once (a CTE), then the page in order, the total and the
    count of every facet value over the whole result.
    """
    page = max(1, int(page))
    per_page = max(1, min(int(per_page), MAX_PER_PAGE))
    plan = _plan(params, tz or ZoneInfo("UTC"))
    columns = [CommentSearch.comment_id, CommentSearch.created_at, CommentSearch.article]
    if facets:
        columns += [getattr(CommentSearch, _FACET_COLUMN.get(name, name)) for name in _CODED] + [
            CommentSearch.categories
        ]
    if plan.rank is not None:
        columns.append(plan.rank.label("rank"))
    matches = select(*columns).where(plan.condition).cte("matches")
    m = matches.c
    # The page: a top-N sort of the matches, its ids joined into one text value in order.
    window = (
        select(matches)
        .order_by(*plan.order_by(matches))
        .limit(per_page)
        .offset((page - 1) * per_page)
        .subquery("page")
    )
    page_ids = func.array_to_string(
        func.array_agg(aggregate_order_by(window.c.comment_id, *plan.order_by(window))), ","
    )
    parts = [
        select(literal("#"), literal(None, Text), func.count()).select_from(matches),
        select(literal(""), page_ids, literal(0)).select_from(window),
    ]
    if facets:
        for name in _CODED:
            column = m[_FACET_COLUMN.get(name, name)]
            parts.append(
                select(literal(name), cast(column, Text), func.count())
                .select_from(matches)
                .group_by(column)
            )
        values = (
            func.unnest(type_coerce(m.categories, ARRAY(Integer)))
            .table_valued("value")
            .render_derived()
        )
        parts.append(
            select(literal("categories"), cast(values.c.value, Text), func.count())
            .select_from(matches)
            .join(values, true())
            .group_by(values.c.value)
        )
    rows = session.execute(union_all(*(part.subquery().select() for part in parts))).all()
    ids: list[int] = []
    total = 0
    counts: dict[str, list[tuple[Any, int]]] = {name: [] for name in FACET_FIELDS}
    for kind, value, number in rows:
        if kind == "":
            ids = [int(v) for v in value.split(",")] if value else []
        elif kind == "#":
            total = number
        elif value not in (None, ""):
            counts[kind].append((_facet_value(kind, value), number))
    for items in counts.values():
        items.sort(key=lambda item: (-item[1], str(item[0]).zfill(12)))
    return SearchResult(
        total=total,
        ids=ids,
        highlights=_highlights(session, ids, plan.needles),
        facets=counts if facets else {},
        page=page,
        per_page=per_page,
    )


def _highlights(session, ids: list[int], needles: list[str]) -> dict:
    if not ids:
        return {}
    rows = session.execute(select(Comment.id, Comment.body).where(Comment.id.in_(ids)))
    bodies = {comment_id: body for comment_id, body in rows}
    return {comment_id: snippet(bodies.get(comment_id) or "", needles) for comment_id in ids}


def run_matching_ids(
    session, params: SearchParams, *, limit: int | None = None, tz: ZoneInfo | None = None
) -> list[int]:
    plan = _plan(params, tz or ZoneInfo("UTC"))
    statement = (
        select(CommentSearch.comment_id).where(plan.condition).order_by(*plan.order_by(None))
    )
    if limit is not None:
        statement = statement.limit(limit)
    return list(session.scalars(statement))


def run_count(session, params: SearchParams, *, tz: ZoneInfo | None = None) -> int:
    plan = _plan(params, tz or ZoneInfo("UTC"))
    return session.scalar(select(func.count()).select_from(_TABLE).where(plan.condition))


# -- rebuilding -----------------------------------------------------------------------------

_COPY_COLUMNS = [c.name for c in _TABLE.columns]


def _copy_value(name: str, value: Any) -> Any:
    if name == "categories":
        return "{" + ",".join(str(v) for v in value) + "}"
    return value


def rebuild_documents(session: Session, batch_size: int = BATCH_SIZE) -> int:
    """Replace every document with one built from the database, in one transaction that
    sees one snapshot (REPEATABLE READ): searches see the old documents until the commit,
    and opinions committed meanwhile keep their own rows and outbox jobs. Rows go in with
    COPY. Returns the number of documents."""
    session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
    last_job = session.scalar(select(func.max(IndexJob.id)))
    lowest, highest = session.execute(select(func.min(Comment.id), func.max(Comment.id))).one()
    session.execute(delete(_TABLE))
    count = 0
    if lowest is not None:
        raw = session.connection().connection.driver_connection
        statement = f"COPY comment_search ({', '.join(_COPY_COLUMNS)}) FROM STDIN"
        for start in range(lowest, highest + 1, batch_size):
            window = and_(Comment.id >= start, Comment.id < start + batch_size)
            category_window = and_(
                comment_categories.c.comment_id >= start,
                comment_categories.c.comment_id < start + batch_size,
            )
            docs = _documents(session, window, category_window)
            if not docs:
                continue
            # One COPY per window: the connection cannot read while a COPY is open.
            with raw.cursor() as cursor, cursor.copy(statement) as copy:
                for doc in docs:
                    copy.write_row([_copy_value(name, doc[name]) for name in _COPY_COLUMNS])
            count += len(docs)
    if last_job is not None:
        session.execute(delete(IndexJob).where(IndexJob.id <= last_job))
    session.commit()
    return count


# -- the backend ----------------------------------------------------------------------------


def _timezone() -> ZoneInfo:
    from flask import current_app

    return ZoneInfo(current_app.config.get("BABEL_DEFAULT_TIMEZONE") or "UTC")


class PostgresBackend:
    """Search in PostgreSQL: comment_search's tsvector (GIN) and facet columns."""

    def __init__(self) -> None:
        if db.engine.dialect.name != "postgresql":
            raise SearchUnavailable(
                "SEARCH_BACKEND 'postgres' needs a PostgreSQL database "
                f"(this one is {db.engine.dialect.name})"
            )

    def apply_in_transaction(self, session, comment_ids):
        return apply_in_transaction(session, comment_ids)

    def apply_pending(self, limit=None, *, wait=False):
        """Apply outbox rows left by transactions that did not (jobs written by hand, a
        switch of backend), oldest first; rows another process is applying are skipped."""
        report = _report()
        with Session(db.engine) as session:
            while limit is None or report.jobs < limit:
                size = BATCH_SIZE if limit is None else min(BATCH_SIZE, limit - report.jobs)
                jobs = session.execute(
                    select(IndexJob.id, IndexJob.comment_id)
                    .order_by(IndexJob.id)
                    .limit(size)
                    .with_for_update(skip_locked=True)
                ).all()
                if not jobs:
                    break
                indexed, deleted = write_documents(session, {job.comment_id for job in jobs})
                session.execute(delete(IndexJob).where(IndexJob.id.in_([j.id for j in jobs])))
                session.commit()
                report.jobs += len(jobs)
                report.indexed += indexed
                report.deleted += deleted
        return report

    def rebuild(self):
        with Session(db.engine) as session:
            return rebuild_documents(session)

    def status(self):
        session = db.session
        documents = session.scalar(select(func.count()).select_from(_TABLE))
        expected = session.scalar(select(func.count(Comment.id)).where(_visible_clause()))
        pending = session.scalar(select(func.count(IndexJob.id)))
        return {
            "documents": documents,
            "expected": expected,
            "pending": pending,
            "schema_current": True,
            "in_sync": pending == 0 and documents == expected,
        }

    def search(self, params, *, page=1, per_page=20):
        return run_search(db.session, params, page=page, per_page=per_page, tz=_timezone())

    def matching_ids(self, params, *, limit=None):
        return run_matching_ids(db.session, params, limit=limit, tz=_timezone())

    def count(self, params):
        return run_count(db.session, params, tz=_timezone())
