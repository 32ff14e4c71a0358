"""What Whoosh itself answers for search parameters: the reference the portal's own
evaluation (portal/search/evaluate.py, the columns of portal/search/query.py) is checked
against. Whoosh's matchers, filter queries and sorting facets, no shortcuts."""

from datetime import timedelta
from zoneinfo import ZoneInfo

from whoosh import sorting
from whoosh.query import And, DateRange, Every, NumericRange, Or, Query, Term
from whoosh.searching import Searcher

from portal.search.query import SORTS, SearchParams, _local_midnight_utc, parse_query


def filter_query(params: SearchParams, tz: ZoneInfo) -> Query | None:
    """The filters of params as one Whoosh query (ANDed), or None."""
    parts: list[Query] = []
    if params.draft_id is not None:
        parts.append(Term("draft", str(params.draft_id)))
    if params.article is not None:
        parts.append(NumericRange("article", params.article, params.article))
    if params.chapter is not None:
        parts.append(NumericRange("chapter", params.chapter, params.chapter))
    if params.category_ids:
        parts.append(Or([Term("categories", str(c)) for c in params.category_ids]))
    for name in ("stance", "identity", "channel", "decision"):
        value = getattr(params, name)
        if value:
            parts.append(Term(name, str(value).lower()))
    if params.liaison_point:
        parts.append(Term("liaison_point", params.liaison_point))
    if params.district:
        parts.append(Term("district", params.district))
    if params.date_from or params.date_to:
        start = _local_midnight_utc(params.date_from, tz) if params.date_from else None
        end = (
            _local_midnight_utc(params.date_to + timedelta(days=1), tz) if params.date_to else None
        )
        parts.append(DateRange("created_at", start, end, endexcl=True))
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else And(parts)


def _sortedby(sort: str, has_text: bool):
    if sort == "relevance" and has_text:
        return None
    if sort == "oldest":
        return sorting.FieldFacet("created_at")
    if sort == "article":
        return sorting.MultiFacet([sorting.FieldFacet("article"), "created_at"])
    return sorting.FieldFacet("created_at", reverse=True)


def whoosh_results(searcher: Searcher, params: SearchParams, tz: ZoneInfo):
    """Whoosh's Results for params: every match, in the requested order."""
    text = parse_query(params.q)
    sortedby = _sortedby(params.sort if params.sort in SORTS else "relevance", text is not None)
    return searcher.search(
        text if text is not None else Every(),
        filter=filter_query(params, tz),
        limit=None,
        sortedby=sortedby,
        terms=False,
        scored=sortedby is None,
    )


def whoosh_order(searcher: Searcher, params: SearchParams, tz: ZoneInfo) -> list[int]:
    """The document numbers Whoosh returns for params, in its order."""
    return [hit.docnum for hit in whoosh_results(searcher, params, tz)]
