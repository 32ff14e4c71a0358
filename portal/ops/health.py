"""Readiness: may a load balancer send this process requests? Each check says why not.

Liveness (/healthz) asks nothing of the database: a process that answers is alive, and a
database outage must not make an orchestrator restart every app process at once. Readiness
(/readyz) checks what a request needs: the database answers, its schema is the one this code
was written for, the job queue takes jobs, and the search index is not lagging behind.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import asdict, dataclass

from alembic.config import Config
from alembic.script import ScriptDirectory
from flask import current_app
from sqlalchemy import func, inspect, select, text

from portal.extensions import db
from portal.ops.metrics import index_lag_seconds

log = logging.getLogger(__name__)


@dataclass
class Check:
    name: str
    ok: bool
    detail: str


@functools.lru_cache(maxsize=4)
def expected_heads(directory: str) -> frozenset[str]:
    """The head revision(s) of the migrations shipped with this code (read once)."""
    return frozenset(ScriptDirectory.from_config(_config(directory)).get_heads())


def _migrations_check(connection) -> Check:
    directory = current_app.extensions["migrate"].directory
    expected = expected_heads(directory)
    current = _database_heads(connection)
    if current == expected:
        return Check("migrations", True, f"at {', '.join(sorted(current))}")
    shown = ", ".join(sorted(current)) or "no revision (empty database)"
    wanted = ", ".join(sorted(expected))
    script = ScriptDirectory.from_config(_config(directory))
    unknown = [rev for rev in current if _revision(script, rev) is None]
    if unknown:
        return Check(
            "migrations",
            False,
            f"database at {shown}, unknown to this code (expects {wanted}): "
            "newer code has migrated it; deploy that code here",
        )
    return Check(
        "migrations",
        False,
        f"database at {shown}, code expects {wanted}: run `flask db upgrade`",
    )


def _database_heads(connection) -> frozenset[str]:
    # Read straight from Alembic's table: a MigrationContext logs two INFO lines each time,
    # and a load balancer asks every few seconds.
    if not inspect(connection).has_table("alembic_version"):
        return frozenset()
    return frozenset(connection.scalars(text("SELECT version_num FROM alembic_version")))


def _config(directory: str) -> Config:
    config = Config()
    config.set_main_option("script_location", directory)
    return config


def _revision(script: ScriptDirectory, revision: str):
    try:
        return script.get_revision(revision)
    except Exception:  # alembic raises several kinds for a revision it does not know
        return None


def _index_check(connection, max_lag: float) -> Check:
    from portal.models import IndexJob

    oldest, pending = connection.execute(
        select(func.min(IndexJob.created_at), func.count(IndexJob.id))
    ).one()
    lag = index_lag_seconds(oldest)
    detail = f"{pending} pending, oldest {lag:.0f} s old (bound {max_lag:.0f} s)"
    if lag > max_lag:
        return Check(
            "search_index",
            False,
            f"index lags: {detail}; is the worker (`flask portal worker`) running?",
        )
    return Check("search_index", True, detail)


def _queue_check() -> Check:
    try:
        from portal.jobs.queue import queue_reachable
    except ImportError:
        return Check("job_queue", True, "not configured")
    try:
        reachable = queue_reachable()
    except Exception as error:  # the check must answer, whatever the queue does
        log.warning("readiness: job queue check failed", exc_info=True)
        return Check("job_queue", False, f"job queue check failed: {type(error).__name__}")
    if reachable:
        return Check("job_queue", True, "reachable")
    return Check("job_queue", False, "job queue unreachable (JOBS_URL)")


def _guarded(name: str, check, *args) -> Check:
    try:
        return check(*args)
    except Exception as error:  # the endpoint must answer with a reason, whatever happens
        log.warning("readiness: %s check failed", name, exc_info=True)
        return Check(name, False, f"check failed: {type(error).__name__}: {error}"[:300])


def _database_check(connection) -> Check:
    connection.execute(text("SELECT 1"))
    return Check("database", True, f"{connection.dialect.name} answers")


def readiness() -> list[Check]:
    """Every check, in order; the ones that need the database are skipped when it fails."""
    max_lag = float(current_app.config["READY_MAX_INDEX_LAG"])
    try:
        connection = db.engine.connect()
    except Exception as error:
        log.warning("readiness: cannot connect to the database", exc_info=True)
        checks = [Check("database", False, f"database unreachable: {type(error).__name__}")]
    else:
        with connection:
            checks = [_guarded("database", _database_check, connection)]
            if checks[0].ok:
                checks.append(_guarded("migrations", _migrations_check, connection))
                checks.append(_guarded("search_index", _index_check, connection, max_lag))
    if not checks[0].ok:
        for name in ("migrations", "search_index"):
            checks.append(Check(name, False, "not checked: no database"))
    checks.append(_queue_check())
    return checks


def as_json(checks: list[Check]) -> dict:
    ready = all(check.ok for check in checks)
    failed = [f"{c.name}: {c.detail}" for c in checks if not c.ok]
    return {
        "status": "ready" if ready else "unavailable",
        "reasons": failed,
        "checks": {c.name: {k: v for k, v in asdict(c).items() if k != "name"} for c in checks},
    }
