"""Who is calling the API: a personal token in the Authorization header, or nobody.

The API never reads the session cookie, so a logged-in browser cannot be made to call it
(no CSRF through the API), and every authenticated call names its token.
"""

from __future__ import annotations

import functools

from flask import current_app, g, request
from flask_babel import gettext as _
from flask_smorest import abort

from portal.auth import tokens
from portal.extensions import limiter
from portal.models import Role, User

BEARER_SCHEME = {"bearerAuth": []}


def bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _sep, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()


def api_user() -> User | None:
    """The token's account; a token that is present but unknown or revoked is a 401."""
    if "api_user" not in g:
        secret = bearer_token()
        user = tokens.authenticate(secret) if secret else None
        if secret and user is None:
            abort(401, code="invalid_token", message=_("令牌无效、已撤销，或账号已停用。"))
        g.api_user = user
    return g.api_user


def token_rate_key() -> str:
    secret = bearer_token() or ""
    return "token:" + tokens.hash_token(secret)[:32]


def has_no_token() -> bool:
    return bearer_token() is None


def limit(blueprint) -> None:
    """Per client address, and per token on top (a shared address may carry many systems)."""
    limiter.limit(lambda: current_app.config["API_RATE_LIMIT"])(blueprint)
    limiter.limit(
        lambda: current_app.config["API_TOKEN_RATE_LIMIT"],
        key_func=token_rate_key,
        exempt_when=has_no_token,
    )(blueprint)


def token_required(*roles: Role):
    """Refuse calls without a valid token (401) or from another role (403)."""

    def decorator(view):
        @functools.wraps(view)
        def wrapped(*args, **kwargs):
            user = api_user()
            if user is None:
                abort(401, code="token_required")
            if roles and user.role not in roles:
                abort(403, code="wrong_role")
            return view(*args, **kwargs)

        return wrapped

    return decorator
