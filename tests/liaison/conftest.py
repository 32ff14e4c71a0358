"""Liaison fixtures: two points with one staff member each, and an open draft."""

import pytest

from portal.extensions import db
from portal.models import Role
from tests.drafts.test_views import make_draft


@pytest.fixture
def two_points(make_point, make_user):
    east = make_point(code="JZ-E01", name="东城联系点")
    west = make_point(code="JZ-W01", name="西城联系点")
    return {
        "east": east,
        "west": west,
        "east_staff": make_user(Role.liaison, point=east, email="east@example.org"),
        "west_staff": make_user(Role.liaison, point=west, email="west@example.org"),
    }


@pytest.fixture
def open_draft(app):
    draft = make_draft()
    db.session.commit()
    return draft
