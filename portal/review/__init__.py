"""The drafting team's workbench: reading, deciding and answering opinions."""

from flask import Blueprint

bp = Blueprint("review", __name__, url_prefix="/review")

from portal.review import jobs, views  # noqa: E402, F401  (registers the job kinds and routes)
