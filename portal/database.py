"""SQLite settings for several worker processes: WAL, a busy timeout, foreign keys, and
BEGIN IMMEDIATE for the units of work that write. PostgreSQL engines are left as they are.

Why each setting (every SQLite connection, set when it is opened):

- ``journal_mode=WAL``: readers no longer block the writer nor the writer the readers; the
  setting is stored in the database file, repeating it is free.
- ``busy_timeout``: a writer waits for the one holding the write lock instead of failing at
  once with "database is locked". ``SQLITE_BUSY_TIMEOUT_MS`` (10 s by default) is far longer
  than any write transaction a request holds (milliseconds; a 10,000-opinion import takes a
  few seconds) yet well below gunicorn's worker timeout, so a stuck writer ends in a 503 with
  Retry-After (portal/errors.py), never in a killed worker.
- ``foreign_keys=ON``: SQLite enforces foreign keys (and ON DELETE rules) only when asked.
- ``synchronous=NORMAL``: in WAL mode a commit survives a crash of the process (kill -9) or of
  the server; only a power cut or an OS crash may lose the last commits. FULL
  (``SQLITE_SYNCHRONOUS``) adds an fsync per commit for that case.

Transactions: Python's sqlite3 module (before 3.12's ``autocommit``) begins a transaction only
before INSERT/UPDATE/DELETE, never before a SELECT, and always as a deferred BEGIN. A unit of
work that reads and then writes inside one transaction takes the write lock late; in WAL mode,
if another process committed in between, its snapshot is stale and SQLite answers SQLITE_BUSY
at once, without waiting for the busy timeout. So the "begin" engine event emits BEGIN
IMMEDIATE itself when the unit of work intends to write (a request with an unsafe method, or
code inside ``writing()``: CLI commands and jobs): writers queue for the lock up front under
the busy timeout and see one consistent snapshot. Every other unit of work keeps the driver's
behaviour: its reads take no lock and hold no snapshot (a page or a job that reads for a
minute never blocks or stales anything), and a write it happens to make (an API token's "last
used" once a minute) opens a deferred transaction with the write statement itself, which waits
under the busy timeout like any writer since it has read nothing stale inside it. (Emitting a
plain BEGIN for readers too, as the SQLAlchemy dialect documentation suggests for strict
isolation, made every reader hold a snapshot until its commit: a unit of work that read, then
wrote after another process's commit, failed at once with "database is locked".)
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3
from collections.abc import Iterator
from contextvars import ContextVar

from flask import Flask, has_request_context, request
from sqlalchemy import event
from sqlalchemy.engine import Engine

from portal.extensions import db

log = logging.getLogger(__name__)

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
SYNCHRONOUS_MODES = frozenset({"OFF", "NORMAL", "FULL", "EXTRA"})

# True inside writing(), False inside reading(), None: decided by the request's method.
_writing: ContextVar[bool | None] = ContextVar("portal_writing", default=None)


@contextlib.contextmanager
def writing() -> Iterator[None]:
    """Mark the work inside as a writer: transactions begun inside start with BEGIN IMMEDIATE.

    For CLI commands and jobs (requests with POST/PUT/PATCH/DELETE are writers already).
    Enter it before the first query of the transaction: one already begun stays as it began.
    Usable as a decorator too (``@writing()``).
    """
    token = _writing.set(True)
    try:
        yield
    finally:
        _writing.reset(token)


@contextlib.contextmanager
def reading() -> Iterator[None]:
    """Mark the work inside as a reader whatever the request's method: a job run at once inside
    the POST that queued it (tests) must not hold the write lock while it computes."""
    token = _writing.set(False)
    try:
        yield
    finally:
        _writing.reset(token)


def intends_to_write() -> bool:
    """Whether the current unit of work is a writer (see ``writing()`` and ``reading()``)."""
    marked = _writing.get()
    if marked is not None:
        return marked
    return has_request_context() and request.method in UNSAFE_METHODS


def init_app(app: Flask) -> None:
    """Configure the app's SQLite engines (call after ``db.init_app``); others are untouched."""
    timeout_ms = int(app.config["SQLITE_BUSY_TIMEOUT_MS"])
    synchronous = str(app.config["SQLITE_SYNCHRONOUS"]).upper()
    if synchronous not in SYNCHRONOUS_MODES:
        raise ValueError(f"SQLITE_SYNCHRONOUS must be one of {sorted(SYNCHRONOUS_MODES)}")
    with app.app_context():
        engines = list(db.engines.values())
    for engine in engines:
        if engine.dialect.name == "sqlite":
            configure_sqlite_engine(engine, busy_timeout_ms=timeout_ms, synchronous=synchronous)


def configure_sqlite_engine(
    engine: Engine, *, busy_timeout_ms: int = 10_000, synchronous: str = "NORMAL"
) -> None:
    """Install the connect and begin listeners on one SQLite engine."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:
        if not isinstance(dbapi_connection, sqlite3.Connection):
            return
        cursor = dbapi_connection.cursor()
        try:
            # First, so that switching the journal mode waits for a lock like anything else.
            cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
            mode = cursor.execute("PRAGMA journal_mode=WAL").fetchone()[0]
            if mode.lower() not in {"wal", "memory"}:
                log.warning("SQLite stays in journal mode %s (WAL refused)", mode)
            cursor.execute(f"PRAGMA synchronous={synchronous}")
            cursor.execute("PRAGMA foreign_keys=ON")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection) -> None:
        # The driver then sees a transaction open and adds no BEGIN of its own; it still sends
        # COMMIT and ROLLBACK. Readers are left to the driver (see the module docstring).
        if intends_to_write():
            connection.exec_driver_sql("BEGIN IMMEDIATE")


def pragma_outside_transaction(connection, statement: str) -> None:
    """Run a PRAGMA that SQLite ignores inside a transaction (``foreign_keys``) on a
    SQLAlchemy Connection that has not begun one: straight on the driver's connection."""
    connection.connection.driver_connection.execute(statement)
