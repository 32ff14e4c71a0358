"""The one interface the rest of the portal uses to search; engines plug in behind it.

Views, services, the CLI (and later the API) call get_backend() and nothing below it, so a
second engine can be added by registering another class in BACKENDS and setting
SEARCH_BACKEND, without touching them. Whoosh is the engine today.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from flask import current_app

if TYPE_CHECKING:
    from portal.search.index import SyncReport
    from portal.search.query import SearchParams, SearchResult


class SearchUnavailable(RuntimeError):
    """The engine cannot answer now (an index to rebuild, say); the error pages say so with a
    503, and nothing the user did was lost."""


class SearchBackend(Protocol):
    """What an engine provides. Documents are derived from the database through the outbox."""

    def apply_pending(self, limit: int | None = None, *, wait: bool = False) -> SyncReport:
        """Write (add or update) and delete documents for the pending outbox jobs."""

    def sync_after_commit(self) -> SyncReport | None:
        """apply_pending for a web request: never waits for a lock, never raises."""

    def rebuild(self) -> int:
        """Rebuild every document from the database; returns how many were written."""

    def status(self) -> dict:
        """Documents in the index against opinions in the database, pending jobs, in_sync."""

    def search(self, params: SearchParams, *, page: int = 1, per_page: int = 20) -> SearchResult:
        """One page of ids with highlights, the exact total and facet counts."""

    def matching_ids(self, params: SearchParams, *, limit: int | None = None) -> list[int]:
        """Every matching id in the requested order (for bulk actions and exports)."""

    def count(self, params: SearchParams) -> int:
        """How many opinions match."""


class WhooshBackend:
    """The embedded engine: a Whoosh index under INDEX_DIR."""

    def apply_pending(self, limit=None, *, wait=False):
        from portal.search.index import apply_pending

        return apply_pending(limit, wait=wait)

    def sync_after_commit(self):
        from portal.search.index import try_sync_after_commit

        return try_sync_after_commit()

    def rebuild(self):
        from portal.search.index import rebuild

        return rebuild()

    def status(self):
        from portal.search.index import status

        return status()

    def search(self, params, *, page=1, per_page=20):
        from portal.search.query import search

        return search(params, page=page, per_page=per_page)

    def matching_ids(self, params, *, limit=None):
        from portal.search.query import matching_ids

        return matching_ids(params, limit=limit)

    def count(self, params):
        return len(self.matching_ids(params))


BACKENDS: dict[str, type] = {"whoosh": WhooshBackend}


def get_backend() -> SearchBackend:
    """The configured engine (SEARCH_BACKEND, "whoosh" by default)."""
    name = current_app.config.get("SEARCH_BACKEND", "whoosh")
    try:
        return BACKENDS[name]()
    except KeyError:
        raise RuntimeError(f"unknown SEARCH_BACKEND {name!r}; known: {sorted(BACKENDS)}") from None
