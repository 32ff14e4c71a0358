"""Citizens' comments on drafts: the comment form, receipts and status lookup."""

from flask import Blueprint

bp = Blueprint("comments", __name__)

from portal.comments import views  # noqa: E402, F401  (registers the routes)
