"""Jobs as a service: kinds, starting a job, running it with progress, and the sweep.

A feature declares a kind with @job_kind in its own jobs module (portal/review/jobs.py); a view
calls start(), which adds the row to the view's transaction and queues it once that commits.
The worker calls execute(): claim the row, run the kind with a Progress, store what it made.
"""

from __future__ import annotations

import logging
import shutil
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update

from portal.database import reading, writing
from portal.extensions import db
from portal.jobs.queue import send_after_commit
from portal.models import Job, JobState, Role, User, utcnow

log = logging.getLogger(__name__)

# A running job reports progress at least this often (Progress.HEARTBEAT); one silent for
# LOST_AFTER went down with its worker and is queued again, at most MAX_ATTEMPTS times.
LOST_AFTER = timedelta(minutes=5)
# A queued job no worker has claimed after this long lost its queue message: send it again.
RESEND_AFTER = timedelta(minutes=2)
MAX_ATTEMPTS = 3
# Finished jobs and their files are kept this long for the person to download.
KEEP_FOR = timedelta(days=7)

T = TypeVar("T")


class JobFailed(Exception):
    """A kind could not do its work for a reason the person should read (a code of kind.errors)."""

    def __init__(self, code: str, **params):
        super().__init__(code)
        self.code = code
        self.params = params


@dataclass
class Outcome:
    """What a run produced: a file to download and/or a few figures for the page."""

    data: bytes | None = None
    filename: str = ""
    mimetype: str = ""
    result: dict = field(default_factory=dict)


@dataclass(frozen=True)
class JobKind:
    name: str
    title: Any  # a lazy string
    run: Callable[[Job, Progress], Outcome]
    roles: tuple[Role, ...]
    # Where the person goes back to (the page the job was started from), from the params.
    back: Callable[[Job], str] | None = None
    # The messages of JobFailed codes, lazy strings keyed by code.
    errors: dict[str, Any] = field(default_factory=dict)
    # A sentence for the finished page, from job.result (a lazy string with % params, say).
    summary: Callable[[Job], str] | None = None


KINDS: dict[str, JobKind] = {}

GENERIC_ERRORS = {
    "failed": _l("处理时出现错误，未能完成。请稍后重试；如仍不成功，请联系管理员。"),
    "lost": _l("处理多次中断，未能完成。请稍后重试；如仍不成功，请联系管理员。"),
    "unknown_kind": _l("这项任务已不再提供。"),
}


def job_kind(name: str, *, title, roles: Iterable[Role], back=None, errors=None, summary=None):
    """Declare a kind of job: the decorated function does the work, job.params its input."""

    def decorator(run: Callable[[Job, Progress], Outcome]):
        if name in KINDS:
            raise RuntimeError(f"job kind {name!r} declared twice")
        KINDS[name] = JobKind(name, title, run, tuple(roles), back, dict(errors or {}), summary)
        return run

    return decorator


def start(kind: str, owner: User, **params) -> Job:
    """Add a job to the current transaction; it is queued once the transaction commits."""
    if kind not in KINDS:
        raise KeyError(kind)
    job = Job(kind=kind, owner_id=owner.id, params=params, state=JobState.queued)
    db.session.add(job)
    db.session.flush()
    send_after_commit(db.session(), job.id)
    _count("JOBS_QUEUED", kind)
    return job


def start_detached(kind: str, **params) -> int | None:
    """Queue a job nobody watches (retraining, say) on a connection of its own, committed and
    sent at once, unless the same job is already queued or running; returns its id or None.

    For work a read-only page notices is due: the page's own transaction is left alone.
    """
    if kind not in KINDS:
        raise KeyError(kind)
    from sqlalchemy.orm import Session

    from portal.jobs.queue import get_queue

    with writing(), Session(db.engine) as session, session.begin():
        waiting = session.scalars(
            select(Job).where(Job.kind == kind, Job.state.in_((JobState.queued, JobState.running)))
        )
        if any(job.params == params for job in waiting):
            return None
        job = Job(kind=kind, owner_id=None, params=params, state=JobState.queued)
        session.add(job)
        session.flush()
        job_id = job.id
    _count("JOBS_QUEUED", kind)
    try:
        get_queue().send(job_id)
    except Exception:
        log.exception("could not queue job %s; the sweep will", job_id)
    return job_id


# --- who may see a job ----------------------------------------------------------------------


def visible_job(job_id: int, user: User) -> Job | None:
    """The job if this user started it and still holds a role its kind allows, else None."""
    job = db.session.get(Job, job_id)
    if job is None or job.owner_id != user.id:
        return None
    kind = KINDS.get(job.kind)
    if kind is not None and user.role not in kind.roles:
        return None
    return job


def recent_jobs(user: User, limit: int = 20) -> list[Job]:
    return list(
        db.session.scalars(
            select(Job).where(Job.owner_id == user.id).order_by(Job.id.desc()).limit(limit)
        )
    )


def error_text(job: Job) -> str:
    """The reason a job failed, in the reader's language."""
    kind = KINDS.get(job.kind)
    message = (kind.errors.get(job.error) if kind else None) or GENERIC_ERRORS.get(
        job.error, GENERIC_ERRORS["failed"]
    )
    params = job.result.get("error_params") or {}
    return str(message) % params if params else str(message)


def result_path(job: Job) -> Path | None:
    if not job.result_file:
        return None
    path = job_dir() / job.result_file
    return path if path.is_file() else None


def job_dir() -> Path:
    return Path(current_app.config["JOB_DIR"])


# --- running ---------------------------------------------------------------------------------


class Progress:
    """How a kind reports its progress: written on its own connection, at most twice a second,
    so the page the person watches moves and the sweep knows the job is alive."""

    INTERVAL = 0.5

    def __init__(self, job_id: int):
        self.job_id = job_id
        self._last = 0.0
        self.done = 0
        self.total = 0

    def __call__(self, done: int, total: int | None = None, *, force: bool = False) -> None:
        self.done = done
        if total is not None:
            self.total = total
        now = time.monotonic()
        if not force and now - self._last < self.INTERVAL:
            return
        self._last = now
        try:
            with writing(), db.engine.begin() as connection:
                connection.execute(
                    update(Job)
                    .where(Job.id == self.job_id)
                    .values(done=self.done, total=self.total, heartbeat_at=utcnow())
                )
        except Exception:
            log.warning("progress of job %s not written", self.job_id, exc_info=True)

    def iterate(self, items: Iterable[T], total: int) -> Iterator[T]:
        """Yield the items, reporting one step per item."""
        self(0, total, force=True)
        for i, item in enumerate(items, 1):
            yield item
            self(i)
        self(total, force=True)


def execute(job_id: int) -> Job | None:
    """Claim a queued job and run it; None when another delivery got there first.

    A reader by default, whatever context it runs in (a job run at once inside the POST that
    queued it, in tests, would otherwise begin every transaction as a writer).
    """
    with reading():
        return _execute(job_id)


def _execute(job_id: int) -> Job | None:
    """execute(), inside reading().

    Transactions are kept short around the run, which may read for a minute: on SQLite a
    writer's transaction (writing(), BEGIN IMMEDIATE) holds the one write lock, so the claim
    and the result are written in transactions of their own, and a kind that writes does so
    in its own short writing() transaction after its reading (portal/database.py).
    """
    db.session.commit()  # begin anew, as a writer
    now = utcnow()
    with writing():
        claimed = db.session.execute(
            update(Job)
            .where(Job.id == job_id, Job.state == JobState.queued)
            .values(
                state=JobState.running, started_at=now, heartbeat_at=now, attempts=Job.attempts + 1
            )
        )
        db.session.commit()
    if claimed.rowcount != 1:
        return None
    job = db.session.get(Job, job_id)
    kind = KINDS.get(job.kind)
    error, params = None, {}
    outcome = None
    started = time.monotonic()
    try:
        if kind is None:
            raise JobFailed("unknown_kind")
        outcome = kind.run(job, Progress(job.id))
        db.session.commit()  # ends the run's reading (a kind commits its own writes)
    except JobFailed as failure:
        error, params = failure.code, failure.params
    except Exception:
        log.exception("job %s (%s) failed", job_id, job.kind)
        error = "failed"
    if error is None:
        try:
            with writing():
                _store(db.session.get(Job, job_id), outcome)
                db.session.commit()
        except Exception:
            log.exception("job %s (%s): result not stored", job_id, job.kind)
            error = "failed"
    if error is not None:
        db.session.rollback()
        with writing():
            job = db.session.get(Job, job_id)
            job.state = JobState.failed
            job.error = error
            job.result = {"error_params": params} if params else {}
            job.finished_at = utcnow()
            db.session.commit()
        _count("JOBS_FAILED", job.kind)
    job = db.session.get(Job, job_id)
    log.info(
        "job %s %s %s in %.1f s", job_id, job.kind, job.state.value, time.monotonic() - started
    )
    return job


def _store(job: Job, outcome: Outcome) -> None:
    outcome = outcome or Outcome()
    if outcome.data is not None:
        folder = job_dir() / str(job.id)
        folder.mkdir(parents=True, exist_ok=True)
        name = Path(outcome.filename).name or "result"
        (folder / name).write_bytes(outcome.data)
        job.result_file = f"{job.id}/{name}"
        job.result_name = name
        job.result_mime = outcome.mimetype or "application/octet-stream"
    job.result = outcome.result
    job.state = JobState.done
    job.done = job.total = max(job.total, job.done, 1)
    job.finished_at = utcnow()


def _count(metric: str, kind: str) -> None:
    from portal.ops import metrics

    getattr(metrics, metric).inc()


# --- the sweep: lost messages, lost workers, old results --------------------------------------


def sweep() -> dict[str, int]:
    """Run by the worker every minute (and at its start)."""
    from portal.jobs.queue import get_queue

    db.session.commit()  # begin anew, as a writer
    with writing():
        return _sweep(get_queue())


def _sweep(queue) -> dict[str, int]:
    now = utcnow()
    resent = lost = removed = 0
    for job in db.session.scalars(
        select(Job).where(Job.state == JobState.queued, Job.created_at < now - RESEND_AFTER)
    ):
        queue.send(job.id)
        resent += 1
    for job in db.session.scalars(
        select(Job).where(Job.state == JobState.running, Job.heartbeat_at < now - LOST_AFTER)
    ):
        lost += 1
        if job.attempts >= MAX_ATTEMPTS:
            job.state, job.error, job.finished_at = JobState.failed, "lost", now
        else:
            job.state = JobState.queued
            send_after_commit(db.session(), job.id)
    for job in db.session.scalars(
        select(Job).where(Job.finished_at < now - KEEP_FOR, Job.finished_at.is_not(None))
    ):
        shutil.rmtree(job_dir() / str(job.id), ignore_errors=True)
        db.session.delete(job)
        removed += 1
    db.session.commit()
    if resent or lost or removed:
        log.info("job sweep: %d resent, %d lost, %d removed", resent, lost, removed)
    return {"resent": resent, "lost": lost, "removed": removed}
