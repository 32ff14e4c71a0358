"""Search over all opinions. Callers use get_backend() (backend.py); Whoosh lives behind it."""

from portal.search.backend import SearchBackend, SearchUnavailable, get_backend
from portal.search.query import SearchParams, SearchResult

__all__ = [
    "SearchBackend",
    "SearchParams",
    "SearchResult",
    "SearchUnavailable",
    "get_backend",
]
