"""Jobs: work too long for a request, run by the worker (`flask portal worker`), watched by the
person who started it at /jobs/<id>. See docs/jobs.md."""

from flask import Blueprint

bp = Blueprint("jobs", __name__, url_prefix="/jobs")

from portal.jobs import views  # noqa: E402, F401  (registers the routes)
