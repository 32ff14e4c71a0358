"""Running search tests written against the Whoosh functions on another engine.

Test modules call portal.search.query.search, portal.search.index.apply_pending and so on
directly (they predate the backend interface). When tests/conftest.py parametrizes such a
module over the engines, route_to_backend() rebinds those names in the module (and in
portal.search.query for imports inside a test) to the configured backend, so the very same
assertions run against PostgreSQL.
"""

from __future__ import annotations

import types


def route_to_backend(module, monkeypatch) -> None:
    from portal.search import index, query
    from portal.search.backend import get_backend

    def apply_pending(limit=None, *, wait=False):
        return get_backend().apply_pending(limit, wait=wait)

    def search(params, *, page=1, per_page=20):
        return get_backend().search(params, page=page, per_page=per_page)

    def matching_ids(params, *, limit=None):
        return get_backend().matching_ids(params, limit=limit)

    routes = {
        index.apply_pending: apply_pending,
        index.rebuild: lambda: get_backend().rebuild(),
        index.status: lambda: get_backend().status(),
        query.search: search,
        query.matching_ids: matching_ids,
    }
    for name, value in list(vars(module).items()):
        if isinstance(value, types.FunctionType) and value in routes:
            monkeypatch.setattr(module, name, routes[value])
    monkeypatch.setattr(query, "search", search)
    monkeypatch.setattr(query, "matching_ids", matching_ids)
