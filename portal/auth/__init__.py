"""Accounts: login, logout and role checks."""

from flask import Blueprint

bp = Blueprint("auth", __name__)

from portal.auth import views  # noqa: E402, F401  (registers the routes)
