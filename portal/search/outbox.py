"""The search outbox, written by one mechanism: SQLAlchemy session events.

Every change to what an opinion's search document reads (index.DOCUMENT_READS: the comment's
own columns, its categories, its submission's status and point, the point's code and district,
its chapter's number) writes an IndexJob row in the same transaction as the change, whoever
made it: a service, the CLI, a test. Nothing has to remember to call anything.

- after_flush sees every flush, autoflushes included (a before_commit hook alone would miss
  objects flushed early: GUIDE.md point 8); before_flush notes, while the rows still exist,
  which opinions a deletion takes out of the index.
- do_orm_execute sees bulk UPDATE/DELETE statements (and INSERTs into comment_categories):
  it selects the opinions they touch and writes their jobs; a bulk INSERT of comments, which
  it cannot follow, is refused with OutboxError.
- before_commit hands the transaction's opinions to get_backend().apply_in_transaction(), so
  an engine inside the database can update them before the commit; the Whoosh engine leaves
  the jobs to the indexer (portal/search/indexer.py).

session.info["outbox_comment_ids"] holds the ids whose jobs this transaction wrote, so an
opinion changed in several flushes gets one job. Jobs are written only for opinions the
drafting team can see (or could see before the change): a liaison batch still being prepared
is nobody's search result.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Iterable

from flask import Flask, has_app_context
from sqlalchemy import event, insert, inspect, select, true
from sqlalchemy.orm import ORMExecuteState, Session

from portal.models import (
    Category,
    Chapter,
    Comment,
    Draft,
    IndexAction,
    IndexJob,
    LiaisonPoint,
    Submission,
    SubmissionStatus,
)
from portal.models.review import comment_categories
from portal.search.index import DOCUMENT_READS, indexable_clause

IDS_KEY = "outbox_comment_ids"  # the ids whose IndexJob rows this transaction wrote
_GONE_KEY = "_outbox_gone"  # noted by before_flush: opinions this flush deletes
_TOUCHED_KEY = "_outbox_touched"  # noted by before_flush: opinions whose parent it deletes
_SAVEPOINTS_KEY = "_outbox_savepoints"  # savepoint -> the ids written before it began
_CHUNK = 500  # ids per IN (...) list


class OutboxError(RuntimeError):
    """A statement would change opinions behind the outbox's back; refused, nothing done."""


# -- which opinions ------------------------------------------------------------------------


def _chunks(ids: Iterable[int]) -> Iterable[list[int]]:
    ordered = sorted(set(ids))
    for start in range(0, len(ordered), _CHUNK):
        yield ordered[start : start + _CHUNK]


def _visible(session: Session, ids: Iterable[int]) -> set[int]:
    """Those of ids the drafting team sees now (index.is_indexable, in SQL)."""
    found: set[int] = set()
    connection = session.connection()
    for chunk in _chunks(ids):
        found.update(
            connection.scalars(
                select(Comment.id).where(Comment.id.in_(chunk), indexable_clause())
            ).all()
        )
    return found


def _ids_where(session: Session, criterion, *, visible_only: bool = True) -> set[int]:
    """The ids of the opinions matching an SQL criterion on Comment."""
    query = select(Comment.id).where(criterion)
    if visible_only:
        query = query.where(indexable_clause())
    return set(session.connection().scalars(query).all())


@functools.cache
def _attribute_keys(mapper, columns: frozenset[str], also: tuple[str, ...]) -> tuple[str, ...]:
    """The mapped attributes that set these columns: the columns' own and the many-to-one
    relationships through them (comment.chapter = ... sets chapter_id only during the flush)."""
    keys = {attr.key for attr in mapper.column_attrs if attr.columns[0].name in columns}
    keys.update(
        rel.key
        for rel in mapper.relationships
        if any(column.name in columns for column in rel.local_columns)
    )
    return tuple(sorted(keys | set(also)))


def _changed(obj, columns: frozenset[str], also: tuple[str, ...] = ()) -> bool:
    """Whether the flush changes one of these columns of obj, or one of the `also` attributes."""
    state = inspect(obj)
    keys = _attribute_keys(state.mapper, columns, also)
    return any(state.attrs[key].history.has_changes() for key in keys)


def _history_ids(obj, key: str) -> set[int]:
    """The ids of the objects added to or removed from a collection in this flush."""
    history = inspect(obj).attrs[key].history
    return {item.id for item in (*history.added, *history.deleted) if item.id is not None}


def _submission_status_changed(submission: Submission) -> bool:
    history = inspect(submission).attrs.status.history
    if not history.has_changes():
        return False
    return SubmissionStatus.submitted in (*history.added, *history.deleted)


# -- writing jobs ---------------------------------------------------------------------------


def _write_jobs(session: Session, ids: Iterable[int], action: IndexAction) -> None:
    """Insert one job per opinion not yet queued by this transaction, on the transaction's
    connection (adding objects to a session inside its flush is not allowed)."""
    written: set[int] = session.info.setdefault(IDS_KEY, set())
    new = sorted(set(ids) - written)
    if not new:
        return
    session.connection().execute(
        insert(IndexJob), [{"comment_id": cid, "action": action} for cid in new]
    )
    written.update(new)


def _before_flush(session: Session, flush_context, instances) -> None:
    """Note, while the rows still exist, the visible opinions this flush deletes or whose
    parent it deletes (the database's cascades then change them unseen by the session)."""
    gone: set[int] = set()
    touched: set[int] = set()
    deleted = list(session.deleted)
    comments = [obj.id for obj in deleted if isinstance(obj, Comment) and obj.id is not None]
    if comments:
        gone |= _visible(session, comments)
    for obj in deleted:
        if isinstance(obj, Submission):
            touched |= _ids_where(session, Comment.submission_id == obj.id)
        elif isinstance(obj, Draft):
            touched |= _ids_where(session, Comment.draft_id == obj.id)
        elif isinstance(obj, Chapter):
            touched |= _ids_where(session, Comment.chapter_id == obj.id)
        elif isinstance(obj, Category):
            in_category = select(comment_categories.c.comment_id).where(
                comment_categories.c.category_id == obj.id
            )
            touched |= _ids_where(session, Comment.id.in_(in_category))
    session.info[_GONE_KEY] = gone
    session.info[_TOUCHED_KEY] = touched - gone


def _after_flush(session: Session, flush_context) -> None:
    """Write the jobs of this flush: new and changed opinions and those their parents'
    changes affect. Histories and the new/dirty lists still show what the flush did."""
    gone = session.info.pop(_GONE_KEY, set())
    candidates: set[int] = set(session.info.pop(_TOUCHED_KEY, set()))
    always: set[int] = set()  # visibility changed: the index must follow either way
    comment_columns = DOCUMENT_READS["comments"]
    for obj in session.new:
        if isinstance(obj, Comment):
            candidates.add(obj.id)
    for obj in session.dirty:
        if isinstance(obj, Comment):
            if _changed(obj, frozenset({"submission_id"})):
                always.add(obj.id)
            elif _changed(obj, comment_columns, also=("categories",)):
                candidates.add(obj.id)
        elif isinstance(obj, Submission):
            if _submission_status_changed(obj):
                always |= _ids_where(session, Comment.submission_id == obj.id, visible_only=False)
            elif _changed(obj, DOCUMENT_READS["submissions"]):
                candidates |= _ids_where(session, Comment.submission_id == obj.id)
        elif isinstance(obj, LiaisonPoint):
            if _changed(obj, DOCUMENT_READS["liaison_points"]):
                of_point = select(Submission.id).where(Submission.liaison_point_id == obj.id)
                candidates |= _ids_where(session, Comment.submission_id.in_(of_point))
        elif isinstance(obj, Chapter):
            if _changed(obj, DOCUMENT_READS["chapters"]):
                candidates |= _ids_where(session, Comment.chapter_id == obj.id)
        elif isinstance(obj, Category):
            # category.comments.append(...) from the category's side of the collection.
            candidates |= _history_ids(obj, "comments")
    candidates -= always | gone
    upserts = always | (_visible(session, candidates) if candidates else set())
    if gone:
        _write_jobs(session, gone, IndexAction.delete)
    if upserts:
        _write_jobs(session, upserts, IndexAction.upsert)


# -- bulk statements ------------------------------------------------------------------------


def _statement_columns(statement, parameters) -> set[str] | None:
    """The column names an UPDATE or INSERT sets; None when they cannot be told."""
    names: set[str] = set()
    for source in (statement._values or {}, dict(statement._ordered_values or ())):
        for key in source:
            names.add(key if isinstance(key, str) else getattr(key, "key", str(key)))
    for row in statement._multi_values or ():
        for values in row:
            if isinstance(values, dict):
                names.update(k if isinstance(k, str) else getattr(k, "key", "") for k in values)
    rows = parameters if isinstance(parameters, list) else [parameters or {}]
    for row in rows:
        names.update(row)
    names.discard("id")  # the primary key of a bulk UPDATE by id selects, it does not set
    return names or None


def _selected_rows(statement, parameters):
    """The WHERE of a bulk UPDATE/DELETE as a criterion on its table; an ORM bulk UPDATE by
    primary key (a list of parameter dicts with "id") selects those ids."""
    table = _TABLES[statement.table.name]
    if isinstance(parameters, list) and parameters and "id" in parameters[0]:
        return table.c.id.in_([row["id"] for row in parameters])
    where = statement.whereclause
    return where if where is not None else true()


def _ids_of_rows(session: Session, name: str, rows, *, visible_only: bool = True) -> set[int]:
    """The opinions whose documents the selected rows of table `name` feed."""
    table = _TABLES[name]
    selected = select(table.c.comment_id if name == "comment_categories" else table.c.id)
    selected = selected.where(rows)  # implicit FROM: other tables in the WHERE come along
    if name in ("comments", "comment_categories"):
        criterion = Comment.id.in_(selected)
    elif name == "submissions":
        criterion = Comment.submission_id.in_(selected)
    elif name == "liaison_points":
        of_points = select(Submission.id).where(Submission.liaison_point_id.in_(selected))
        criterion = Comment.submission_id.in_(of_points)
    elif name == "chapters":
        criterion = Comment.chapter_id.in_(selected)
    elif name == "categories":
        criterion = Comment.id.in_(
            select(comment_categories.c.comment_id).where(
                comment_categories.c.category_id.in_(selected)
            )
        )
    else:  # drafts
        criterion = Comment.draft_id.in_(selected)
    return _ids_where(session, criterion, visible_only=visible_only)


def _inserted_comment_ids(statement, parameters) -> set | None:
    """The comment ids an INSERT into comment_categories adds; None when it does not show them
    (INSERT ... SELECT, or values as SQL expressions)."""
    if statement._select_names:
        return None
    rows = list(parameters) if isinstance(parameters, list) else [parameters or {}]
    rows.append(statement._values or {})
    rows.extend(values for row in statement._multi_values or () for values in row)
    ids = set()
    for row in rows:
        for key, value in row.items() if isinstance(row, dict) else ():
            if getattr(key, "key", key) == "comment_id":
                ids.add(getattr(value, "value", value))  # a bound parameter's value
    if not ids or not all(isinstance(i, int) for i in ids):
        return None
    return ids


_TABLES = {
    "comments": Comment.__table__,
    "comment_categories": comment_categories,
    "submissions": Submission.__table__,
    "liaison_points": LiaisonPoint.__table__,
    "chapters": Chapter.__table__,
    "categories": Category.__table__,
    "drafts": Draft.__table__,
}
# Bulk UPDATEs of these columns, and bulk DELETEs from these tables, change documents.
_BULK_UPDATES = DOCUMENT_READS
_BULK_DELETES = frozenset(_TABLES) - {"liaison_points"}  # points are RESTRICTed by batches


def _on_execute(state: ORMExecuteState):
    """Follow bulk statements run through Session.execute(): select the opinions they change
    while the rows exist, run the statement, then write the jobs."""
    if state.is_select or not (state.is_update or state.is_delete or state.is_insert):
        return None
    statement = state.statement
    dml = statement if getattr(statement, "table", None) is not None else statement.element
    name = getattr(dml.table, "name", None)
    if name not in _TABLES:
        return None
    session = state.session
    parameters = state.parameters
    # Pending changes first: the opinions selected below are those the statement changes.
    session.flush()

    if state.is_insert:
        if name == "comments":
            raise OutboxError(
                "a bulk INSERT into comments bypasses the search outbox: add Comment objects "
                "to the session instead"
            )
        if name != "comment_categories":
            return None  # a new batch, point, chapter or category has no opinions yet
        ids = _inserted_comment_ids(dml, parameters)
        if ids is None:
            raise OutboxError(
                "this INSERT into comment_categories does not show its comment ids: pass them "
                "as parameters (a list of dicts) so the search outbox can follow it"
            )
        result = state.invoke_statement()
        _write_jobs(session, _visible(session, ids), IndexAction.upsert)
        return result

    visible_only = True
    if state.is_update:
        if name not in _BULK_UPDATES:
            return None
        columns = _statement_columns(dml, parameters)
        if columns is not None and not columns & _BULK_UPDATES[name]:
            return None  # touches nothing a document reads (a tally, a cluster...)
        # A change of batch or of batch status changes who sees the opinions.
        deciding = {"comments": "submission_id", "submissions": "status"}.get(name)
        visible_only = columns is not None and deciding not in columns
    elif name not in _BULK_DELETES:
        return None
    ids = _ids_of_rows(session, name, _selected_rows(dml, parameters), visible_only=visible_only)
    result = state.invoke_statement()
    deleting = state.is_delete and name == "comments"
    _write_jobs(session, ids, IndexAction.delete if deleting else IndexAction.upsert)
    return result


# -- the transaction's end ------------------------------------------------------------------


def _before_commit(session: Session) -> None:
    """Flush first (commit flushes only after this hook), then let the engine update the
    transaction's opinions inside it."""
    if session.in_nested_transaction():
        return  # a savepoint: the real commit comes later
    session.flush()
    ids = session.info.get(IDS_KEY)
    if ids and has_app_context():
        from portal.search.backend import get_backend

        get_backend().apply_in_transaction(session, frozenset(ids))


def _after_transaction_create(session: Session, transaction) -> None:
    if transaction.nested:
        snapshots = session.info.setdefault(_SAVEPOINTS_KEY, {})
        snapshots[transaction] = frozenset(session.info.get(IDS_KEY, ()))


def _after_rollback(session: Session) -> None:
    """A rolled-back savepoint took its jobs with it: forget the ids written inside it. (Fired
    while the rolled-back transaction is still the session's current one.)"""
    savepoint = session.get_nested_transaction()
    if savepoint is None:
        _forget(session)
        return
    before = session.info.get(_SAVEPOINTS_KEY, {}).get(savepoint)
    if before is not None:
        session.info[IDS_KEY] = set(before)


def _after_transaction_end(session: Session, transaction) -> None:
    if transaction.nested:
        session.info.get(_SAVEPOINTS_KEY, {}).pop(transaction, None)
    elif transaction.parent is None:
        _forget(session)


def _forget(session: Session) -> None:
    for key in (IDS_KEY, _GONE_KEY, _TOUCHED_KEY, _SAVEPOINTS_KEY):
        session.info.pop(key, None)


# -- registration ---------------------------------------------------------------------------

_LISTENERS = (
    ("before_flush", _before_flush),
    ("after_flush", _after_flush),
    ("do_orm_execute", _on_execute),
    ("before_commit", _before_commit),
    ("after_transaction_create", _after_transaction_create),
    ("after_rollback", _after_rollback),
    ("after_transaction_end", _after_transaction_end),
)
_register_lock = threading.Lock()


def register() -> None:
    """Listen on every Session of the process, once (idempotent)."""
    with _register_lock:
        for name, listener in _LISTENERS:
            if not event.contains(Session, name, listener):
                event.listen(Session, name, listener)


def init_app(app: Flask) -> None:
    """Called by create_app(): the listeners are process-wide, registered once."""
    register()
