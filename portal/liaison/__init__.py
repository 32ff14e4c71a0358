"""Liaison points: assignments, submissions of collected opinions, and feedback on them."""

from flask import Blueprint

bp = Blueprint("liaison", __name__, url_prefix="/liaison")

from portal.liaison import views  # noqa: E402, F401  (registers the routes)
