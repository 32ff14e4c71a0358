"""The queue that carries jobs to the worker: Huey, configured per app.

JOBS_URL chooses the storage: empty (the embedded default) is a SQLite file in JOB_DIR (under
the instance folder), so `make run` needs no other server; redis://... is the production queue,
shared by every app host and worker. JOBS_IMMEDIATE runs a job at once in the process that
queues it (tests).

Only a job's id travels through the queue: the `jobs` table is the record (portal/jobs/services.py),
so a message lost with a crashed queue is sent again by the worker's sweep, and a message
delivered twice finds the job already claimed.
"""

from __future__ import annotations

import logging
from pathlib import Path

from flask import Flask, current_app
from huey import Huey, crontab
from huey.storage import RedisStorage, SqliteStorage
from sqlalchemy import event
from sqlalchemy.orm import Session

log = logging.getLogger(__name__)

# Where the ids of jobs created in a transaction wait for its commit (session.info key).
_PENDING = "portal.jobs.pending"
EXTENSION = "portal.jobs"


class JobQueue:
    """The app's Huey instance and the two tasks it runs."""

    def __init__(self, app: Flask):
        self.app = app
        self.huey = make_huey(app.config)
        self.run_job = self.huey.task(name="portal.run_job")(self._run_job)
        self.sweep = self.huey.periodic_task(crontab(minute="*"), name="portal.sweep")(self._sweep)

    def _run_job(self, job_id: int) -> None:
        # Imported here: services imports this module for the queue it sends to.
        from portal.jobs.services import execute

        with self.app.app_context():
            execute(job_id)

    def _sweep(self) -> None:
        from portal.jobs.services import sweep

        with self.app.app_context():
            sweep()

    def send(self, job_id: int) -> None:
        self.run_job(job_id)


def make_huey(config) -> Huey:
    url = config.get("JOBS_URL") or ""
    if config.get("JOBS_IMMEDIATE"):
        return Huey("portal", results=False, immediate=True)
    if url.startswith(("redis://", "rediss://", "unix://")):
        return Huey("portal", results=False, storage_class=RedisStorage, url=url)
    path = (
        Path(url.removeprefix("sqlite:///")) if url else Path(config["JOB_DIR"]) / "queue.sqlite3"
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    return Huey("portal", results=False, storage_class=SqliteStorage, filename=str(path))


def init_app(app: Flask) -> None:
    app.extensions[EXTENSION] = JobQueue(app)


def get_queue() -> JobQueue:
    return current_app.extensions[EXTENSION]


def queue_reachable() -> bool:
    """The readiness check: can a job be queued now?"""
    try:
        get_queue().huey.pending_count()
    except Exception:
        log.warning("job queue unreachable", exc_info=True)
        return False
    return True


# --- a job is sent only once the transaction that created it commits -----------------------


def send_after_commit(session: Session, job_id: int) -> None:
    session.info.setdefault(_PENDING, []).append(job_id)


@event.listens_for(Session, "after_commit")
def _send_pending(session: Session) -> None:
    pending = session.info.pop(_PENDING, None)
    if not pending:
        return
    queue = get_queue()
    for job_id in pending:
        try:
            queue.send(job_id)
        except Exception:
            log.exception("could not queue job %s; the sweep will", job_id)


@event.listens_for(Session, "after_rollback")
def _drop_pending(session: Session) -> None:
    # after_rollback fires for the real (outermost) rollback only, not for a savepoint.
    session.info.pop(_PENDING, None)
