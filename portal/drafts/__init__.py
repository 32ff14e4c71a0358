"""Draft regulations: public reading, the 章/条 parser, and importing a draft's text."""

from flask import Blueprint

bp = Blueprint("drafts", __name__)

from portal.drafts import views  # noqa: E402, F401  (registers the routes)
