"""Evaluating a search query with numpy over Whoosh's posting blocks: every match and its
BM25F score, the same documents and scores as Whoosh's matchers.

Whoosh's matchers walk the postings one at a time in Python: intersecting, uniting, checking
phrase positions and scoring each posting through several method calls. A query for a common
word at 100,000 opinions has tens of thousands of matches, each through a tree of matchers:
400-800 ms (docs/search.md, "Performance"). Here each term's postings are read a block at a
time (128 postings in one unpickling) into arrays, and the query tree is evaluated on those
arrays: sorted intersections and unions, phrase positions compared as (document, position)
keys, BM25F for all postings of a term in one expression. The index, the postings, the
statistics and the scoring formula are Whoosh's; only the loop is not.

``evaluate()`` handles what the search page's parser builds (terms, the phrases of n-grams,
And, Or, AndNot, Every, NullQuery); any other query node (a numeric or date range typed as
field:value) goes through Whoosh's own matcher for that node, so every query works.
tests/search/test_evaluate.py compares documents and scores with Whoosh's on random queries.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from operator import itemgetter

import numpy as np
from whoosh.codec.whoosh3 import LENGTHS_COLUMN, W3LeafMatcher, _lenfield
from whoosh.query import And, AndNot, Every, NullQuery, Or, Query, Term
from whoosh.query.qcore import _NullQuery
from whoosh.scoring import BM25FScorer, WeightScorer
from whoosh.searching import Searcher
from whoosh.util.numeric import byte_to_length

from portal.search.matching import NgramPhrase
from portal.search.writer import POSITION_DTYPE, NgramPositions

__all__ = ["evaluate"]

_EMPTY_DOCS = np.zeros(0, dtype=np.int64)
_EMPTY_SCORES = np.zeros(0, dtype=np.float64)
# (document index, position) as one integer: positions are uint32, and a phrase's offsets
# (subtracted below) are small, so documents never run into each other.
_STRIDE = np.int64(1 << 34)


@dataclass
class _Postings:
    """One term's postings in one segment: local document numbers (ascending), weights, and
    the encoded positions when the field has them."""

    docs: np.ndarray
    weights: np.ndarray
    values: list[bytes] | None


@dataclass
class _Matches:
    """A query node's result in one segment: local document numbers (ascending, unique) and
    the score of each."""

    docs: np.ndarray
    scores: np.ndarray

    def __len__(self) -> int:
        return len(self.docs)


_NONE = _Matches(_EMPTY_DOCS, _EMPTY_SCORES)


def _read_postings(reader, fieldname: str, tbytes: bytes, with_values: bool) -> _Postings | None:
    """Every posting of a term in a segment (deleted documents included), a block at a time."""
    if (fieldname, tbytes) not in reader:
        return None
    terms = reader._terms
    fmt = reader.schema[fieldname].format
    terminfo = terms.term_info(fieldname, tbytes)
    if terminfo.is_inlined():
        ids, weights, values = terminfo.inlined_postings()
        return _Postings(
            np.asarray(ids, dtype=np.int64),
            np.asarray(weights, dtype=np.float64),
            list(values) if with_values else None,
        )
    matcher = terms.matcher(fieldname, tbytes, fmt)
    if not isinstance(matcher, W3LeafMatcher):  # another codec: Whoosh's own iteration
        ids, weights, values = [], [], []
        while matcher.is_active():
            ids.append(matcher.id())
            weights.append(matcher.weight())
            if with_values:
                values.append(matcher.value())
            matcher.next()
        return _Postings(
            np.asarray(ids, dtype=np.int64),
            np.asarray(weights, dtype=np.float64),
            values if with_values else None,
        )
    deltas: list[int] = []
    weights: list[float] = []
    values: list[bytes] = []
    previous_max = 0
    while True:
        matcher._read_data()  # one unpickling (and decompression) per block of postings
        block_ids, block_weights, _ = matcher._data
        count = matcher._blocklength
        start = len(deltas)
        deltas.extend(block_ids)
        # A block's ids are deltas from 0: rebase its first on the previous block's last id.
        deltas[start] -= previous_max
        previous_max = matcher._maxid
        if block_weights is None:
            weights.extend([1.0] * count)
        elif isinstance(block_weights, float):
            weights.extend([block_weights] * count)
        else:
            weights.extend(block_weights)
        if with_values:
            matcher._read_values()
            values.extend(matcher._values)
        if matcher._lastblock:
            break
        matcher._goto(matcher._nextoffset)
    return _Postings(
        np.cumsum(np.asarray(deltas, dtype=np.int64)),
        np.asarray(weights, dtype=np.float64),
        values if with_values else None,
    )


# Field lengths per (segment id, field) as arrays, decoded from Whoosh's length bytes once.
_lengths: dict[tuple[str, str], np.ndarray] = {}
_lengths_lock = threading.Lock()
_MAX_CACHED = 500
_LENGTH_OF_BYTE = np.array([byte_to_length(b) if b else 1 for b in range(256)], dtype=np.float64)


def _field_lengths(reader, fieldname: str) -> np.ndarray:
    segment = reader.segment()
    key = (segment.segment_id(), fieldname)
    cached = _lengths.get(key)
    if cached is not None:
        return cached
    count = reader.doc_count_all()
    lengths = np.ones(count, dtype=np.float64)
    lenfield = _lenfield(fieldname)
    perdoc = reader._perdoc
    if perdoc.has_column(lenfield):
        column = perdoc.column_reader(lenfield, LENGTHS_COLUMN)
        stored = min(column._count, count)
        data = column._dbfile.get(column._basepos, stored) if stored else b""
        lengths[:stored] = _LENGTH_OF_BYTE[np.frombuffer(data, dtype=np.uint8)]
    with _lengths_lock:
        if len(_lengths) > _MAX_CACHED:
            _lengths.clear()
        _lengths[key] = lengths
    return lengths


class _Segment:
    """Evaluates query nodes in one segment; a term read once per evaluation."""

    def __init__(self, searcher: Searcher, subsearcher: Searcher):
        self.searcher = searcher
        self.subsearcher = subsearcher
        self.reader = subsearcher.reader()
        self.schema = self.reader.schema
        self._postings: dict[tuple[str, bytes, bool], _Postings | None] = {}
        self._term_scores: dict[tuple[str, bytes], np.ndarray] = {}

    # -- terms ------------------------------------------------------------------------------

    def postings(self, fieldname: str, tbytes: bytes, with_values: bool) -> _Postings | None:
        key = (fieldname, tbytes, with_values)
        if key not in self._postings:
            found = self._postings.get((fieldname, tbytes, True)) if not with_values else None
            self._postings[key] = found or _read_postings(
                self.reader, fieldname, tbytes, with_values
            )
        return self._postings[key]

    def term_scores(self, fieldname: str, tbytes: bytes, postings: _Postings) -> np.ndarray:
        """The score of each posting of a term, as Whoosh's scorer computes it one by one."""
        key = (fieldname, tbytes)
        scores = self._term_scores.get(key)
        if scores is not None:
            return scores
        scorer = self.searcher.weighting.scorer(self.subsearcher, fieldname, tbytes)
        if isinstance(scorer, BM25FScorer):
            lengths = _field_lengths(self.reader, fieldname)[postings.docs]
            tf, k1, b, avgfl = postings.weights, scorer.K1, scorer.B, scorer.avgfl
            # whoosh.scoring.bm25, operation by operation in the same order.
            scores = scorer.idf * ((tf * (k1 + 1)) / (tf + k1 * ((1 - b) + b * lengths / avgfl)))
        elif isinstance(scorer, WeightScorer):
            scores = postings.weights
        else:
            raise _Unsupported(f"scorer {type(scorer).__name__}")
        self._term_scores[key] = scores
        return scores

    def _tbytes(self, fieldname: str, text) -> bytes | None:
        field = self.schema[fieldname]
        if isinstance(text, bytes):
            return text
        try:
            return field.to_bytes(text)
        except ValueError:
            return None

    # -- nodes ------------------------------------------------------------------------------

    def run(self, query: Query) -> _Matches:
        if query is NullQuery or isinstance(query, _NullQuery):
            return _NONE
        kind = type(query)
        try:
            if kind is Term:
                matches = self.term(query)
            elif kind is NgramPhrase and query.slop == 1 and len(query.words) > 1:
                matches = self.phrase(query)
            elif kind is And:
                matches = self.conjunction(query.subqueries)
            elif kind is Or and not query.minmatch and query.scale is None:
                matches = self.disjunction(query.subqueries)
            elif kind is AndNot:
                matches = self.difference(query.a, query.b)
            elif kind is Every and query.fieldname is None:
                docs = np.arange(self.reader.doc_count_all(), dtype=np.int64)
                matches = _Matches(docs, np.ones(len(docs), dtype=np.float64))
            else:
                raise _Unsupported(kind.__name__)
        except _Unsupported:
            return self.whoosh(query)
        if query.boost != 1.0 and len(matches):
            matches = _Matches(matches.docs, matches.scores * query.boost)
        return matches

    def whoosh(self, query: Query) -> _Matches:
        """Whoosh's own matcher for a node this module does not evaluate."""
        subsearcher = self.subsearcher
        matcher = query.matcher(subsearcher, subsearcher.context())
        docs, scores = [], []
        while matcher.is_active():
            docs.append(matcher.id())
            scores.append(matcher.score())
            matcher.next()
        return _Matches(np.asarray(docs, dtype=np.int64), np.asarray(scores, dtype=np.float64))

    def term(self, query: Term) -> _Matches:
        if query.fieldname not in self.schema:
            return _NONE
        tbytes = self._tbytes(query.fieldname, query.text)
        if tbytes is None:
            return _NONE
        postings = self.postings(query.fieldname, tbytes, False)
        if postings is None:
            return _NONE
        return _Matches(postings.docs, self.term_scores(query.fieldname, tbytes, postings))

    def phrase(self, query: NgramPhrase) -> _Matches:
        """Documents where the words occur at consecutive positions, scored as the sum of the
        words' scores (Whoosh scores a phrase by its words' intersection)."""
        fieldname = query.fieldname
        if fieldname not in self.schema:
            return _NONE
        if type(self.schema[fieldname].format) is not NgramPositions:
            raise _Unsupported("positions in another format")
        words = []
        for word in query.words:
            tbytes = self._tbytes(fieldname, word)
            postings = self.postings(fieldname, tbytes, True) if tbytes is not None else None
            if postings is None:
                return _NONE
            words.append((tbytes, postings))
        candidates = words[0][1].docs
        for _, postings in words[1:]:
            candidates = np.intersect1d(candidates, postings.docs, assume_unique=True)
            if not len(candidates):
                return _NONE
        starts = None
        indexes = []
        for offset, (_, postings) in enumerate(words):
            index = np.searchsorted(postings.docs, candidates)
            indexes.append(index)
            keys = _position_keys(postings.values, index, offset)
            starts = keys if starts is None else starts[np.isin(starts, keys, assume_unique=True)]
            if not len(starts):
                return _NONE
        matched = np.unique(starts // _STRIDE)
        scores = None
        for (tbytes, postings), index in zip(words, indexes, strict=True):
            term_scores = self.term_scores(fieldname, tbytes, postings)[index[matched]]
            scores = term_scores if scores is None else scores + term_scores
        return _Matches(candidates[matched], scores)

    def conjunction(self, subqueries) -> _Matches:
        parts = [self.run(q) for q in subqueries]
        if not parts:
            return _NONE
        docs = parts[0].docs
        for part in parts[1:]:
            docs = np.intersect1d(docs, part.docs, assume_unique=True)
        scores = np.zeros(len(docs), dtype=np.float64)
        for part in parts:
            scores += part.scores[np.searchsorted(part.docs, docs)]
        return _Matches(docs, scores)

    def disjunction(self, subqueries) -> _Matches:
        parts = [part for part in (self.run(q) for q in subqueries) if len(part)]
        if not parts:
            return _NONE
        if len(parts) == 1:
            return parts[0]
        docs = np.unique(np.concatenate([part.docs for part in parts]))
        scores = np.zeros(len(docs), dtype=np.float64)
        for part in parts:
            scores[np.searchsorted(docs, part.docs)] += part.scores
        return _Matches(docs, scores)

    def difference(self, positive: Query, negative: Query) -> _Matches:
        matches = self.run(positive)
        if not len(matches):
            return matches
        excluded = self.run(negative).docs
        keep = ~np.isin(matches.docs, excluded, assume_unique=True)
        return _Matches(matches.docs[keep], matches.scores[keep])


class _Unsupported(Exception):
    pass


def _position_keys(values: list[bytes], index: np.ndarray, offset: int) -> np.ndarray:
    """(candidate number, position - offset) keys of the chosen postings, ascending."""
    if len(index) == 1:
        chosen: tuple[bytes, ...] = (values[int(index[0])],)
    else:
        chosen = itemgetter(*index.tolist())(values)
    counts = np.fromiter(map(len, chosen), dtype=np.int64, count=len(chosen)) // 4
    positions = np.frombuffer(b"".join(chosen), dtype=POSITION_DTYPE).astype(np.int64)
    candidate = np.repeat(np.arange(len(chosen), dtype=np.int64), counts)
    return candidate * _STRIDE + (positions - offset)


def evaluate(searcher: Searcher, query: Query) -> tuple[np.ndarray, np.ndarray]:
    """Every live document matching query, as global document numbers (ascending), and the
    score Whoosh's searcher would give each."""
    doc_parts, score_parts = [], []
    for subsearcher, offset in searcher.leaf_searchers():
        reader = subsearcher.reader()
        if reader.doc_count_all() == 0:
            continue
        matches = _Segment(searcher, subsearcher).run(query)
        if not len(matches):
            continue
        docs, scores = matches.docs, matches.scores
        if reader.has_deletions():
            deleted = np.fromiter(reader.segment().deleted_docs(), dtype=np.int64)
            keep = ~np.isin(docs, deleted)
            docs, scores = docs[keep], scores[keep]
        doc_parts.append(docs + offset)
        score_parts.append(scores)
    if not doc_parts:
        return _EMPTY_DOCS, _EMPTY_SCORES
    return np.concatenate(doc_parts), np.concatenate(score_parts)
