"""gunicorn settings: read automatically when gunicorn starts in this folder (`make serve`,
deploy/portal-web.service). The size and the address come from the environment:

    PORTAL_BIND          address(es) to listen on, comma-separated   127.0.0.1:8000
    PORTAL_WEB_WORKERS   processes                                   1 on memory:// rate limits,
                                                                     else one per core
    PORTAL_WEB_THREADS   threads per process (gthread)               8

The embedded default keeps its rate-limit counters in memory, which only one process can hold
exactly: it runs one process with several threads. Several processes or hosts need
PORTAL_RATELIMIT_STORAGE_URI=redis://... (deploy/README.md); a configuration that would multiply
the limits is reported in the log when the first worker starts.
"""

import os


def _count(name: str, default: int) -> int:
    """A whole number ≥ 1 from the environment, with a clear error instead of a traceback."""
    text = os.environ.get(name, "").strip()
    if not text:
        return default
    if not text.isdigit() or int(text) < 1:
        raise SystemExit(f"{name} must be a whole number of at least 1, not {text!r}")
    return int(text)


_storage = os.environ.get("PORTAL_RATELIMIT_STORAGE_URI", "").strip() or "memory://"
_shared_limits = not _storage.startswith("memory://")

bind = [a.strip() for a in os.environ.get("PORTAL_BIND", "127.0.0.1:8000").split(",") if a.strip()]
worker_class = "gthread"
workers = _count("PORTAL_WEB_WORKERS", (os.cpu_count() or 1) if _shared_limits else 1)
threads = _count("PORTAL_WEB_THREADS", 8)
# The drafting team's exports and the adoption report of a large consultation still run inside
# the request (XLSX of 30,000 opinions: 9-19 s, bench/report.py), longer than gunicorn's default
# 30-second worker timeout; lowered once they run as jobs.
timeout = 120
graceful_timeout = 30
accesslog = "-"


def post_worker_init(worker) -> None:
    """Warn once (from the first worker) when this configuration multiplies the rate limits.

    Checked here, against the loaded app's own settings, because instance/config.py may set the
    storage too, which only the app reads.
    """
    if worker.age != 1:
        return
    config = getattr(worker.wsgi, "config", None)
    if config is None or not config.get("RATELIMIT_ENABLED", True):
        return
    from portal.config import rate_limit_warnings

    storage = config.get("RATELIMIT_STORAGE_URI") or "memory://"
    warnings = rate_limit_warnings(storage, worker.cfg.workers, worker.cfg.address)
    for message in warnings:
        worker.log.warning(message)
    if not warnings:
        # The scheme only: the URI may hold Redis's password.
        scheme = storage.partition("://")[0]
        worker.log.info("Rate limits are counted in %s storage, not multiplied", scheme)
