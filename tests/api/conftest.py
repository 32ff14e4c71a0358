"""API fixtures: tokens for each role, made through the same service as the settings page."""

from __future__ import annotations

import pytest

from portal.auth import tokens
from portal.extensions import db
from tests.liaison.conftest import open_draft, two_points  # noqa: F401 (fixtures)


@pytest.fixture
def token_for(app):
    def make(user, name: str = "测试系统") -> str:
        _token, secret = tokens.create_token(user, name)
        db.session.commit()
        return secret

    return make


@pytest.fixture
def auth():
    def header(secret: str, **extra) -> dict:
        return {"Authorization": f"Bearer {secret}", **extra}

    return header
