"""Administration: liaison points and their staff accounts."""

from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")

from portal.admin import views  # noqa: E402, F401  (registers the routes)
