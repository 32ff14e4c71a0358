"""Faster matching and scoring for the portal's index, with the same results as Whoosh's.

Profiling the slowest searches (docs/search.md, "Performance") showed two costs that do not
depend on what is searched for:

- A phrase (every query word is a phrase of its bigrams) is Whoosh's SpanNear2: for each
  document with all the bigrams it builds Span objects and compares them pairwise. Here the
  phrase's first-token positions are intersected with the shifted positions of the others,
  as Python sets: the same documents.
- BM25F looks up the document's field length through a file-backed column for every
  matching posting. Here each segment's lengths are read once into a list (segments never
  change once written), the same numbers.
"""

from __future__ import annotations

import threading

from whoosh import matching
from whoosh.codec.whoosh3 import LENGTHS_COLUMN, _lenfield
from whoosh.query import Phrase, QueryError, Term
from whoosh.query.spans import Span, SpanNear2
from whoosh.scoring import BM25F, BM25FScorer
from whoosh.util.numeric import byte_to_length

__all__ = ["CachedLengthBM25F", "NgramPhrase"]


class _AdjacentMatcher(SpanNear2.SpanNear2Matcher):
    """SpanNear2Matcher for slop=1, ordered, mindist=1: tokens at consecutive positions."""

    def _get_spans(self):
        ms = self.ms
        starts = set(ms[0].value_as("positions"))
        for offset in range(1, len(ms)):
            if not starts:
                return []
            starts.intersection_update(p - offset for p in ms[offset].value_as("positions"))
        last = len(ms) - 1
        return [Span(start, start + last) for start in sorted(starts)]


class NgramPhrase(Phrase):
    """An exact phrase (slop 1): Whoosh's Phrase with a set-based position check."""

    def matcher(self, searcher, context=None):
        if self.slop != 1 or len(self.words) < 2:
            return super().matcher(searcher, context)
        fieldname = self.fieldname
        if fieldname not in searcher.schema:
            return matching.NullMatcher()
        field = searcher.schema[fieldname]
        if not field.format or not field.format.supports("positions"):
            raise QueryError(f"Phrase search: {fieldname!r} field has no positions")
        reader = searcher.reader()
        terms = []
        for word in self.words:
            try:
                word = field.to_bytes(word)
            except ValueError:
                return matching.NullMatcher()
            if (fieldname, word) not in reader:
                return matching.NullMatcher()
            terms.append(Term(fieldname, word))
        ms = [term.matcher(searcher, context) for term in terms]
        m = _AdjacentMatcher(ms, slop=1, ordered=True, mindist=1)
        if self.boost != 1.0:
            m = matching.WrappingMatcher(m, boost=self.boost)
        return m


# Field lengths per (segment id, field): a list indexed by document number, already turned
# from Whoosh's length byte into the length (1 where there is none, as Whoosh's default).
_lengths: dict[tuple[str, str], list[int] | None] = {}
_lengths_lock = threading.Lock()
_MAX_CACHED = 500
_LENGTH_OF_BYTE = [byte_to_length(b) if b else 1 for b in range(256)]


def _segment_lengths(reader, fieldname: str) -> list[int] | None:
    segment = reader.segment() if hasattr(reader, "segment") else None
    if segment is None:
        return None
    key = (segment.segment_id(), fieldname)
    try:
        return _lengths[key]
    except KeyError:
        pass
    lenfield = _lenfield(fieldname)
    lengths = None
    perdoc = getattr(reader, "_perdoc", None)
    if perdoc is not None and perdoc.has_column(lenfield):
        column = perdoc.column_reader(lenfield, LENGTHS_COLUMN)
        count = min(column._count, reader.doc_count_all())
        data = column._dbfile.get(column._basepos, count) if count else b""
        table = _LENGTH_OF_BYTE
        lengths = [table[b] for b in data]
        lengths.extend([1] * (reader.doc_count_all() - len(lengths)))
    with _lengths_lock:
        if len(_lengths) > _MAX_CACHED:
            _lengths.clear()
        _lengths[key] = lengths
    return lengths


class CachedLengthBM25F(BM25F):
    """BM25F with each segment's field lengths read once instead of once per posting."""

    def scorer(self, searcher, fieldname, text, qf=1):
        scorer = super().scorer(searcher, fieldname, text, qf=qf)
        if isinstance(scorer, BM25FScorer):
            lengths = _segment_lengths(searcher.reader(), fieldname)
            if lengths is not None:
                scorer.dfl = lengths.__getitem__
        return scorer
