"""Chinese text analysis for the search index: normalisation, character n-grams, jieba.

Documents and queries go through the same normalisation (full-width to half-width, lower case,
第12条 -> 第十二条) before they are cut into tokens. Offsets of the tokens always point into the
original text, so highlighting marks what the commenter wrote, not the normalised form.

The index uses :class:`CJKNgramTokenizer` (see docs/search.md for the measurements behind the
choice). :class:`JiebaTokenizer` is kept for the benchmark that compares the two.
"""

from __future__ import annotations

import logging
import re
import threading
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache

from whoosh.analysis import Token, Tokenizer

from portal.numerals import normalize_article_refs, normalize_width

__all__ = [
    "ARTICLE_REF_RE",
    "CJKNgramTokenizer",
    "JiebaTokenizer",
    "Segment",
    "chinese_analyzer",
    "is_cjk",
    "join_cjk_spaces",
    "normalize",
    "normalize_with_offsets",
    "query_segments",
    "query_tokens",
]

# Han ideographs (with extensions), the ideographic zero 〇, kana and Hangul: scripts written
# without spaces, so they are cut into character n-grams rather than words.
_CJK_CLASS = (
    "\u3007\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af\U00020000-\U0003134f"
)
# Letters and digits of alphabetic scripts, after lower-casing; "pm2.5", "12345", "covid-19"
# stay one token each.
_WORD_CLASS = "0-9a-z\u00b5\u00c0-\u024f\u0370-\u03ff\u0400-\u04ff"
_TOKEN_RE = re.compile(
    rf"(?P<cjk>[{_CJK_CLASS}]+)|(?P<word>[{_WORD_CLASS}]+(?:[.\-'+][{_WORD_CLASS}]+)*)"
)
_CJK_RE = re.compile(rf"[{_CJK_CLASS}]")
# An article (or chapter, section, paragraph, item) reference once normalised: 第十二条.
ARTICLE_REF_RE = re.compile("第[零〇一二两三四五六七八九十百千]+[章节条款项]")
# Article references after width normalisation (full-width digits and U+3000 are ASCII by then).
_ARTICLE_REF_RE = re.compile(r"第[ \t]*[0-9]+[ \t]*[章节条款项]")


def is_cjk(text: str) -> bool:
    """True if the text contains a character that is cut into n-grams."""
    return _CJK_RE.search(text) is not None


_CJK_SPACE_RE = re.compile(rf"(?<=[{_CJK_CLASS}])\s+(?=[{_CJK_CLASS}])")


def join_cjk_spaces(text: str) -> str:
    """Drop spaces between two CJK characters: Chinese is written without them, so a space
    typed inside a quoted phrase (“服务费 标准”) is incidental."""
    return _CJK_SPACE_RE.sub("", text)


@lru_cache(maxsize=8192)
def _fold_char(ch: str) -> str:
    return normalize_width(ch).lower()


def normalize_with_offsets(text: str) -> tuple[str, list[int], list[int]]:
    """Normalise text for matching and map every output character back to the input.

    Returns (normalised, starts, ends): character i of the result comes from text[starts[i]:
    ends[i]]. Characters are folded one at a time so the mapping is exact; the result is the
    same for a document and a query, which is all matching needs.
    """
    if all(len(_fold_char(ch)) == 1 for ch in set(_FOLD_RE.findall(text))):
        # Every character folds to one (most opinions: ideographs, ASCII, full-width
        # punctuation): the offsets are the identity, no loop over the characters.
        folded_text = _FOLD_RE.sub(_fold_match, text)
        starts = list(range(len(text)))
        ends = list(range(1, len(text) + 1))
    else:
        folded_text, starts, ends = _fold_with_offsets(text)
    if "第" not in folded_text:
        return folded_text, starts, ends
    # 第12条 -> 第十二条: the rewritten characters all map onto the whole original reference.
    out: list[str] = []
    out_starts: list[int] = []
    out_ends: list[int] = []
    last = 0
    for match in _ARTICLE_REF_RE.finditer(folded_text):
        replacement = normalize_article_refs(match.group())
        if replacement == match.group():
            continue
        out.append(folded_text[last : match.start()])
        out_starts.extend(starts[last : match.start()])
        out_ends.extend(ends[last : match.start()])
        span_start, span_end = starts[match.start()], ends[match.end() - 1]
        out.append(replacement)
        out_starts.extend([span_start] * len(replacement))
        out_ends.extend([span_end] * len(replacement))
        last = match.end()
    if not out:
        return folded_text, starts, ends
    out.append(folded_text[last:])
    out_starts.extend(starts[last:])
    out_ends.extend(ends[last:])
    return "".join(out), out_starts, out_ends


def _fold_with_offsets(text: str) -> tuple[str, list[int], list[int]]:
    """Width and case folding a character at a time, with each output character's source."""
    parts: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    for i, ch in enumerate(text):
        # ASCII lower case and unified ideographs are their own NFKC form: the common path.
        if ch < "\x80" or "\u4e00" <= ch <= "\u9fff":
            folded = ch.lower()
        else:
            folded = _fold_char(ch)
        parts.append(folded)
        if len(folded) == 1:
            starts.append(i)
            ends.append(i + 1)
        else:
            starts.extend([i] * len(folded))
            ends.extend([i + 1] * len(folded))
    return "".join(parts), starts, ends


# Characters that normalisation leaves alone: ASCII other than upper-case letters, and unified
# ideographs. Everything else is folded one character at a time, as normalize_with_offsets does.
_FOLD_RE = re.compile("[^\x00-\x40\x5b-\x7f\u4e00-\u9fff]")


def _fold_match(match: re.Match) -> str:
    return _fold_char(match.group())


def _article_ref_match(match: re.Match) -> str:
    return normalize_article_refs(match.group())


def normalize(text: str) -> str:
    """The normalised form used for matching: half-width, lower case, 第十二条.

    The same string as normalize_with_offsets(text)[0], built without the offsets: a regular
    expression folds only the characters that change (tests/search/test_analysis.py compares
    the two on a table and on random text).
    """
    folded = _FOLD_RE.sub(_fold_match, text)
    if "第" not in folded:
        return folded
    return _ARTICLE_REF_RE.sub(_article_ref_match, folded)


@dataclass(frozen=True)
class Segment:
    """A run of CJK characters ("cjk") or one alphabetic/numeric word ("word"), normalised."""

    kind: str
    text: str


def query_segments(text: str) -> list[Segment]:
    """Cut a (normalised) query term the way CJKNgramTokenizer cuts documents."""
    return [
        Segment("cjk", m.group()) if m.lastgroup == "cjk" else Segment("word", m.group())
        for m in _TOKEN_RE.finditer(normalize(text))
    ]


def query_tokens(text: str) -> list[str]:
    """The index tokens of a query term in phrase order: bigrams of each CJK run (a single
    character stays a unigram) and whole words; consecutive in CJKNgramTokenizer's positions."""
    tokens: list[str] = []
    for segment in query_segments(text):
        run = segment.text
        if segment.kind == "word" or len(run) == 1:
            tokens.append(run)
        else:
            tokens.extend(run[i : i + 2] for i in range(len(run) - 1))
    return tokens


class CJKNgramTokenizer(Tokenizer):
    """Overlapping character bigrams (and, optionally, single characters) for CJK runs; whole
    words for Latin letters and digits; and each article reference (第十二条) as one token.

    Positions: bigram i and character i of a run share position i, and a run of n >= 2
    characters takes n - 1 positions, so the bigrams of a run and the word that follows it are
    consecutive. A query term then becomes a phrase of its bigrams, which matches exactly the
    documents that contain the term as a substring. A single character becomes its unigram; an
    article reference its own token, a cheap exact term instead of a phrase of common bigrams.
    """

    def __init__(self, unigrams: bool = True, article_refs: bool = True):
        self.unigrams = unigrams
        self.article_refs = article_refs

    def __call__(
        self,
        value,
        positions=False,
        chars=False,
        keeporiginal=False,
        removestops=True,
        start_pos=0,
        start_char=0,
        tokenize=True,
        mode="",
        **kwargs,
    ) -> Iterator[Token]:
        token = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        text, starts, ends = normalize_with_offsets(value)

        def emit(word: str, pos: int, first: int, last: int) -> Token:
            # first/last: indexes of the token's first and last character in text
            token.text = word
            token.boost = 1.0
            token.stopped = False
            if keeporiginal:
                token.original = word
            token.pos = pos
            if chars:
                token.startchar = start_char + starts[first]
                token.endchar = start_char + ends[last]
            return token

        if not tokenize:
            if text:
                yield emit(text, start_pos, 0, len(text) - 1)
            return
        pos = start_pos
        unigrams = self.unigrams
        for match in _TOKEN_RE.finditer(text):
            run = match.group()
            offset = match.start()
            if match.lastgroup == "word":
                yield emit(run, pos, offset, match.end() - 1)
                pos += 1
                continue
            n = len(run)
            if self.article_refs and "第" in run:
                for ref in ARTICLE_REF_RE.finditer(run):
                    yield emit(
                        ref.group(), pos + ref.start(), offset + ref.start(), offset + ref.end() - 1
                    )
            for i in range(n):
                if unigrams or n == 1:
                    yield emit(run[i], pos + i, offset + i, offset + i)
                if i < n - 1:
                    yield emit(run[i : i + 2], pos + i, offset + i, offset + i + 1)
            pos += max(n - 1, 1)

    def term_positions(self, value: str) -> dict[str, list[int]]:
        """{token text: [positions]} of the tokens __call__ yields with positions=True, in the
        same order, without Token objects or character offsets: what indexing needs (the
        NgramPositions format of the index's text fields calls this)."""
        postings: dict[str, list[int]] = {}
        get = postings.get
        pos = 0
        unigrams = self.unigrams
        article_refs = self.article_refs
        for match in _TOKEN_RE.finditer(normalize(value)):
            run = match.group()
            n = len(run)
            if n == 1 or match.lastgroup == "word":
                found = get(run)
                if found is None:
                    postings[run] = [pos]
                else:
                    found.append(pos)
                pos += 1
                continue
            if article_refs and "第" in run:
                for ref in ARTICLE_REF_RE.finditer(run):
                    word = ref.group()
                    found = get(word)
                    if found is None:
                        postings[word] = [pos + ref.start()]
                    else:
                        found.append(pos + ref.start())
            for i in range(n - 1):
                p = pos + i
                if unigrams:
                    found = get(run[i])
                    if found is None:
                        postings[run[i]] = [p]
                    else:
                        found.append(p)
                bigram = run[i : i + 2]
                found = get(bigram)
                if found is None:
                    postings[bigram] = [p]
                else:
                    found.append(p)
            if unigrams:
                p = pos + n - 1
                found = get(run[-1])
                if found is None:
                    postings[run[-1]] = [p]
                else:
                    found.append(p)
            pos += n - 1
        return postings


_jieba = None
_jieba_lock = threading.Lock()


def load_jieba():
    """Import and initialise jieba once per process, on first use (it takes about a second)."""
    global _jieba
    if _jieba is None:
        with _jieba_lock:
            if _jieba is None:
                with warnings.catch_warnings():
                    # jieba imports pkg_resources; once pygal (the charts) is imported, its
                    # import hook makes that import warn. Harmless, and only at import time.
                    warnings.filterwarnings(
                        "ignore", "PluginImportFixer.find_spec", category=ImportWarning
                    )
                    import jieba

                jieba.setLogLevel(logging.WARNING)
                logging.getLogger("jieba").setLevel(logging.WARNING)
                jieba.initialize()
                _jieba = jieba
    return _jieba


class JiebaTokenizer(Tokenizer):
    """jieba's search mode (words plus the shorter words inside them) on normalised text.

    Unlike jieba.analyse.ChineseAnalyzer it keeps single characters, digits and stop words
    and lower-cases through the shared normalisation.
    """

    def __call__(
        self,
        value,
        positions=False,
        chars=False,
        keeporiginal=False,
        removestops=True,
        start_pos=0,
        start_char=0,
        tokenize=True,
        mode="",
        **kwargs,
    ) -> Iterator[Token]:
        jieba = load_jieba()
        token = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        text, starts, ends = normalize_with_offsets(value)
        pos = start_pos
        for word, begin, end in jieba.tokenize(text, mode="search"):
            if not _TOKEN_RE.match(word):
                continue  # spaces and punctuation
            token.text = word
            token.boost = 1.0
            token.stopped = False
            if keeporiginal:
                token.original = word
            token.pos = pos
            if chars:
                token.startchar = start_char + starts[begin]
                token.endchar = start_char + ends[end - 1]
            yield token
            pos += 1


def chinese_analyzer(unigrams: bool = True) -> CJKNgramTokenizer:
    """The analyzer of the index's text fields (body, quote)."""
    return CJKNgramTokenizer(unigrams=unigrams)
