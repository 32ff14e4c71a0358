"""Reading the search page's URL into search parameters and writing it back (shareable URLs)."""

from __future__ import annotations

from datetime import date

from werkzeug.datastructures import MultiDict

from portal.models import Channel, Decision, Draft, Identity, Stance
from portal.numerals import parse_int

# URL parameter -> SearchParams field; every filter lives in the URL so a search can be shared.
FILTERS = (
    "article",
    "chapter",
    "category",
    "stance",
    "identity",
    "channel",
    "point",
    "district",
    "decision",
    "from",
    "to",
)
SORTS = ("relevance", "newest", "oldest", "article")
# Every parameter that shapes a search (what an export job keeps of the URL).
URL_KEYS = frozenset(("q", "draft", "sort", *FILTERS))


def _int(value: str | None) -> int | None:
    return parse_int(value)


def _date(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def _member(enum_cls, value: str | None, extra=()) -> str | None:
    allowed = {m.value for m in enum_cls} | set(extra)
    return value if value in allowed else None


def params_from(args: MultiDict, draft: Draft | None):
    """Search parameters from the URL; without a draft, the draft is one more filter."""
    from portal.search import SearchParams

    return SearchParams(
        q=(args.get("q") or "").strip()[:500],
        draft_id=draft.id if draft is not None else _int(args.get("draft")),
        article=_int(args.get("article")),
        chapter=_int(args.get("chapter")),
        category_ids=[n for v in args.getlist("category") if (n := parse_int(v)) is not None],
        stance=_member(Stance, args.get("stance")),
        identity=_member(Identity, args.get("identity")),
        channel=_member(Channel, args.get("channel")),
        liaison_point=(args.get("point") or None),
        district=(args.get("district") or None),
        decision=_member(Decision, args.get("decision"), extra=("none",)),
        date_from=_date(args.get("from")),
        date_to=_date(args.get("to")),
        sort=args.get("sort") if args.get("sort") in SORTS else "relevance",
    )


def url_args(args: MultiDict, **changes) -> dict:
    """The current URL's arguments with some changed (None removes), for links that keep state."""
    result: dict[str, list[str]] = {key: args.getlist(key) for key in args}
    result.pop("page", None)
    for key, value in changes.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = [str(value)]
    return result


def toggle_category(args: MultiDict, category_id: int) -> dict:
    result = url_args(args)
    current = [v for v in args.getlist("category")]
    if str(category_id) in current:
        current.remove(str(category_id))
    else:
        current.append(str(category_id))
    if current:
        result["category"] = current
    else:
        result.pop("category", None)
    return result
