"""Writing the index fast: the posting format of the text fields, a leaner Whoosh segment
writer (every index write uses it), and the parallel build behind rebuild().

Whoosh is pure Python and a rebuild pays per posting (one term of one field of one opinion,
about 310 per opinion with character unigrams and bigrams). Profiling a rebuild
(docs/search.md, "Performance") showed where; this module removes those costs and writes
the bytes Whoosh's own writer writes for the same schema (tests/search/test_writer.py
compares the files):

- NgramPositions is Whoosh's Positions format with a flat encoding of the positions (uint32,
  decoded in bulk by portal/search/evaluate.py) that asks the analyzer for
  {term: [positions]} directly instead of iterating Token objects.
- FastSegmentWriter adds a document's postings to the pool in one loop (one shared bytes
  object per term), writes them a term at a time (add_postings), reads the new segment's
  field lengths into memory once, and spills sorted runs in chunks.
- build_segments writes a whole index in several processes, starting a new segment whenever a
  pool is nearly full rather than merging sorted runs back posting by posting, and commits
  all segments at once in place of the old ones.

Only portal/search uses Whoosh (tests/search/test_cli.py enforces it).
"""

from __future__ import annotations

import logging
import marshal
import multiprocessing
import queue
import struct
from array import array
from collections.abc import Iterable, Iterator
from itertools import groupby, islice
from operator import itemgetter
from typing import Any

from whoosh.codec.base import OutOfOrderError
from whoosh.codec.whoosh3 import LENGTHS_COLUMN, W3FieldWriter, _lenfield
from whoosh.fields import NUMERIC
from whoosh.formats import Positions
from whoosh.util.numeric import byte_to_length
from whoosh.writing import PostingPool, SegmentWriter

__all__ = [
    "POSITION_DTYPE",
    "FastSegmentWriter",
    "NgramPositions",
    "build_segments",
    "decode_positions",
    "encode_positions",
]

log = logging.getLogger(__name__)

# A posting's positions: little-endian unsigned 32-bit integers, absolute, ascending. Whoosh's
# Positions format pickles the deltas after a count (13 bytes for one position, against 4
# here), and decoding a pickle per posting was most of a phrase search: these values decode
# for thousands of postings in one numpy call (portal/search/evaluate.py).
POSITION_DTYPE = "<u4"
_ONE_POSITION: dict[int, bytes] = {}
_ONE_POSITION_MAX = 4096
_pack_one = struct.Struct("<I").pack


def encode_positions(poslist: list[int]) -> bytes:
    """The positions as little-endian uint32 (most terms occur once: those bytes are cached)."""
    if len(poslist) == 1:
        pos = poslist[0]
        cached = _ONE_POSITION.get(pos)
        if cached is None:
            cached = _pack_one(pos)
            if pos < _ONE_POSITION_MAX:
                _ONE_POSITION[pos] = cached
        return cached
    return struct.pack(f"<{len(poslist)}I", *poslist)


def decode_positions(value: bytes) -> list[int]:
    return list(struct.unpack(f"<{len(value) // 4}I", value))


class NgramPositions(Positions):
    """Whoosh's Positions format with a flat encoding (encode_positions), filled from
    analyzer.term_positions() when the analyzer has it (CJKNgramTokenizer): no Token object
    per n-gram. Whoosh's own matchers decode it through the methods below."""

    def word_values(self, value, analyzer, **kwargs):
        term_positions = getattr(analyzer, "term_positions", None)
        if term_positions is None or kwargs.get("start_pos") or not isinstance(value, str):
            yield from super().word_values(value, analyzer, **kwargs)
            return
        boost = self.field_boost
        for word, poslist in term_positions(value).items():
            n = len(poslist)
            yield (word, n, float(n) * boost, encode_positions(poslist))

    def encode(self, poslist):
        return encode_positions(poslist)

    def decode_positions(self, valuestring):
        return decode_positions(valuestring)

    def decode_frequency(self, valuestring):
        return len(valuestring) // 4


_TERM_KEY = itemgetter(0, 1)
# Postings per marshal record in a sorted run on disk.
_RUN_CHUNK = 50_000


class _ChunkedPostingPool(PostingPool):
    """Whoosh's PostingPool, with its sorted runs written and read in chunks of postings, one
    marshal call per chunk instead of one per posting: a rebuild of 100,000 opinions spills a
    few runs per process, and writing and reading them posting by posting cost more than
    indexing the documents (docs/search.md, "Performance")."""

    def _write_run(self, f, items):
        if isinstance(items, list):
            chunks = (items[i : i + _RUN_CHUNK] for i in range(0, len(items), _RUN_CHUNK))
        else:
            iterator = iter(items)
            chunks = iter(lambda: list(islice(iterator, _RUN_CHUNK)), [])
        for chunk in chunks:
            marshal.dump(chunk, f, 2)
        f.close()

    def _read_run(self, path):
        f = self._open_run(path)
        try:
            while True:
                try:
                    chunk = marshal.load(f)  # noqa: S302 (our own temporary file)
                except EOFError:
                    return
                yield from chunk
        finally:
            f.close()
            self._remove_run(path)


# Whoosh's own estimate of a posting's size in the pool, without the variable parts.
_POSTING_OVERHEAD = 28 + 4 * 5 + 21 + 26 + 18 + 16 + 21


_LENGTHS = tuple(byte_to_length(b) for b in range(256))


def _term_lists(terms: dict, tbytes: bytes) -> tuple[list, list, list]:
    """A term's (document numbers, weights, values) lists in a field's dictionary, created on
    first use."""
    entry = terms.get(tbytes)
    if entry is None:
        entry = terms[tbytes] = ([], [], [])
    return entry


class _TermPool(_ChunkedPostingPool):
    """The postings of a new segment kept per term, in three lists (document numbers, weights,
    values), instead of one tuple per posting that Whoosh sorts and groups by term again when
    the segment is written: documents arrive in increasing number, so each term's postings
    are already in order and only the terms are sorted. For 10,000 opinions (3.1 million
    postings) that sort and grouping cost 12 of 37 seconds.

    A pool that outgrows limitmb (large merges; rebuild() starts a new segment instead) is
    written to disk as a sorted run like Whoosh's, and the runs are merged back when the
    segment is written.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # fieldname -> term bytes -> (document numbers, weights, values)
        self.terms: dict[str, dict[bytes, tuple[list, list, list]]] = {}
        # fieldname -> term text -> the append methods of those lists (the n-gram fields'
        # lookups skip encoding the text and looking up the methods for every posting)
        self.words: dict[str, dict[str, tuple]] = {}

    def entries(self, fieldname: str) -> tuple[dict, dict]:
        """The field's (terms by bytes, terms by text) dictionaries, created on first use."""
        terms = self.terms.get(fieldname)
        if terms is None:
            terms = self.terms[fieldname] = {}
            self.words[fieldname] = {}
            self.fieldnames.add(fieldname)
        return terms, self.words[fieldname]

    def appenders(self, fieldname: str, word: str) -> tuple:
        """The append methods of a term's three lists, by its text."""
        terms, words = self.entries(fieldname)
        entry = _term_lists(terms, word.encode("utf-8"))
        found = words[word] = (entry[0].append, entry[1].append, entry[2].append)
        return found

    def add(self, item):
        """One posting from Whoosh's own paths (merging segments, other formats)."""
        fieldname, tbytes, docnum, weight, vbytes = item
        entry = _term_lists(self.entries(fieldname)[0], tbytes)
        entry[0].append(docnum)
        entry[1].append(weight)
        entry[2].append(vbytes)
        self.currentsize += (
            _POSTING_OVERHEAD + len(fieldname) + len(tbytes) * 2 + len(vbytes or b"")
        )
        if self.currentsize > self.limit:
            self.save()

    def discard(self, docnum: int) -> None:
        """Take back the postings of the last document (it failed to be added)."""
        for terms in self.terms.values():
            for ids, weights, values in terms.values():
                while ids and ids[-1] == docnum:
                    ids.pop()
                    weights.pop()
                    values.pop()

    def _sorted_terms(self) -> Iterator[tuple[str, bytes, list, list, list]]:
        for fieldname in sorted(self.terms):
            terms = self.terms[fieldname]
            for tbytes in sorted(terms):
                ids, weights, values = terms[tbytes]
                if ids:
                    yield fieldname, tbytes, ids, weights, values

    def save(self):
        if any(self.terms.values()):
            path, f = self._new_run()
            self._write_run(
                f,
                (
                    (fieldname, tbytes, docnum, weight, value)
                    for fieldname, tbytes, ids, weights, values in self._sorted_terms()
                    for docnum, weight, value in zip(ids, weights, values, strict=True)
                ),
            )
            self._add_run(path)
        self.terms = {}
        self.words = {}
        self.current = []
        self.currentsize = 0

    def iter_terms(self) -> Iterator[tuple[str, bytes, Any, Any, Any]]:
        """(fieldname, term bytes, document numbers, weights, values) per term, in field and
        term order, each term's postings in document order."""
        if not self.runs:
            yield from self._sorted_terms()
            return
        self.save()
        runs, self.runs = self.runs, []
        for (fieldname, tbytes), group in groupby(self._merge_runs(runs), _TERM_KEY):
            _, _, ids, weights, values = zip(*group, strict=True)
            yield fieldname, tbytes, ids, weights, values

    def iter_postings(self):
        """Flat (fieldname, term, docnum, weight, value) postings, sorted, for other codecs."""
        for fieldname, tbytes, ids, weights, values in self.iter_terms():
            for docnum, weight, value in zip(ids, weights, values, strict=True):
                yield fieldname, tbytes, docnum, weight, value


class _FieldLengths:
    """doc_field_length() of a new segment from byte arrays read once per field, instead of a
    seek and read (and a stat() of the column file) per posting."""

    def __init__(self, reader, doccount: int):
        self._reader = reader
        self._doccount = doccount
        self._bytes: dict[str, bytes | None] = {}

    def _load(self, fieldname: str) -> bytes | None:
        lenfield = _lenfield(fieldname)
        if not self._reader.has_column(lenfield):
            data = None
        else:
            column = self._reader.column_reader(lenfield, LENGTHS_COLUMN)
            count = column._count
            data = column._dbfile.get(column._basepos, count) if count else b""
            data += bytes(max(0, self._doccount - len(data)))
        self._bytes[fieldname] = data
        return data

    def field_bytes(self, fieldname: str) -> bytes | None:
        """The length byte of every document of the segment (0: none), or None."""
        try:
            return self._bytes[fieldname]
        except KeyError:
            return self._load(fieldname)

    def doc_field_length(self, docnum: int, fieldname: str, default: int = 0) -> int:
        data = self.field_bytes(fieldname)
        if data is None:
            return default
        lbyte = data[docnum]
        return _LENGTHS[lbyte] if lbyte else default


class FastSegmentWriter(SegmentWriter):
    """SegmentWriter with the per-posting costs of a rebuild removed (see the module doc).

    Writes exactly what SegmentWriter writes for the portal's schema; a document with boosts
    (``_boost``, ``_stored_x``, ...) or a schema with term vectors or spelling fields goes
    through SegmentWriter's own add_document.
    """

    def __init__(self, ix, *, private_temp: bool = False, **kwargs):
        super().__init__(ix, **kwargs)
        self.pool = _TermPool(
            self._tempstorage, self.newsegment, limitmb=kwargs.get("limitmb", 128)
        )
        self._plain_schema = not any(
            field.vector or field.separate_spelling() for _, field in self.schema.items()
        )
        # Fields whose postings come straight from the analyzer's term_positions().
        self._ngram_fields = {
            name: field.analyzer.term_positions
            for name, field in self.schema.items()
            if type(field.format) is NgramPositions
            and hasattr(field.analyzer, "term_positions")
            and not isinstance(field, NUMERIC)
        }
        if private_temp:
            # A writer in another process: its sort runs in a directory of its own, which it
            # may remove without touching the parent writer's (Whoosh shares "MAIN.tmp").
            self._tempstorage = self.storage.temp_storage()
            self.pool.tempstore = self._tempstorage

    def add_document(self, **fields):
        if not self._plain_schema or any(name.startswith("_") for name in fields):
            return super().add_document(**fields)
        self._check_state()
        schema = self.schema
        perdocwriter = self.perdocwriter
        pool = self.pool
        docnum = self.docnum
        ngram_fields = self._ngram_fields
        one_position = _ONE_POSITION.get
        fieldnames = sorted(fields)
        self._check_fields(schema, fieldnames)
        size = 0
        perdocwriter.start_doc(docnum)
        try:
            for fieldname in fieldnames:
                value = fields[fieldname]
                if value is None:
                    continue
                field = schema[fieldname]
                length = 0
                if field.indexed:
                    terms, words = pool.entries(fieldname)
                    overhead = _POSTING_OVERHEAD + len(fieldname)
                    term_positions = ngram_fields.get(fieldname)
                    if term_positions is not None and isinstance(value, str):
                        # NgramPositions.word_values and TEXT.index inlined: the same values.
                        boost = field.format.field_boost
                        for word, poslist in term_positions(value).items():
                            n = len(poslist)
                            length += n
                            # encode_positions, its cache of single positions inlined.
                            vbytes = one_position(poslist[0]) if n == 1 else None
                            if vbytes is None:
                                vbytes = encode_positions(poslist)
                            appenders = words.get(word)
                            if appenders is None:
                                appenders = pool.appenders(fieldname, word)
                            add_id, add_weight, add_value = appenders
                            add_id(docnum)
                            add_weight(n * boost)
                            add_value(vbytes)
                            size += len(word) * 6 + len(vbytes) + overhead
                    else:
                        for tbytes, freq, weight, vbytes in field.index(value):
                            length += freq
                            entry = _term_lists(terms, tbytes)
                            entry[0].append(docnum)
                            entry[1].append(weight)
                            entry[2].append(vbytes)
                            size += len(tbytes) * 2 + len(vbytes or b"") + overhead
                    if not field.scorable:
                        length = 0
                perdocwriter.add_field(fieldname, field, value if field.stored else None, length)
                column = field.column_type
                if column:
                    perdocwriter.add_column_value(fieldname, column, field.to_column_value(value))
        except Exception:
            perdocwriter.cancel_doc()
            pool.discard(docnum)  # the document was not added: neither are its postings
            raise
        perdocwriter.finish_doc()
        pool.currentsize += size
        if pool.currentsize > pool.limit:
            pool.save()
        self._added = True
        self.docnum += 1

    def _flush_segment(self):
        self.perdocwriter.close()
        reader = self.per_document_reader() if self.codec.length_stats else None
        lengths = _FieldLengths(reader, self.docnum - self.docbase) if reader else None
        if type(self.fieldwriter) is W3FieldWriter:
            add_postings(self.fieldwriter, self.schema, lengths, self.pool.iter_terms())
        else:
            self.fieldwriter.add_postings(self.schema, lengths, self.pool.iter_postings())
        self.fieldwriter.close()
        if reader:
            reader.close()


def add_postings(fieldwriter: W3FieldWriter, schema, lengths, terms) -> None:
    """FieldWriter.add_postings for Whoosh's W3 codec, a term at a time instead of a posting at
    a time: each term's lists (from _TermPool.iter_terms) are cut into blocks by slicing,
    where Whoosh calls add() and add_posting() (with four assertions) and looks up the field
    length for every posting. The blocks, their statistics and the term infos are the ones
    W3PostingsWriter.add_posting builds (tests/search/test_writer.py compares the files byte
    for byte).
    """
    lastfn = None
    lastkey = None
    field_bytes = None
    for fieldname, btext, ids, weights, values in terms:
        key = (fieldname, btext)
        if lastkey is not None and key < lastkey:
            raise OutOfOrderError(f"Term {lastkey!r} .. {key!r}")
        lastkey = key
        if fieldname != lastfn:
            if lastfn is not None:
                fieldwriter.finish_field()
            fieldwriter.start_field(fieldname, schema[fieldname])
            lastfn = fieldname
            field_bytes = lengths.field_bytes(fieldname) if lengths is not None else None
        if ids[0] == -1:
            continue  # a spelling word (Whoosh's marker); the portal has none
        fieldwriter.start_term(btext)
        postwriter = fieldwriter._postwriter
        limit = postwriter._blocklimit
        for start in range(0, len(ids), limit):
            if start:
                postwriter._write_block()
            stop = start + limit
            block_ids = ids[start:stop]
            block_weights = weights[start:stop]
            postwriter._ids = array("I", block_ids)
            postwriter._weights = array("f", block_weights)
            postwriter._values = [v for v in values[start:stop] if v]
            if field_bytes is not None:
                # Lengths grow with their byte, so the extremes of the bytes give theirs.
                block_bytes = [b for b in map(field_bytes.__getitem__, block_ids) if b]
            else:
                block_bytes = None
            if block_bytes:
                postwriter._minlength = _LENGTHS[min(block_bytes)]
                postwriter._maxlength = _LENGTHS[max(block_bytes)]
            else:
                postwriter._minlength = None
                postwriter._maxlength = 0
            postwriter._maxweight = max(0, max(block_weights))
        fieldwriter.finish_term()
    if lastfn is not None:
        fieldwriter.finish_field()


# -- building a whole index in several processes --------------------------------------------

# Documents handed to a helper at a time: small enough to share the work evenly, large enough
# that pickling them costs nothing noticeable.
_PORTION = 100
# Enough portions that a helper keeps working while this process finishes a segment of its own
# (about 20 s for 10,000 opinions); at the end this process takes what is left from the queue.
_QUEUED_BATCHES = 100
# A segment is finished when its pool of postings is this full (of the writers' limitmb).
_SEGMENT_FILL = 0.9
# How long the parent waits for a helper to hand back its segment after the last batch.
_HELPER_TIMEOUT = 3600.0


class _SegmentSeries:
    """Writes documents into new segments (not yet in the index), starting the next segment
    when the pool of postings is nearly full instead of spilling sorted runs to disk: merging
    runs back, posting by posting in Python, cost more than a few more segments cost a search
    (docs/search.md, "Performance")."""

    def __init__(self, ix, options: dict):
        self.ix = ix
        self.options = options
        self.writer: FastSegmentWriter | None = None
        self.segments: list = []

    def add(self, fields: dict) -> None:
        if self.writer is None:
            self.writer = FastSegmentWriter(self.ix, _lk=False, private_temp=True, **self.options)
        self.writer.add_document(**fields)
        pool = self.writer.pool
        if pool.currentsize > pool.limit * _SEGMENT_FILL:
            self.finish()

    def finish(self) -> list:
        writer, self.writer = self.writer, None
        if writer is not None:
            self.segments.append(writer._finalize_segment())
            writer._tempstorage.destroy()
        return self.segments

    def abandon(self) -> None:
        writer, self.writer = self.writer, None
        if writer is not None:
            try:
                writer._close_segment()
                writer._tempstorage.destroy()
            except Exception:
                log.exception("cleaning up an abandoned index segment")


def _helper(storage, indexname, schema, options, jobs, results) -> None:
    """A helper process: index the batches it is given into segments of its own and hand the
    segments (not yet in the index) back to the parent, which holds the lock and commits."""
    series = None
    try:
        ix = storage.open_index(indexname, schema=schema)
        series = _SegmentSeries(ix, options)
        count = 0
        while (batch := jobs.get()) is not None:
            for fields in batch:
                series.add(fields)
            count += len(batch)
        results.put(("ok", count, series.finish()))
    except BaseException as exc:  # reported to the parent, which raises
        if series is not None:
            series.abandon()
        results.put(("error", 0, f"{type(exc).__name__}: {exc}"))


def build_segments(ix, batches: Iterable[list[dict]], *, procs: int = 1, **options) -> int:
    """Write every document of batches into a fresh index: the new segments replace all old
    ones in one commit (Whoosh's CLEAR), so searches see the old index until then.

    With procs > 1, procs - 1 helper processes (forked) write segments of their own while
    this process reads the batches (the database) and writes the portions the helpers cannot
    take at once. Each process starts a new segment whenever its pool of postings is nearly
    full (limitmb), so at 100,000 opinions the index has about ten segments. ``options`` go to
    every writer (timeout and delay only to this process's, which takes the lock and commits).
    Returns the number of documents.
    """
    lock_options = {k: options.pop(k) for k in ("timeout", "delay") if k in options}
    # This writer holds the lock and commits; the documents go into _SegmentSeries.
    writer = FastSegmentWriter(ix, **lock_options, **options)
    series = _SegmentSeries(ix, options)
    helpers = []
    count = 0
    try:
        if procs > 1:
            context = multiprocessing.get_context("fork")
            jobs = context.Queue(_QUEUED_BATCHES * (procs - 1))
            results = context.Queue()
            for _ in range(procs - 1):
                helper = context.Process(
                    target=_helper,
                    args=(ix.storage, ix.indexname, writer.schema, options, jobs, results),
                    daemon=True,
                )
                helper.start()
                helpers.append(helper)
        for batch in _portions(batches, _PORTION):
            count += len(batch)
            if helpers:
                try:
                    jobs.put_nowait(batch)
                    continue
                except queue.Full:
                    pass  # every helper is busy: write this portion here
            for fields in batch:
                series.add(fields)
        if helpers:
            # What the helpers have not taken yet, this process takes too.
            while True:
                try:
                    batch = jobs.get_nowait()
                except queue.Empty:
                    break
                for fields in batch:
                    series.add(fields)
        # Tell the helpers first: they finish their segments while this process does its own.
        for _ in helpers:
            jobs.put(None, timeout=_HELPER_TIMEOUT)
        segments = series.finish()
        if helpers:
            for _ in helpers:
                status, _, done = _result(results, helpers)
                if status != "ok":
                    raise RuntimeError(f"an index helper process failed: {done}")
                segments.extend(done)
            for helper in helpers:
                helper.join()
        writer._close_segment()
        writer._commit_toc(segments)
        writer._finish()
    except BaseException:
        series.abandon()
        for helper in helpers:
            if helper.is_alive():
                helper.terminate()
            helper.join()
        try:
            if not writer.is_closed:
                writer.cancel()
        except Exception:
            log.exception("cancelling the index writer failed; releasing its lock")
            if writer.writelock is not None:
                writer.writelock.release()
        raise
    return count


def _portions(batches: Iterable[list[dict]], size: int) -> Iterator[list[dict]]:
    for batch in batches:
        for start in range(0, len(batch), size):
            yield batch[start : start + size]


def _result(results, helpers) -> tuple:
    """The next helper's report; an error if every helper is gone without one."""
    waited = 0.0
    while True:
        try:
            return results.get(timeout=1.0)
        except queue.Empty:
            waited += 1.0
            if waited >= _HELPER_TIMEOUT or not any(h.is_alive() for h in helpers):
                # A helper that reported has flushed its queue before exiting: one more try.
                try:
                    return results.get(timeout=1.0)
                except queue.Empty:
                    raise RuntimeError("an index helper process ended without a result") from None
