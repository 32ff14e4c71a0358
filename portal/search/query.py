"""Searching opinions: the query syntax, filters, facets, sorting and highlighted snippets.

The query syntax is the usual one: words are ANDed, ``OR`` and ``NOT`` (or ``-word``),
parentheses, ``"exact phrases"`` and ``field:value`` for the facet fields (``stance:oppose``,
``article:12``). A Chinese word needs no spaces: 垃圾分类 matches every opinion that contains
it. An unquoted colloquial word also finds its formal equivalent (物业费 finds 物业服务费,
see SYNONYMS); quoted words match exactly. A query that does not parse (an unbalanced quote,
a lone NOT) is searched as plain words.

Results are comment ids in rank order; the caller loads the rows and checks permissions.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
from markupsafe import Markup, escape
from whoosh.query import (
    And,
    AndNot,
    Every,
    NullQuery,
    NumericRange,
    Or,
    Query,
    Term,
)
from whoosh.searching import Searcher

from portal.numerals import chinese_to_int, normalize_width
from portal.search.analysis import (
    ARTICLE_REF_RE,
    join_cjk_spaces,
    normalize,
    normalize_with_offsets,
    query_segments,
    query_tokens,
)
from portal.search.evaluate import evaluate
from portal.search.matching import NgramPhrase

__all__ = [
    "FACET_FIELDS",
    "SORTS",
    "TEXT_FIELDS",
    "SearchParams",
    "SearchResult",
    "matching_ids",
    "parse_query",
    "run_search",
    "search",
    "snippet",
    "text_query",
]

TEXT_FIELDS = ("body", "quote")
FACET_FIELDS = (
    "draft",
    "article",
    "chapter",
    "categories",
    "stance",
    "identity",
    "channel",
    "liaison_point",
    "district",
    "decision",
)
SORTS = ("relevance", "newest", "oldest", "article")
MAX_PER_PAGE = 100

# The colloquial and the formal name of one thing in these consultations: people write 物业费,
# the draft says 物业服务费. An unquoted word that is one of a group finds every member of it;
# a quoted word finds only itself. (docs/search.md: this beats matching the characters with
# gaps, which costs twice the query time and finds unrelated text too.)
SYNONYMS: tuple[tuple[str, ...], ...] = (
    ("物业费", "物业服务费", "物业管理费"),
    ("业委会", "业主委员会"),
    ("居委会", "居民委员会"),
    ("村委会", "村民委员会"),
    ("停车费", "停车服务费"),
    ("维修基金", "维修资金"),
    ("加装电梯", "增设电梯", "电梯加装"),
    ("电动自行车", "电瓶车", "电动车"),
    ("厨余垃圾", "湿垃圾"),
    ("其他垃圾", "干垃圾"),
    ("可回收物", "可回收垃圾"),
)
_SYNONYMS = {normalize(word): group for group in SYNONYMS for word in group}

# field:value names a user may type, and the index field each means.
_FIELD_NAMES = {
    "draft": "draft",
    "article": "article",
    "chapter": "chapter",
    "category": "categories",
    "categories": "categories",
    "stance": "stance",
    "identity": "identity",
    "channel": "channel",
    "decision": "decision",
    "status": "status",
    "point": "liaison_point",
    "liaison_point": "liaison_point",
    "district": "district",
    "id": "id",
}
_NUMERIC_FIELDS = frozenset({"article", "chapter"})
_LOWERCASE_FIELDS = frozenset({"stance", "identity", "channel", "decision", "status"})


# -- building text queries ------------------------------------------------------------------


def _exact(fieldname: str, term: str) -> Query:
    """Documents whose field contains the term as a substring (after normalisation)."""
    normalized = normalize(term)
    if ARTICLE_REF_RE.fullmatch(normalized):
        return Term(fieldname, normalized)  # indexed as one token
    tokens = query_tokens(normalized)
    if not tokens:
        return NullQuery
    return Term(fieldname, tokens[0]) if len(tokens) == 1 else NgramPhrase(fieldname, tokens)


def text_query(term: str, *, exact: bool = False, fields: Iterable[str] = TEXT_FIELDS) -> Query:
    """One word or phrase of the user's query, searched in the opinion and in its quote.

    Matches the opinions that contain the term as a substring after normalisation: a phrase
    of its bigrams, one token for an article reference. Unless exact, a word of a SYNONYMS
    group also finds the other words of the group.
    """
    words = [term] if exact else list(_SYNONYMS.get(normalize(term), (term,)))
    parts = [_exact(fieldname, word) for word in words for fieldname in fields]
    parts = [part for part in parts if part is not NullQuery]
    if not parts:
        return NullQuery
    return parts[0] if len(parts) == 1 else Or(parts)


def _int_value(value: str) -> int | None:
    text = value.strip()
    if text.startswith("第"):
        text = text[1:]
    text = text.rstrip("章节条款项")
    try:
        number = chinese_to_int(text)
    except ValueError:
        return None
    return number


def field_query(name: str, value: str) -> Query:
    """field:value for a facet field; a value that cannot occur matches nothing."""
    fieldname = _FIELD_NAMES[name.lower()]
    value = value.strip()
    if fieldname in _NUMERIC_FIELDS:
        number = _int_value(value)
        if number is None:
            return NullQuery
        return NumericRange(fieldname, number, number)
    if fieldname in _LOWERCASE_FIELDS:
        value = value.lower()
    if fieldname == "decision" and value in ("", "undecided"):
        value = "none"
    if not value:
        return NullQuery
    return Term(fieldname, value)


# -- the query syntax -----------------------------------------------------------------------


class _Malformed(ValueError):
    pass


_LEXER = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<lparen>\()
  | (?P<rparen>\))
  | (?P<field>(?P<fname>[A-Za-z_]+):(?:"(?P<fquoted>[^"]*)"|(?P<fvalue>[^\s()"]+)))
  | (?P<phrase>"(?P<ptext>[^"]*)")
  | (?P<quote>")
  | (?P<minus>-(?=[^\s-]))
  | (?P<word>[^\s()"]+)
    """,
    re.VERBOSE,
)
_OPERATORS = frozenset({"AND", "OR", "NOT"})


def _normalize_query(q: str) -> str:
    # Full-width letters, digits, brackets and colons as typed on a Chinese keyboard.
    return normalize_width(q).replace("“", '"').replace("”", '"').replace("＂", '"')


def _lex(q: str) -> list[tuple[str, Any]]:
    tokens: list[tuple[str, Any]] = []
    for m in _LEXER.finditer(q):
        kind = m.lastgroup
        if kind in ("fname", "fquoted", "fvalue"):
            kind = "field"
        if kind == "ws":
            continue
        if kind == "field":
            name = m.group("fname")
            if name.lower() in _FIELD_NAMES:
                value = m.group("fquoted") if m.group("fquoted") is not None else m.group("fvalue")
                tokens.append(("field", (name, value)))
            else:
                # Not one of ours (10:30, http://...): plain text.
                tokens.append(("word", m.group()))
        elif kind == "phrase":
            tokens.append(("phrase", m.group("ptext")))
        elif kind == "quote":
            raise _Malformed("unbalanced quote")
        elif kind == "word" and m.group() in _OPERATORS:
            tokens.append(("op", m.group()))
        else:
            tokens.append((kind, m.group()))
    return tokens


class _Parser:
    """or := and ("OR" and)* ; and := unary ("AND"? unary)* ; unary := ("NOT" | "-") unary |
    atom ; atom := "(" or ")" | phrase | field:value | word"""

    def __init__(self, tokens: list[tuple[str, Any]]):
        self.tokens = tokens
        self.i = 0
        # Text the snippets mark: words and phrases that are not negated.
        self.needles: list[str] = []
        self.negated = False

    def peek(self) -> tuple[str, Any] | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def take(self) -> tuple[str, Any]:
        token = self.peek()
        if token is None:
            raise _Malformed("unexpected end")
        self.i += 1
        return token

    def parse(self) -> Query | None:
        if not self.tokens:
            return None
        result = self.parse_or()
        if self.peek() is not None:
            raise _Malformed("trailing tokens")
        return result

    def parse_or(self) -> Query:
        parts = [self.parse_and()]
        while self.peek() == ("op", "OR"):
            self.take()
            parts.append(self.parse_and())
        return parts[0] if len(parts) == 1 else Or(parts)

    def parse_and(self) -> Query:
        positives: list[Query] = []
        negatives: list[Query] = []
        expect_operand = True
        while True:
            token = self.peek()
            if token is None or token == ("rparen", ")") or token == ("op", "OR"):
                break
            if token == ("op", "AND"):
                if expect_operand:
                    raise _Malformed("AND without left operand")
                self.take()
                expect_operand = True
                if self.peek() is None:
                    raise _Malformed("AND without right operand")
                continue
            negated, query = self.parse_unary()
            (negatives if negated else positives).append(query)
            expect_operand = False
        if not positives and not negatives:
            raise _Malformed("empty group")
        positive: Query = (
            Every() if not positives else positives[0] if len(positives) == 1 else And(positives)
        )
        if not negatives:
            return positive
        negative = negatives[0] if len(negatives) == 1 else Or(negatives)
        return AndNot(positive, negative)

    def parse_unary(self) -> tuple[bool, Query]:
        token = self.peek()
        if token in (("op", "NOT"), ("minus", "-")):
            self.take()
            self.negated = not self.negated
            try:
                negated, query = self.parse_unary()
            finally:
                self.negated = not self.negated
            return not negated, query
        return False, self.parse_atom()

    def parse_atom(self) -> Query:
        kind, value = self.take()
        if kind == "lparen":
            query = self.parse_or()
            if self.take() != ("rparen", ")"):
                raise _Malformed("unbalanced parenthesis")
            return query
        if kind == "phrase":
            value = join_cjk_spaces(value)
            if not self.negated:
                self.needles.extend(_needles(value, exact=True))
            return text_query(value, exact=True)
        if kind == "field":
            return field_query(*value)
        if kind == "word":
            if not self.negated:
                self.needles.extend(_needles(value))
            return text_query(value)
        raise _Malformed(f"unexpected {value!r}")


def _needles(term: str, *, exact: bool = False) -> list[str]:
    """The normalised strings a snippet marks for a term: its CJK runs and words, and those of
    its synonyms."""
    words = [term] if exact else list(_SYNONYMS.get(normalize(term), (term,)))
    return [segment.text for word in words for segment in query_segments(word)]


def _plain_terms(q: str) -> tuple[Query | None, list[str]]:
    """The fallback for a query that does not parse: its words ANDed, syntax ignored."""
    words = [
        word.lstrip("-")
        for word in re.split(r"[\s()\"]+", q)
        if word and word not in _OPERATORS and word.lstrip("-")
    ]
    queries = [text_query(word) for word in words]
    queries = [query for query in queries if query is not NullQuery]
    if not queries:
        return None, []
    needles = [needle for word in words for needle in _needles(word)]
    return (queries[0] if len(queries) == 1 else And(queries)), needles


def _parse(q: str) -> tuple[Query | None, list[str]]:
    q = _normalize_query(q or "").strip()
    if not q:
        return None, []
    try:
        parser = _Parser(_lex(q))
        return parser.parse(), parser.needles
    except (_Malformed, RecursionError):
        return _plain_terms(q)


def parse_query(q: str) -> Query | None:
    """The Whoosh query for the user's text; None for an empty (or syntax-only) query."""
    return _parse(q)[0]


# -- parameters and results -----------------------------------------------------------------


@dataclass
class SearchParams:
    """What the drafting team asked for: text plus filters; empty fields do not filter."""

    q: str = ""
    draft_id: int | None = None
    article: int | None = None
    chapter: int | None = None
    category_ids: list[int] = field(default_factory=list)
    stance: str | None = None
    identity: str | None = None
    channel: str | None = None
    liaison_point: str | None = None
    district: str | None = None
    decision: str | None = None  # a Decision value, or "none" for undecided
    date_from: date | None = None
    date_to: date | None = None  # inclusive
    sort: str = "relevance"


@dataclass
class SearchResult:
    """One page of matches: ids in rank order, their snippets, and facet counts."""

    total: int
    ids: list[int]
    highlights: dict[int, Markup]
    # field -> [(value, count)], most frequent first; article and chapter 0 mean "whole draft",
    # draft, article, chapter and categories values are ints, the others strings.
    facets: dict[str, list[tuple[Any, int]]]
    page: int = 1
    per_page: int = 20

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def _local_midnight_utc(day: date, tz: ZoneInfo) -> datetime:
    local = datetime.combine(day, time.min, tzinfo=tz)
    return local.astimezone(UTC).replace(tzinfo=None)


# -- snippets -------------------------------------------------------------------------------


SNIPPET_CHARS = 160
SNIPPET_LEAD = 40


def snippet(text: str, needles: Iterable[str]) -> Markup:
    """About SNIPPET_CHARS characters of text around its first match, each occurrence of a
    needle (normalised, see analysis.normalize) in <mark>, everything else escaped.

    Marks are found on the normalised text and mapped back, so ＰＭ２．５ and 第12条 are marked
    as written. Whoosh's highlighter re-analyses the text: 17 ms for a page of 20, more than
    the median search (docs/search.md); this costs 2 ms.
    """
    normalized, starts, ends = normalize_with_offsets(text)
    spans: list[list[int]] = []
    for needle in set(needles):
        if not needle:
            continue
        at = normalized.find(needle)
        while at != -1:
            spans.append([starts[at], ends[at + len(needle) - 1]])
            at = normalized.find(needle, at + 1)
    spans.sort()
    merged: list[list[int]] = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    begin = max(0, merged[0][0] - SNIPPET_LEAD) if merged else 0
    stop = min(len(text), begin + SNIPPET_CHARS)
    out: list[Markup] = [Markup("…")] if begin > 0 else []
    index = begin
    for start, end in merged:
        start, end = max(start, index), min(end, stop)
        if start >= stop:
            break
        if start >= end:
            continue
        out.append(escape(text[index:start]))
        out.append(Markup("<mark>{}</mark>").format(text[start:end]))
        index = end
    out.append(escape(text[index:stop]))
    if stop < len(text):
        out.append(Markup("…"))
    return Markup("").join(out)


# -- running a search -----------------------------------------------------------------------


# Facet values of every document, per segment: segments never change once written (deleted
# documents are never in a result), so a segment's columns are read once per process, and only
# new segments after a commit. Each field becomes an array of small integer codes into a list
# of its values, so counting the facets of a result is one numpy bincount per field: at 100,000
# matches a few milliseconds, where Whoosh's groupedby took 800 ms and Counter over lists 100 ms
# (docs/search.md, "Performance").
_segment_columns: dict[tuple[str, str], tuple] = {}
_MAX_CACHED = 2000
_CODED = (*(name for name in FACET_FIELDS if name != "categories"),)


def _segment_column(reader, fieldname: str) -> tuple:
    """One segment's column: (codes, values) for a single-valued field; for categories a dict
    value -> sorted local document numbers; for created_at microseconds since the epoch."""
    segment = reader.segment()
    key = (segment.segment_id(), fieldname) if segment is not None else None
    cached = _segment_columns.get(key) if key else None
    if cached is not None:
        return cached
    count = reader.doc_count_all()
    if fieldname == "categories":
        lists: dict[int, list[int]] = {}
        if "categories" in reader.indexed_field_names():
            for text in reader.field_terms("categories"):
                lists[int(text)] = list(reader.postings("categories", text).all_ids())
        column = ({value: np.array(docs, dtype=np.int64) for value, docs in lists.items()},)
    elif fieldname == "created_at":
        raw = list(reader.column_reader(fieldname, translate=True))
        column = (np.array(raw, dtype="datetime64[us]").astype(np.int64),)
    else:
        raw = list(reader.column_reader(fieldname, translate=True)) if count else []
        values: dict[Any, int] = {}
        codes = np.fromiter(
            (values.setdefault(v, len(values)) for v in raw), dtype=np.int32, count=len(raw)
        )
        column = (codes, list(values))
    if key:
        if len(_segment_columns) > _MAX_CACHED:
            _segment_columns.clear()
        _segment_columns[key] = column
    return column


@dataclass
class _Columns:
    """Facet columns of one searcher, by global document number (built once per searcher)."""

    size: int
    live: np.ndarray  # bool: not deleted
    codes: dict[str, np.ndarray]  # field -> int32 code per document
    values: dict[str, list]  # field -> value of each code
    categories: dict[int, np.ndarray]  # category id -> global document numbers
    created: np.ndarray  # int64 microseconds
    ids: np.ndarray  # int64 comment id per document


def _columns(searcher: Searcher) -> _Columns:
    columns = getattr(searcher, "_portal_columns", None)
    if columns is not None:
        return columns
    leaves = [(r, offset) for r, offset in searcher.reader().leaf_readers()]
    size = searcher.reader().doc_count_all()
    live = np.ones(size, dtype=bool)
    codes: dict[str, list[np.ndarray]] = {name: [] for name in _CODED}
    values: dict[str, dict[Any, int]] = {name: {} for name in _CODED}
    categories: dict[int, list[np.ndarray]] = {}
    created: list[np.ndarray] = []
    ids: list[np.ndarray] = []
    for reader, offset in leaves:
        count = reader.doc_count_all()
        if count == 0:
            continue
        segment = reader.segment()
        if segment is not None and segment.has_deletions():
            deleted = np.fromiter(segment.deleted_docs(), dtype=np.int64)
            live[deleted + offset] = False
        for name in _CODED:
            local_codes, local_values = _segment_column(reader, name)
            index = values[name]
            remap = np.array(
                [index.setdefault(v, len(index)) for v in local_values], dtype=np.int32
            )
            codes[name].append(remap[local_codes] if len(remap) else local_codes)
        for value, docs in _segment_column(reader, "categories")[0].items():
            categories.setdefault(value, []).append(docs + offset)
        created.append(_segment_column(reader, "created_at")[0])
        id_codes, id_values = _segment_column(reader, "id")
        ids.append(np.array([int(v) for v in id_values], dtype=np.int64)[id_codes])

    def join(parts: list[np.ndarray], dtype) -> np.ndarray:
        return np.concatenate(parts) if parts else np.zeros(0, dtype=dtype)

    columns = _Columns(
        size=size,
        live=live,
        codes={name: join(parts, np.int32) for name, parts in codes.items()},
        values={name: list(index) for name, index in values.items()},
        categories={value: join(parts, np.int64) for value, parts in categories.items()},
        created=join(created, np.int64),
        ids=join(ids, np.int64),
    )
    searcher._portal_columns = columns
    return columns


def _facet_value(fieldname: str, value: Any) -> Any:
    if fieldname == "draft":
        try:
            return int(value)
        except (TypeError, ValueError):
            return value
    return value


def _facets(searcher: Searcher, docs) -> dict[str, list[tuple[Any, int]]]:
    """Counts of each facet value over the documents (global numbers) of the whole result."""
    columns = _columns(searcher)
    if isinstance(docs, np.ndarray):
        matched = docs
    else:
        matched = np.fromiter(docs, dtype=np.int64, count=len(docs))
    facets: dict[str, list[tuple[Any, int]]] = {}
    for name in FACET_FIELDS:
        if name == "categories":
            mask = np.zeros(columns.size, dtype=bool)
            mask[matched] = True
            counts = [
                (value, int(np.count_nonzero(mask[members])))
                for value, members in columns.categories.items()
            ]
        else:
            values = columns.values[name]
            bins = np.bincount(columns.codes[name][matched], minlength=len(values))
            counts = [(values[i], int(bins[i])) for i in np.flatnonzero(bins)]
        items = [(_facet_value(name, v), n) for v, n in counts if n and v not in (None, "")]
        items.sort(key=lambda item: (-item[1], str(item[0]).zfill(12)))
        facets[name] = items
    return facets


def _has_filters(params: SearchParams) -> bool:
    return any(
        (
            params.draft_id is not None,
            params.article is not None,
            params.chapter is not None,
            params.category_ids,
            params.stance,
            params.identity,
            params.channel,
            params.decision,
            params.liaison_point,
            params.district,
            params.date_from,
            params.date_to,
        )
    )


def _filter_mask(columns: _Columns, params: SearchParams, tz: ZoneInfo) -> np.ndarray:
    """Live documents that pass the filters of params: the filters as array comparisons."""
    mask = columns.live.copy()

    def require(name: str, value: Any) -> None:
        values = columns.values[name]
        try:
            code = values.index(value)
        except ValueError:
            mask[:] = False
            return
        mask[columns.codes[name] != code] = False

    if params.draft_id is not None:
        require("draft", str(params.draft_id))
    if params.article is not None:
        require("article", params.article)
    if params.chapter is not None:
        require("chapter", params.chapter)
    if params.category_ids:
        wanted = np.zeros(columns.size, dtype=bool)
        for category in params.category_ids:
            members = columns.categories.get(int(category))
            if members is not None:
                wanted[members] = True
        mask &= wanted
    for name in ("stance", "identity", "channel", "decision"):
        value = getattr(params, name)
        if value:
            require(name, str(value).lower())
    if params.liaison_point:
        require("liaison_point", params.liaison_point)
    if params.district:
        require("district", params.district)
    if params.date_from:
        start = _local_midnight_utc(params.date_from, tz)
        mask &= columns.created >= np.datetime64(start, "us").astype(np.int64)
    if params.date_to:
        end = _local_midnight_utc(params.date_to + timedelta(days=1), tz)
        mask &= columns.created < np.datetime64(end, "us").astype(np.int64)
    return mask


def _ordered(columns: _Columns, docs: np.ndarray, sort: str) -> np.ndarray:
    """docs (ascending) in the order of a field sort, as Whoosh orders them (ties by
    document number): newest (also "relevance" without text), oldest or article."""
    created = columns.created[docs]
    if sort == "oldest":
        order = np.lexsort((docs, created))
    elif sort == "article":
        articles = np.array(columns.values["article"], dtype=object)[columns.codes["article"][docs]]
        article_keys = np.array([a if a is not None else 0 for a in articles], dtype=np.int64)
        order = np.lexsort((docs, created, article_keys))
    else:
        order = np.lexsort((docs, -created))
    return docs[order]


def _matches(searcher: Searcher, params: SearchParams, tz: ZoneInfo) -> tuple[np.ndarray, list]:
    """Every matching document (global numbers) in the requested order, and the strings the
    snippets mark.

    A text query is evaluated by portal/search/evaluate.py (numpy over Whoosh's postings, the
    same matches and BM25F scores as Whoosh's matchers in a quarter of the time); the filters and
    the field sorts come from the cached columns. Without text (browsing) the columns answer
    alone, instead of Whoosh walking and sorting every document (400 ms at 100,000).
    Relevance orders as Whoosh does: score descending, ties by document number.
    """
    query, needles = _parse(params.q)
    columns = _columns(searcher)
    sort = params.sort if params.sort in SORTS else "relevance"
    if query is None:
        docs = np.flatnonzero(_filter_mask(columns, params, tz))
        return _ordered(columns, docs, sort), needles
    docs, scores = evaluate(searcher, query)
    if _has_filters(params) and len(docs):
        keep = _filter_mask(columns, params, tz)[docs]
        docs, scores = docs[keep], scores[keep]
    if sort == "relevance":
        return docs[np.lexsort((docs, -scores))], needles
    return _ordered(columns, docs, sort), needles


def run_search(
    searcher: Searcher,
    params: SearchParams,
    *,
    page: int = 1,
    per_page: int = 20,
    tz: ZoneInfo | None = None,
    facets: bool = True,
) -> SearchResult:
    """search() on a given searcher; no Flask needed (the benchmark calls this).

    Every match is found (the exact total and the facets count all of them); only the page's
    documents are read for their snippets.
    """
    page = max(1, int(page))
    per_page = max(1, min(int(per_page), MAX_PER_PAGE))
    docs, needles = _matches(searcher, params, tz or ZoneInfo("UTC"))
    ids: list[int] = []
    snippets: dict[int, Markup] = {}
    for docnum in docs[(page - 1) * per_page : page * per_page].tolist():
        stored = searcher.stored_fields(docnum)
        comment_id = int(stored["id"])
        ids.append(comment_id)
        snippets[comment_id] = snippet(stored.get("body", ""), needles)
    return SearchResult(
        total=len(docs),
        ids=ids,
        highlights=snippets,
        facets=_facets(searcher, docs) if facets else {},
        page=page,
        per_page=per_page,
    )


def _timezone() -> ZoneInfo:
    from flask import current_app

    return ZoneInfo(current_app.config.get("BABEL_DEFAULT_TIMEZONE") or "UTC")


def search(params: SearchParams, *, page: int = 1, per_page: int = 20) -> SearchResult:
    """Search the app's index (INDEX_DIR) with the process's shared searcher."""
    from portal.search.index import using_searcher

    with using_searcher() as searcher:
        return run_search(searcher, params, page=page, per_page=per_page, tz=_timezone())


def matching_ids(params: SearchParams, *, limit: int | None = None) -> list[int]:
    """The ids of every matching opinion (at most limit) in the params' order: a bulk action
    on a whole result. No snippets, no facets."""
    from portal.search.index import using_searcher

    with using_searcher() as searcher:
        docs, _ = _matches(searcher, params, _timezone())
        return _columns(searcher).ids[docs[:limit]].tolist()
