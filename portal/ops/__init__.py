"""Operations: /healthz, /readyz and /metrics, structured logs with a request id, backups.

These routes are for machines (load balancers, orchestrators, Prometheus): JSON or the
Prometheus text format, no page, no session, no login, no rate limit, no CSRF, no redirect to
HTTPS (a load balancer probes the app over plain HTTP on the private network).
"""

from flask import Blueprint, Flask

bp = Blueprint("ops", __name__)


def init_app(app: Flask) -> None:
    """Logging and request ids first (every later hook logs with the id), then metrics."""
    from portal.ops import logs, metrics

    logs.init_app(app)
    metrics.init_app(app)


def register(app: Flask) -> None:
    """Add the routes, exempt from the machinery meant for people."""
    from portal.extensions import csrf, limiter
    from portal.ops import views  # noqa: F401  (defines the routes on bp)

    csrf.exempt(bp)
    limiter.exempt(bp)
    app.register_blueprint(bp)
