"""Fixtures for the operations tests: the liaison ones (two points, an open draft)."""

from tests.liaison.conftest import open_draft, two_points  # noqa: F401  (fixtures)
