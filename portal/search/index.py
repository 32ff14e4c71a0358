"""The Whoosh index of opinions: schema, one document per comment, and the outbox sync.

The database is the source of truth. Every change to what document_for() reads writes an
IndexJob row in the same transaction (portal/search/outbox.py, session events); after the
commit the single indexer (portal/search/indexer.py) calls apply_pending(), which writes the
documents, commits the Whoosh writer and only then deletes the jobs. A crash or a held lock
leaves the jobs in place and the next run repairs the index; rebuild() recreates it from the
database at any time. Requests only read: they never create the index nor take its writer.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime

from flask import Flask, current_app
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, selectinload
from whoosh import index as whoosh_index
from whoosh.fields import DATETIME, ID, KEYWORD, NUMERIC, TEXT, Schema
from whoosh.filedb.filestore import FileStorage
from whoosh.index import FileIndex, LockError
from whoosh.reading import SegmentReader
from whoosh.searching import Searcher
from whoosh.util.filelock import try_for

from portal.extensions import db
from portal.models import (
    Comment,
    IndexJob,
    Submission,
    SubmissionStatus,
)
from portal.search.analysis import chinese_analyzer
from portal.search.backend import SearchUnavailable
from portal.search.matching import CachedLengthBM25F
from portal.search.writer import FastSegmentWriter, NgramPositions, build_segments

__all__ = [
    "DOCUMENT_READS",
    "SCHEMA_VERSION",
    "IndexMissing",
    "IndexOutdated",
    "SyncReport",
    "apply_pending",
    "close_all",
    "document_for",
    "index_exists",
    "indexable_clause",
    "is_indexable",
    "iter_documents",
    "make_schema",
    "open_index",
    "rebuild",
    "status",
    "using_searcher",
]

log = logging.getLogger(__name__)

# Bump when the schema or the analyzer changes: an index with another version is rebuilt.
SCHEMA_VERSION = "2"
_MARKER = "portal-schema-version"

# Jobs applied per Whoosh commit.
BATCH_SIZE = 500
# Which segments an incremental write merges: (segments under this many documents, merged once
# there are this many of them). Whoosh's default policy merged the 26 smallest segments,
# 225,000 opinions, on the first commit after a rebuild of 1,000,000 (20 GB, many minutes).
# Merging even a few tiny segments costs 1.5-2 s at 100,000 (Whoosh copies postings one by
# one): a write that must not wait (wait=False) merges only once 40 segments under 100
# opinions have piled up; the indexer and `flask search sync` (wait=True) merge the small
# ones; larger segments are left to `flask search rebuild`.
REQUEST_MERGE = (100, 40)
SYNC_MERGE = (5000, 10)
# How long the indexer and the CLI wait for another writer (a rebuild can take minutes at
# 100k opinions).
LOCK_TIMEOUT = 600.0
# Creating a missing index: wait briefly for another process doing so.
CREATE_TIMEOUT = 10.0
# Options of every index writer: the pool's flush threshold (an estimate of the postings held
# in memory before a sorted run is written to disk), not memory allocated up front.
WRITER_OPTIONS = {"limitmb": 512}
# rebuild() writes with this many processes (SEARCH_REBUILD_PROCS overrides): the text fields
# cost about 310 postings per opinion in pure Python, and a second process nearly doubles the
# rate on the 2-core machine (docs/search.md, "Performance").
REBUILD_PROCS = min(2, os.cpu_count() or 1)


def make_schema(analyzer=None) -> Schema:
    """The fields of an opinion's document; facet fields are sortable columns.

    ``analyzer`` replaces the text analyzer (the benchmark compares analyzers with it).
    """
    analyzer = analyzer or chinese_analyzer()
    return Schema(
        id=ID(stored=True, unique=True, sortable=True),
        body=_text_field(analyzer),
        quote=_text_field(analyzer),
        draft=ID(stored=True, sortable=True),
        # Article and chapter numbers; 0 means the comment is on the whole draft.
        article=NUMERIC(int, bits=32, stored=True, sortable=True),
        chapter=NUMERIC(int, bits=32, stored=True, sortable=True),
        categories=KEYWORD(commas=True, stored=True, scorable=False),
        stance=ID(stored=True, sortable=True),
        identity=ID(stored=True, sortable=True),
        channel=ID(stored=True, sortable=True),
        decision=ID(stored=True, sortable=True),
        status=ID(stored=True, sortable=True),
        liaison_point=ID(stored=True, sortable=True),
        district=ID(stored=True, sortable=True),
        created_at=DATETIME(stored=True, sortable=True),
        raised_by=NUMERIC(int, bits=32, stored=True),
    )


def _text_field(analyzer) -> TEXT:
    """An opinion's text: stored (snippets), positions for phrases, in the NgramPositions
    format (Whoosh's Positions, written without a Token object per n-gram)."""
    field = TEXT(analyzer=analyzer, stored=True, phrase=True)
    field.format = NgramPositions(field_boost=field.format.field_boost)
    return field


SCHEMA = make_schema()


# -- what goes into the index -------------------------------------------------------------


def is_indexable(comment: Comment) -> bool:
    """Visible to the drafting team: an online or API opinion always, a liaison point's only
    once its batch is submitted (a batch still being prepared is the point's own).

    The same rule as indexable_clause(), which is the comments service's staff_visible().
    """
    submission = comment.submission
    return submission is None or submission.status == SubmissionStatus.submitted


def indexable_clause():
    """is_indexable() as an SQL condition on Comment, for counting and rebuilding: the very
    condition the drafting team's pages use, so totals and facets agree with them."""
    from portal.comments.services import staff_visible

    return staff_visible()


def _naive_utc(value: datetime | None) -> datetime:
    # Whoosh drops tzinfo without converting, so convert first.
    value = value or datetime.now(UTC)
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value


# What document_for() reads, as table -> columns: a change to any of them rewrites the document,
# and portal/search/outbox.py writes an outbox job for it. Keep in step with document_for().
DOCUMENT_READS: dict[str, frozenset[str]] = {
    "comments": frozenset(
        {
            "id",
            "body",
            "quote",
            "draft_id",
            "article_number",
            "chapter_id",
            "stance",
            "identity",
            "channel",
            "decision",
            "status",
            "created_at",
            "raised_by",
            "district",
            "submission_id",  # also decides visibility (is_indexable)
        }
    ),
    "comment_categories": frozenset({"comment_id", "category_id"}),
    "submissions": frozenset({"status", "liaison_point_id"}),  # status decides visibility
    "liaison_points": frozenset({"code", "district"}),
    "chapters": frozenset({"number"}),
}


def document_for(comment: Comment) -> dict:
    """The search document of one comment: the only place that maps a row to the index.

    Reads exactly DOCUMENT_READS (and is_indexable() decides whether it is in the index)."""
    submission = comment.submission
    point = submission.liaison_point if submission is not None else None
    doc = {
        "id": str(comment.id),
        "body": comment.body or "",
        "quote": comment.quote or "",
        "draft": str(comment.draft_id),
        "article": comment.article_number or 0,
        "chapter": comment.chapter.number if comment.chapter is not None else 0,
        "categories": ",".join(str(c) for c in sorted(cat.id for cat in comment.categories)),
        "stance": str(comment.stance or "other"),
        "identity": str(comment.identity) if comment.identity else "none",
        "channel": str(comment.channel),
        "decision": str(comment.decision) if comment.decision else "none",
        "status": str(comment.status),
        "created_at": _naive_utc(comment.created_at),
        "raised_by": comment.raised_by or 1,
    }
    # Empty values are left out rather than indexed as an empty term.
    if point is not None:
        doc["liaison_point"] = point.code
    district = comment.district or (point.district if point is not None else "")
    if district:
        doc["district"] = district
    return doc


def _load_options():
    return (
        selectinload(Comment.categories),
        selectinload(Comment.chapter),
        selectinload(Comment.submission).selectinload(Submission.liaison_point),
    )


# -- one index and one searcher per process and path ------------------------------------

_indexes: dict[str, FileIndex] = {}
_searchers: dict[str, Searcher] = {}
_search_locks: dict[str, threading.Lock] = {}
_registry_lock = threading.Lock()


def _index_path(app_or_path: Flask | str | os.PathLike | None = None) -> str:
    if app_or_path is None:
        app_or_path = current_app
    if isinstance(app_or_path, Flask):
        return os.path.abspath(app_or_path.config["INDEX_DIR"])
    return os.path.abspath(os.fspath(app_or_path))


def _has_index(path: str) -> bool:
    """A table of contents exists; cheaper than whoosh's exists_in (no schema unpickling)."""
    try:
        names = os.listdir(path)
    except OSError:
        return False
    return any(name.startswith("_MAIN_") and name.endswith(".toc") for name in names)


def _schema_current(path: str) -> bool:
    try:
        with open(os.path.join(path, _MARKER), encoding="utf-8") as fh:
            return fh.read().strip() == SCHEMA_VERSION
    except OSError:
        return False


def _create(path: str, *, replace: bool = False) -> FileIndex:
    """Create an empty index at path, under the writer lock: another process may be creating
    it at the same moment. Unless replace, an index that appeared meanwhile is kept."""
    os.makedirs(path, exist_ok=True)
    lock = FileStorage(path).lock("MAIN_WRITELOCK")
    if not try_for(lock.acquire, timeout=CREATE_TIMEOUT, delay=0.1):
        raise LockError(f"search index at {path} is locked")
    try:
        if _has_index(path) and not replace:
            return whoosh_index.open_dir(path, schema=SCHEMA)
        ix = whoosh_index.create_in(path, SCHEMA)
        with open(os.path.join(path, _MARKER), "w", encoding="utf-8") as fh:
            fh.write(SCHEMA_VERSION + "\n")
        return ix
    finally:
        lock.release()


def _forget(path: str) -> None:
    """Drop this process's cached index and searcher for path (after it was replaced).

    The searcher is not closed here: another thread may be searching with it; its files are
    closed when it is garbage-collected.
    """
    _indexes.pop(path, None)
    _searchers.pop(path, None)


class IndexMissing(SearchUnavailable):
    """There is no index on disk yet (or it was deleted): the indexer creates and fills it; a
    request never does (that would take the writer lock on the request path)."""


def index_exists(app_or_path: Flask | str | os.PathLike | None = None) -> bool:
    """Whether an index exists at INDEX_DIR (or the given path)."""
    return _has_index(_index_path(app_or_path))


def open_index(
    app_or_path: Flask | str | os.PathLike | None = None, *, create: bool = True
) -> FileIndex:
    """The index at INDEX_DIR (or the given path), opened once per process.

    Opening costs 74-515 ms, so the Index object is cached per path; a directory deleted
    behind our back is noticed. A missing index is created empty (rebuild() fills it) only
    with create=True, which writers use; readers pass create=False and get IndexMissing.
    """
    path = _index_path(app_or_path)
    with _registry_lock:
        ix = _indexes.get(path)
        if ix is not None and _has_index(path):
            return ix
        _forget(path)
        if _has_index(path):
            if not _schema_current(path):
                log.warning("search index at %s has an old schema: run flask search rebuild", path)
            # Our schema, not the pickled one: the index never depends on unpickling code.
            ix = whoosh_index.open_dir(path, schema=SCHEMA)
        elif create:
            ix = _create(path)
        else:
            raise IndexMissing(f"no search index at {path} yet: the indexer creates it")
        _indexes[path] = ix
        return ix


class IndexOutdated(SearchUnavailable):
    """The index on disk was written with an older schema or format: searching it would give
    wrong results, `flask search rebuild` (or sync) must recreate it first."""


@contextmanager
def using_searcher(app_or_path: Flask | str | os.PathLike | None = None) -> Iterator[Searcher]:
    """The process's searcher for this index, reopened only when a commit made it stale.

    Searches on one index are serialised by a lock: Whoosh searchers are not documented as
    thread-safe, and a search takes tens of milliseconds.
    """
    path = _index_path(app_or_path)
    ix = open_index(path, create=False)
    if not _schema_current(path):
        raise IndexOutdated(f"search index at {path} has an old schema: run flask search rebuild")
    with _registry_lock:
        lock = _search_locks.setdefault(path, threading.Lock())
    with lock:
        searcher = _searchers.get(path)
        if searcher is None:
            searcher = ix.searcher(weighting=CachedLengthBM25F())
        elif searcher.reader().generation() != ix.latest_generation():
            # A new commit: open fresh readers. Not Searcher.refresh(): in Whoosh-Reloaded 2.7.5
            # it reuses the old segment readers with their old deletion sets and keeps merged or
            # cleared segments, so updated opinions come back twice (docs/search.md).
            searcher.close()
            searcher = ix.searcher(weighting=CachedLengthBM25F())
        _searchers[path] = searcher
        yield searcher


def close_all() -> None:
    """Close every cached searcher and forget the indexes (tests, shutdown)."""
    with _registry_lock:
        for searcher in _searchers.values():
            searcher.close()
        _searchers.clear()
        _indexes.clear()


# -- the outbox -----------------------------------------------------------------------------


@dataclass
class SyncReport:
    """What one apply_pending() run did."""

    jobs: int = 0  # outbox rows applied and deleted
    indexed: int = 0  # documents written (inserted or replaced)
    deleted: int = 0  # documents removed (comment gone or not visible)
    locked: bool = False  # another writer held the index lock: nothing more was applied
    outdated: bool = False  # the index has an old schema: nothing applied, rebuild() needed

    @property
    def status(self) -> str:
        """'locked', 'outdated', 'applied' or 'idle'."""
        if self.locked:
            return "locked"
        if self.outdated:
            return "outdated"
        return "applied" if self.jobs else "idle"


def _writer(ix: FileIndex, *, wait: bool):
    """A writer, or LockError at once (wait=False) or after LOCK_TIMEOUT seconds."""
    timeout = LOCK_TIMEOUT if wait else 0.0
    return FastSegmentWriter(ix, timeout=timeout, delay=0.1, **WRITER_OPTIONS)


def _abandon(writer) -> None:
    """Give up a writer after a failure without committing, and above all release its lock."""
    try:
        if not writer.is_closed:
            writer.cancel()
    except Exception:
        log.exception("cancelling the index writer failed; releasing its lock")
        lock = getattr(writer, "writelock", None)
        if lock is not None:
            with suppress(Exception):
                lock.release()


def merge_policy(below: int, at_least: int):
    """A Whoosh merge policy: the segments with fewer than `below` live documents are merged
    into the new one once there are `at_least` of them; others are never touched, so a
    commit's merge stays bounded (at most below * at_least documents)."""

    def policy(writer, segments):
        small = [segment for segment in segments if segment.doc_count() < below]
        if len(small) < at_least:
            return segments
        for segment in small:
            reader = SegmentReader(writer.storage, writer.schema, segment)
            try:
                writer.add_reader(reader)
            finally:
                reader.close()
        merged = {id(segment) for segment in small}
        return [segment for segment in segments if id(segment) not in merged]

    return policy


def apply_pending(limit: int | None = None, *, wait: bool = False) -> SyncReport:
    """Apply outbox jobs, oldest first, in batches; each batch is committed to the index
    before its jobs are deleted from the database.

    Jobs for the same comment collapse into one write of the comment's current state: the
    row decides, not the job's action. With wait=False a held lock returns at once with
    report.locked; with wait=True the lock is awaited up to LOCK_TIMEOUT. A failure while
    writing cancels the Whoosh writer and raises, leaving every job of the batch in place.
    """
    report = SyncReport()
    ix = open_index()
    if not _schema_current(_index_path()):
        # New documents in another format beside the old segments would be unreadable:
        # the jobs wait for rebuild() (`flask search sync` runs it).
        report.outdated = True
        return report
    with Session(db.engine) as session:
        while limit is None or report.jobs < limit:
            size = BATCH_SIZE if limit is None else min(BATCH_SIZE, limit - report.jobs)
            jobs = session.execute(
                select(IndexJob.id, IndexJob.comment_id).order_by(IndexJob.id).limit(size)
            ).all()
            if not jobs:
                break
            try:
                writer = _writer(ix, wait=wait)
            except LockError:
                report.locked = True
                break
            comment_ids = sorted({job.comment_id for job in jobs})
            try:
                comments = {
                    c.id: c
                    for c in session.scalars(
                        select(Comment).where(Comment.id.in_(comment_ids)).options(*_load_options())
                    )
                }
                for comment_id in comment_ids:
                    comment = comments.get(comment_id)
                    if comment is not None and is_indexable(comment):
                        writer.update_document(**document_for(comment))
                        report.indexed += 1
                    else:
                        writer.delete_by_term("id", str(comment_id))
                        report.deleted += 1
                writer.commit(mergetype=merge_policy(*(SYNC_MERGE if wait else REQUEST_MERGE)))
            except BaseException:
                _abandon(writer)
                raise
            # Only now: if this fails, the jobs stay and are applied again (idempotent). The
            # reading transaction ends first: on SQLite (WAL) a write after a read whose
            # snapshot another writer has since moved past fails at once with "locked".
            session.commit()
            session.execute(delete(IndexJob).where(IndexJob.id.in_([job.id for job in jobs])))
            session.commit()
            session.expunge_all()
            report.jobs += len(jobs)
    return report


def iter_documents(session: Session, batch_size: int = 1000) -> Iterator[list[dict]]:
    """The documents of every visible comment, in batches, by id (what rebuild() writes).

    Batches are windows of ids (`lo <= id < lo + batch_size`), not "the next batch_size
    after the last id": with the visibility condition (an OR) SQLite gathered every remaining
    row and sorted it for each batch, a quadratic rebuild (reading 1,000,000 opinions took
    458 s, 2,185 a second, against 5,400 a second at 100,000). Comments added after the first
    query have outbox jobs that the rebuild leaves in place.
    """
    lowest, highest = session.execute(select(func.min(Comment.id), func.max(Comment.id))).one()
    if lowest is None:
        return
    for start in range(lowest, highest + 1, batch_size):
        comments = session.scalars(
            select(Comment)
            .where(indexable_clause(), Comment.id >= start, Comment.id < start + batch_size)
            .order_by(Comment.id)
            .options(*_load_options())
        ).all()
        if comments:
            yield [document_for(comment) for comment in comments]
        session.expunge_all()


def rebuild(batch_size: int = 1000) -> int:
    """Rebuild the whole index from the database; return the number of documents.

    The writers add every visible comment and commit with CLEAR, which swaps the new segments
    in for all old ones at once: searches see the old index until then. Jobs that existed at
    the start are deleted afterwards; later ones stay for the next sync.
    """
    path = _index_path()
    if _has_index(path) and not _schema_current(path):
        with _registry_lock:
            _forget(path)
            _create(path, replace=True)
    ix = open_index(path)
    procs = int(current_app.config.get("SEARCH_REBUILD_PROCS") or REBUILD_PROCS)
    with Session(db.engine) as session:
        last_job = session.scalar(select(func.max(IndexJob.id)))
        count = build_segments(
            ix,
            iter_documents(session, batch_size),
            procs=procs,
            timeout=LOCK_TIMEOUT,
            delay=0.1,
            **WRITER_OPTIONS,
        )
        if last_job is not None:
            session.commit()  # end the long read first (see apply_pending)
            session.execute(delete(IndexJob).where(IndexJob.id <= last_job))
            session.commit()
    return count


def status() -> dict:
    """Documents in the index, comments that should be in it, jobs waiting, and in_sync."""
    path = _index_path()
    # Never creates the index (status() may be asked from a request): a missing one holds 0.
    documents = open_index(path, create=False).doc_count() if _has_index(path) else 0
    # Its own short transaction: what is committed now, not the caller's earlier snapshot.
    with Session(db.engine) as session:
        expected = session.scalar(select(func.count(Comment.id)).where(indexable_clause()))
        pending = session.scalar(select(func.count(IndexJob.id)))
    # A missing index has no old schema: it holds nothing, which rebuild() repairs.
    schema_current = _schema_current(path) or not _has_index(path)
    return {
        "documents": documents,
        "expected": expected,
        "pending": pending,
        "schema_current": schema_current,
        "in_sync": schema_current and pending == 0 and documents == expected,
    }
