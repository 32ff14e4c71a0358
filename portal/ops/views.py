"""/healthz, /readyz and /metrics: thin views over portal/ops/health.py and metrics.py."""

from flask import current_app, jsonify, request

from portal.extensions import talisman
from portal.ops import bp, health, metrics

# Probes and scrapes reach the app directly over HTTP: never redirect them to HTTPS.
_plain_http = talisman(force_https=False)
_NO_STORE = {"Cache-Control": "no-store"}


@bp.get("/healthz")
@_plain_http
def healthz():
    """The process is up and answering; the database is not asked."""
    return jsonify(status="ok"), 200, _NO_STORE


@bp.get("/readyz")
@_plain_http
def readyz():
    """200 when every check passes, else 503 with the reasons."""
    body = health.as_json(health.readiness())
    return jsonify(body), 200 if body["status"] == "ready" else 503, _NO_STORE


@bp.get("/metrics")
@_plain_http
def metrics_view():
    """Prometheus text format, for allowed networks or the bearer token only."""
    networks = current_app.extensions["portal.metrics.networks"]
    if not metrics.scrape_allowed(request, current_app.config, networks):
        return jsonify(error="forbidden: /metrics is not public"), 403, _NO_STORE
    return metrics.render(), 200, {"Content-Type": metrics.CONTENT_TYPE, **_NO_STORE}
