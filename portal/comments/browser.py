"""The per-browser id, and the rate-limit keys that tell one submitter from another.

An address cannot: a household's Wi-Fi, an office or a carrier's NAT puts hundreds of people
behind one. The browser id is a random value kept in the signed session cookie (first party,
gone when the browser is closed); it names no one and is only ever stored as a keyed hash.
"""

from __future__ import annotations

import hashlib
import secrets

from flask import session
from flask_login import current_user

SESSION_KEY = "browser_id"


def browser_id() -> str:
    """This browser's id, made on first use."""
    value = session.get(SESSION_KEY)
    if not isinstance(value, str) or len(value) < 16:
        value = secrets.token_urlsafe(18)
        session[SESSION_KEY] = value
    return value


def session_rate_key() -> str:
    """Rate-limit key per browser; the id itself never reaches the limiter's storage."""
    return "browser:" + hashlib.sha256(browser_id().encode()).hexdigest()[:32]


def account_rate_key() -> str:
    return f"user:{current_user.get_id()}"


def is_anonymous() -> bool:
    return not current_user.is_authenticated
