"""The single search indexer: applies the outbox to the index, off the request path.

`flask portal worker` runs run_indexer() in a thread. It is the only code that writes the
Whoosh index while the site runs (the CLI's sync and rebuild are for operators): requests only
write outbox rows (portal/search/outbox.py) and read. An exclusive lock on a file in INDEX_DIR
makes a second indexer (another worker process on the same host) wait instead of competing
for the Whoosh writer lock; it takes over when the first one stops.
"""

from __future__ import annotations

import fcntl
import logging
import os
import threading
from typing import IO

from flask import Flask
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import IndexJob, utcnow

log = logging.getLogger(__name__)

LOCK_FILE = "indexer.lock"
# How often a waiting indexer tries the lock again.
LOCK_RETRY = 1.0
# After a failure the next attempt waits longer, up to this (a broken disk is not retried
# twice a second in the log).
MAX_BACKOFF = 30.0


def run_indexer(app: Flask, stop_event: threading.Event, interval: float = 0.5) -> None:
    """Apply pending outbox jobs every `interval` seconds until stop_event is set.

    Holds the indexer lock for its whole life (waiting for it first if another indexer has
    it). Creates (rebuilds) a missing index and rebuilds one with an old schema. An error is
    logged and retried at the next poll: the jobs stay in the outbox until applied.
    """
    lock = _acquire_lock(app, stop_event)
    if lock is None:
        return  # stopped while waiting for the other indexer
    log.info("search indexer started (pid %d)", os.getpid())
    failures = 0
    try:
        while not stop_event.is_set():
            try:
                with app.app_context():
                    _poll()
                failures = 0
                wait = interval
            except Exception:
                failures += 1
                wait = min(MAX_BACKOFF, interval * 2**failures)
                log.exception("search indexer failed; the jobs stay, retrying in %.1f s", wait)
            stop_event.wait(wait)
    finally:
        lock.close()  # closing the file releases the lock
        log.info("search indexer stopped")


def _acquire_lock(app: Flask, stop_event: threading.Event) -> IO | None:
    """The indexer lock (an open file holding flock LOCK_EX), or None if stopped first."""
    directory = app.config["INDEX_DIR"]
    os.makedirs(directory, exist_ok=True)
    path = os.path.join(directory, LOCK_FILE)
    handle = open(path, "a+", encoding="utf-8")
    waiting = False
    while True:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        except BlockingIOError:
            if not waiting:
                log.info("another search indexer holds %s; waiting for it", path)
                waiting = True
            if stop_event.wait(LOCK_RETRY):
                handle.close()
                return None
    # Who holds it, for an operator looking at the file.
    handle.seek(0)
    handle.truncate()
    handle.write(f"{os.getpid()}\n")
    handle.flush()
    return handle


def _poll() -> None:
    """One round, inside an app context: create the index if missing, apply pending jobs."""
    from portal.search.backend import WhooshBackend, get_backend
    from portal.search.index import index_exists

    backend = get_backend()
    if isinstance(backend, WhooshBackend) and not index_exists():
        # A first start, a lost or restored directory: an empty index would hide every
        # opinion already in the database, so it is built from the database.
        log.warning("no search index yet: building it from the database")
        count = backend.rebuild()
        log.info("search index built: %d opinions", count)
        return
    if not _pending():
        return
    report = backend.apply_pending(wait=True)
    if report.outdated:
        log.warning("the search index has an old schema: rebuilding it from the database")
        count = backend.rebuild()
        log.info("search index rebuilt: %d opinions", count)
    elif report.locked:
        log.info("search index locked by another writer; %d jobs applied", report.jobs)
    else:
        log.debug(
            "search index: %d jobs, %d written, %d removed",
            report.jobs,
            report.indexed,
            report.deleted,
        )


def _pending() -> bool:
    """Whether any job waits: one indexed row read, cheap enough for every poll."""
    return db.session.scalar(select(IndexJob.id).limit(1)) is not None


def index_lag() -> dict:
    """How far the index is behind the database: pending jobs and the age in seconds of the
    oldest (0.0 when none). For the readiness check and the metrics."""
    pending, oldest = db.session.execute(
        select(func.count(IndexJob.id), func.min(IndexJob.created_at))
    ).one()
    age = (utcnow() - oldest).total_seconds() if oldest is not None else 0.0
    return {"pending": pending, "oldest_seconds": max(0.0, round(age, 3))}
