"""The one interface the rest of the portal uses to search; engines plug in behind it.

Views, services, the CLI (and later the API) call get_backend() and nothing below it, so a
second engine can be added by registering another class in BACKENDS and setting
SEARCH_BACKEND, without touching them. Whoosh is the engine today.
"""

from __future__ import annotations

from collections.abc import Callable, Set
from typing import TYPE_CHECKING, Protocol

from flask import current_app

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from portal.search.index import SyncReport
    from portal.search.query import SearchParams, SearchResult


class SearchUnavailable(RuntimeError):
    """The engine cannot answer now (an index to rebuild, say); the error pages say so with a
    503, and nothing the user did was lost."""


class SearchBackend(Protocol):
    """What an engine provides. Documents are derived from the database through the outbox:
    portal/search/outbox.py writes an IndexJob row for every change to an opinion's document,
    in the transaction of the change; only the indexer (portal/search/indexer.py) and the CLI
    call apply_pending(), never a request."""

    def apply_pending(self, limit: int | None = None, *, wait: bool = False) -> SyncReport:
        """Write (add or update) and delete documents for the pending outbox jobs."""

    def apply_in_transaction(self, session: Session, comment_ids: Set[int]) -> None:
        """Called just before `session` commits a transaction that wrote outbox jobs for
        comment_ids: an engine that lives in the database may update their documents (and
        delete those jobs) in the same transaction. Must not commit."""

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

    def apply_in_transaction(self, session, comment_ids):
        # A file index cannot join a database transaction: the jobs wait for the indexer.
        return None

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


def _postgres_backend():
    from portal.search.pg import PostgresBackend  # imports this module

    return PostgresBackend()


BACKENDS: dict[str, Callable[[], SearchBackend]] = {
    "whoosh": WhooshBackend,
    "postgres": _postgres_backend,
}


def backend_name(config) -> str:
    """SEARCH_BACKEND, or when empty the database's own engine: postgres on PostgreSQL,
    whoosh (the embedded default) otherwise."""
    name = config.get("SEARCH_BACKEND") or ""
    if name:
        return name
    uri = str(config.get("SQLALCHEMY_DATABASE_URI") or "")
    return "postgres" if uri.startswith(("postgresql", "postgres:")) else "whoosh"


def get_backend() -> SearchBackend:
    """The configured engine (SEARCH_BACKEND; empty: see backend_name)."""
    name = backend_name(current_app.config)
    try:
        return BACKENDS[name]()
    except KeyError:
        raise RuntimeError(f"unknown SEARCH_BACKEND {name!r}; known: {sorted(BACKENDS)}") from None
