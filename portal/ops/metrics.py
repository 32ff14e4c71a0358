"""Prometheus metrics (prometheus_client): requests, latency, opinions accepted, jobs queued
and failed, and figures read from the database at scrape time (outbox lag, jobs by state).

Several gunicorn worker processes: each keeps its own counters, so a scrape reaching one
worker would see only its share. With ``PROMETHEUS_MULTIPROC_DIR`` set in the environment
before the processes start (an empty folder, emptied at each server start; the job worker on
the same host should share it), prometheus_client keeps every process's values in files there
and ``/metrics`` adds them up (multiprocess mode). Without it the values are the process's own,
right for one process (``make serve``'s default). Figures read at scrape time are computed by
the process answering, from the database, so they are right in both modes.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import os
import time
from datetime import UTC, datetime

from flask import Flask, Request, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session, SessionTransaction

log = logging.getLogger(__name__)

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
FORWARDING_HEADERS = ("X-Forwarded-For", "Forwarded", "X-Real-IP")
CONTENT_TYPE = CONTENT_TYPE_LATEST


def multiproc_dir() -> str | None:
    return os.environ.get(MULTIPROC_ENV) or os.environ.get(MULTIPROC_ENV.lower()) or None


if multiproc_dir():  # prometheus_client writes its files there from the first metric on
    os.makedirs(multiproc_dir(), exist_ok=True)

REQUESTS = Counter(
    "portal_http_requests", "HTTP requests answered", ["endpoint", "method", "status"]
)
LATENCY = Histogram(
    "portal_http_request_duration_seconds",
    "Time to answer an HTTP request",
    ["endpoint", "method"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
OPINIONS_ACCEPTED = Counter(
    "portal_opinions_accepted", "Opinions committed to the database", ["channel"]
)
# Called by the job code (portal/jobs/): JOBS_QUEUED.inc() when a job is sent to the queue,
# JOBS_FAILED.inc() when a run fails.
JOBS_QUEUED = Counter("portal_jobs_queued", "Jobs sent to the job queue")
JOBS_FAILED = Counter("portal_jobs_failed", "Job runs that failed")

for _channel in ("online", "liaison"):
    OPINIONS_ACCEPTED.labels(_channel)  # shown as 0 before the first one


# --- opinions: counted once their transaction has committed ---------------------------------

_PENDING_OPINIONS = "portal.ops.opinions"


def count_opinions_on_commit(session: Session, channel: str, count: int = 1) -> None:
    """Add ``count`` accepted opinions of ``channel`` once the session's transaction commits."""
    pending = session.info.setdefault(_PENDING_OPINIONS, {})
    pending[channel] = pending.get(channel, 0) + count


@event.listens_for(Session, "after_commit")
def _count_committed(session: Session) -> None:
    for channel, count in session.info.pop(_PENDING_OPINIONS, {}).items():
        OPINIONS_ACCEPTED.labels(channel).inc(count)


@event.listens_for(Session, "after_transaction_end")
def _forget_uncommitted(session: Session, transaction: SessionTransaction) -> None:
    # Only the outermost transaction decides; a commit has already emptied the dict.
    if transaction.parent is None:
        session.info.pop(_PENDING_OPINIONS, None)


# --- requests -----------------------------------------------------------------------------


def init_app(app: Flask) -> None:
    """Count requests and time them; read the /metrics access settings once."""
    app.extensions["portal.metrics.networks"] = parse_networks(
        app.config["METRICS_ALLOWED_NETWORKS"]
    )

    @app.after_request
    def observe(response):
        # The scrapes and health checks themselves are left out: they would dominate.
        if request.blueprint == "ops":
            return response
        endpoint = request.endpoint or "unmatched"
        REQUESTS.labels(endpoint, request.method, str(response.status_code)).inc()
        started = g.get("request_started")  # set first thing by portal/ops/logs.py
        if started is not None:
            LATENCY.labels(endpoint, request.method).observe(time.perf_counter() - started)
        return response


def parse_networks(networks) -> tuple:
    if isinstance(networks, str):
        networks = [n.strip() for n in networks.split(",") if n.strip()]
    try:
        return tuple(ipaddress.ip_network(n, strict=False) for n in networks)
    except ValueError as error:
        raise ValueError(f"METRICS_ALLOWED_NETWORKS: {error}") from error


def scrape_allowed(req: Request, config, networks) -> bool:
    """The bearer token from config, or a direct request from an allowed network.

    A request that came through a proxy (a forwarding header) without PROXY_FIX_X_FOR has the
    proxy's address, often 127.0.0.1, not the client's: only the token admits it.
    """
    token = config.get("METRICS_TOKEN") or ""
    if token:
        scheme, _, given = req.headers.get("Authorization", "").partition(" ")
        if scheme.lower() == "bearer" and hmac.compare_digest(
            given.strip().encode(), token.encode()
        ):
            return True
    if not config.get("PROXY_FIX_X_FOR") and any(h in req.headers for h in FORWARDING_HEADERS):
        return False
    try:
        address = ipaddress.ip_address(req.remote_addr or "")
    except ValueError:
        return False
    if getattr(address, "ipv4_mapped", None):
        address = address.ipv4_mapped
    return any(address in network for network in networks)


# --- the scrape ---------------------------------------------------------------------------


class _ThisProcess:
    """The process's own metrics (single-process mode)."""

    def collect(self):
        yield from REGISTRY.collect()


class _DatabaseFigures:
    """Figures read from the database when scraped, the same whichever process answers."""

    def collect(self):
        from portal.extensions import db
        from portal.models import IndexJob

        try:
            oldest, pending = db.session.execute(
                select(func.min(IndexJob.created_at), func.count(IndexJob.id))
            ).one()
            jobs = _jobs_by_state(db)
        except Exception:
            log.warning("metrics: the database could not be read", exc_info=True)
            db.session.rollback()
            yield GaugeMetricFamily("portal_database_up", "The database answered", value=0)
            return
        yield GaugeMetricFamily("portal_database_up", "The database answered", value=1)
        yield GaugeMetricFamily(
            "portal_outbox_lag_seconds",
            "Age of the oldest index job not yet applied (0: none pending)",
            value=index_lag_seconds(oldest),
        )
        yield GaugeMetricFamily(
            "portal_outbox_pending", "Index jobs not yet applied", value=pending
        )
        if jobs is not None:
            family = GaugeMetricFamily("portal_jobs", "Jobs by state", labels=["state"])
            for state, count in jobs:
                family.add_metric([state], count)
            yield family


def _jobs_by_state(db):
    try:
        from portal.models.jobs import Job
    except ImportError:  # the job queue is not part of this build
        return None
    rows = db.session.execute(select(Job.state, func.count(Job.id)).group_by(Job.state))
    return [(getattr(state, "value", str(state)), count) for state, count in rows]


def index_lag_seconds(oldest: datetime | None, now: datetime | None = None) -> float:
    """Seconds since the oldest pending index job was written (0 when there is none)."""
    if oldest is None:
        return 0.0
    if oldest.tzinfo is None:  # SQLite hands back naive UTC
        oldest = oldest.replace(tzinfo=UTC)
    return max(0.0, ((now or datetime.now(UTC)) - oldest).total_seconds())


def render() -> bytes:
    """The text exposition of every metric, all processes added up in multiprocess mode."""
    registry = CollectorRegistry()
    if multiproc_dir():
        multiprocess.MultiProcessCollector(registry)
    else:
        registry.register(_ThisProcess())
    registry.register(_DatabaseFigures())
    return generate_latest(registry)
