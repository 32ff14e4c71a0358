"""One page of a list, in the shape every list endpoint answers with (PageSchema)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any


def page_of(
    items: Sequence, page: int, per_page: int, convert: Callable[[list], list] | None = None
) -> dict[str, Any]:
    """items/page/per_page/total/pages for page (1-based) of items; convert, if given, turns
    the page's items into their JSON shapes (called once with the page's items only)."""
    total = len(items)
    start = (page - 1) * per_page
    chosen = list(items[start : start + per_page])
    return {
        "items": convert(chosen) if convert else chosen,
        "page": page,
        "per_page": per_page,
        "total": total,
        "pages": max(1, -(-total // per_page)),
    }
