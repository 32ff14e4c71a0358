"""Personal API tokens: created and shown once, stored only as a hash, revocable."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import select

from portal.audit import record
from portal.extensions import db
from portal.models import ApiToken, User, utcnow

# Lets secret scanners and people recognise a token (not a secret itself).
TOKEN_PREFIX = "lfp_"  # noqa: S105
MAX_NAME = 100
MAX_ACTIVE_TOKENS = 10
# Writing last_used_at on every request would make each API call a write; once a minute is enough.
TOUCH_INTERVAL = timedelta(minutes=1)


class TokenError(ValueError):
    """A token rule was broken; ``code`` selects the message in the user's language."""

    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


def hash_token(token: str) -> str:
    # The token carries 256 random bits, so a fast hash is enough: nothing to brute-force.
    return hashlib.sha256(token.encode()).hexdigest()


def active_tokens(user: User) -> list[ApiToken]:
    return list(
        db.session.scalars(
            select(ApiToken)
            .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
            .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
        )
    )


def tokens_of(user: User) -> list[ApiToken]:
    return list(
        db.session.scalars(
            select(ApiToken)
            .where(ApiToken.user_id == user.id)
            .order_by(ApiToken.revoked_at.is_not(None), ApiToken.id.desc())
        )
    )


def create_token(user: User, name: str, actor: User | None = None) -> tuple[ApiToken, str]:
    """A new token for the user; returns the row and the token text, which is never stored."""
    name = " ".join((name or "").split())[:MAX_NAME]
    if not name:
        raise TokenError("name_required")
    if not user.active:
        raise TokenError("account_inactive")
    if len(active_tokens(user)) >= MAX_ACTIVE_TOKENS:
        raise TokenError("too_many")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(user=user, name=name, token_hash=hash_token(secret), prefix=secret[:12])
    db.session.add(token)
    db.session.flush()
    record(actor or user, "token.created", token, {"user": user.id, "name": name})
    return token, secret


def get_own_token(user: User, token_id: int) -> ApiToken | None:
    """A token of this user, or None: another person's token does not exist for them."""
    token = db.session.get(ApiToken, token_id)
    return token if token is not None and token.user_id == user.id else None


def revoke_token(token: ApiToken, actor: User, now: datetime | None = None) -> None:
    if token.revoked_at is not None:
        return
    token.revoked_at = now or utcnow()
    db.session.flush()
    record(actor, "token.revoked", token, {"user": token.user_id})


def authenticate(secret: str | None, now: datetime | None = None) -> User | None:
    """The active account behind a token, or None for unknown, revoked or inactive ones."""
    if not secret or not secret.startswith(TOKEN_PREFIX) or len(secret) > 200:
        return None
    token = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == hash_token(secret)))
    if token is None or token.revoked_at is not None or not token.user.active:
        return None
    now = now or utcnow()
    if token.last_used_at is None or now - token.last_used_at > TOUCH_INTERVAL:
        token.last_used_at = now
        db.session.flush()
    return token.user
