"""Parse a pasted Chinese draft regulation (章/节/条/款) into a structured draft."""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass, field
from typing import BinaryIO, Literal

from portal.numerals import MAX_CHINESE, NUMERAL_PATTERN, chinese_to_int, int_to_chinese

__all__ = [
    "MAX_LINES",
    "DraftParseError",
    "ParseWarning",
    "ParsedArticle",
    "ParsedChapter",
    "ParsedDraft",
    "docx_to_text",
    "parse_draft_text",
]

MAX_CHARS = 300_000
MAX_LINES = 20_000
MAX_DOCX_BYTES = 5_000_000
# A 5 MB docx can inflate to gigabytes of XML (zip bomb). An absolute cap rather than a ratio:
# even an empty docx inflates ~25x because of its style and theme parts.
MAX_DOCX_INFLATED_BYTES = 100_000_000

_SP = "[ \t\u3000]"
_STRUCT_RE = re.compile(rf"第{_SP}*({NUMERAL_PATTERN}){_SP}*([章节条])(.*)")
# Stripped besides whitespace: invisible characters that Word and web pages leave at line starts
# and that would otherwise stop ^第 from matching.
_INVISIBLE = "\ufeff\u200b\u200c\u200d\u2060"
# Hard-wrapped text (copied from PDF) can start a line with a reference such as
# "第十二条规定的情形". Without a separating space such a line is text, not a marker.
# Bodies starting with 《 or （ (Shanghai-style "第一条（目的）") are real markers, so excluded.
_REFERENCE_CONTINUATIONS = (
    "第",
    "、",
    "，",
    ",",
    "。",
    "；",
    "至",
    "到",
    "和",
    "与",
    "及",
    "或",
    "规定",
    "所称",
    "所列",
    "所规定",
    "的",
    "中规定",
    "之规定",
)
_SENTENCE_END = ("。", "；", ";", "：", ":", "！", "？")
_TOC_HEADINGS = frozenset({"目录", "目次"})
_MAX_TITLE_CHARS = 100
_MAX_HEADING_CHARS = 50

WarningCode = Literal["number_gap", "duplicate_number", "section_outside_chapter", "unplaced_line"]
StructKind = Literal["chapter", "section", "article"]
_KIND_BY_SUFFIX: dict[str, StructKind] = {"章": "chapter", "节": "section", "条": "article"}


class DraftParseError(ValueError):
    """The text (or file) cannot be turned into a draft; ``code`` is for the UI to translate."""

    def __init__(self, code: str, message: str | None = None) -> None:
        super().__init__(message or code)
        self.code = code


@dataclass(frozen=True)
class ParseWarning:
    """A non-fatal problem; ``line`` is 1-based in the pasted text, ``data`` feeds the message."""

    code: WarningCode
    line: int
    data: dict[str, object] = field(default_factory=dict)


@dataclass
class ParsedArticle:
    number: int
    label: str
    paragraphs: list[str]
    chapter_index: int | None
    section: str | None
    line: int = 0


@dataclass
class ParsedChapter:
    number: int
    label: str
    heading: str
    sections: list[str] = field(default_factory=list)
    line: int = 0


@dataclass
class ParsedDraft:
    title: str | None
    preamble: list[str]
    chapters: list[ParsedChapter]
    articles: list[ParsedArticle]
    unplaced: list[tuple[int, str]]
    warnings: list[ParseWarning]


@dataclass(frozen=True)
class _Line:
    lineno: int
    text: str
    kind: StructKind | None = None
    number: int = 0
    rest: str = ""


def _classify(lineno: int, text: str) -> _Line:
    m = _STRUCT_RE.match(text)
    if m is None:
        return _Line(lineno, text)
    numeral, suffix, remainder = m.groups()
    try:
        number = chinese_to_int(numeral)
    except ValueError:
        return _Line(lineno, text)
    if not 1 <= number <= MAX_CHINESE:
        return _Line(lineno, text)
    rest = remainder.strip()
    separated = not remainder or remainder[0].isspace()
    if not separated and rest.startswith(_REFERENCE_CONTINUATIONS):
        return _Line(lineno, text)
    return _Line(lineno, text, _KIND_BY_SUFFIX[suffix], number, rest)


def _split_lines(text: str) -> list[_Line]:
    # splitlines() covers \r\n, \r and the Unicode separators (U+2028, NEL) Word exports.
    lines: list[_Line] = []
    for index, raw in enumerate(text.splitlines(), start=1):
        stripped = raw.strip().strip(_INVISIBLE).strip()
        if stripped:
            lines.append(_classify(index, stripped))
    return lines


def _toc_end(lines: list[_Line]) -> int:
    """Index of the first body line when a table of contents precedes the body, else 0.

    A TOC repeats the chapter headings before the first article, so the body starts at the
    last repetition of the first chapter heading seen before the first article.
    """
    first_article = next((i for i, ln in enumerate(lines) if ln.kind == "article"), len(lines))
    first_chapter: _Line | None = None
    body_start = 0
    for i in range(first_article):
        line = lines[i]
        if line.kind != "chapter":
            continue
        if first_chapter is None:
            first_chapter = line
        elif line.number == first_chapter.number:
            body_start = i
    return body_start


def _is_heading_text(text: str) -> bool:
    return len(text) <= _MAX_HEADING_CHARS and not text.endswith(_SENTENCE_END)


def _looks_like_title(line: _Line) -> bool:
    return (
        line.kind is None
        and line.text.replace(" ", "").replace("\u3000", "") not in _TOC_HEADINGS
        and len(line.text) <= _MAX_TITLE_CHARS
        and not line.text.endswith(_SENTENCE_END)
    )


class _NumberTracker:
    """Warns about gaps and duplicates in one numbering sequence (articles, chapters, ...)."""

    def __init__(self, kind: str, warnings: list[ParseWarning]) -> None:
        self.kind = kind
        self.warnings = warnings
        self.last = 0
        self.seen: dict[int, int] = {}

    def add(self, number: int, lineno: int) -> None:
        if number in self.seen:
            self.warnings.append(
                ParseWarning(
                    "duplicate_number",
                    lineno,
                    {"kind": self.kind, "number": number, "first_line": self.seen[number]},
                )
            )
        elif number != self.last + 1:
            # Also covers out-of-order numbers (5 after 7): "expected 8, found 5" reads fine.
            self.warnings.append(
                ParseWarning(
                    "number_gap",
                    lineno,
                    {"kind": self.kind, "expected": self.last + 1, "found": number},
                )
            )
        self.seen.setdefault(number, lineno)
        self.last = number


@dataclass
class _State:
    chapters: list[ParsedChapter] = field(default_factory=list)
    articles: list[ParsedArticle] = field(default_factory=list)
    preamble: list[str] = field(default_factory=list)
    unplaced: list[tuple[int, str]] = field(default_factory=list)
    warnings: list[ParseWarning] = field(default_factory=list)
    section: str | None = None
    article: ParsedArticle | None = None
    # Set right after a 章/节 line without heading text: PDF copies often put 总则 on its own line.
    pending_heading: StructKind | None = None
    section_trackers: dict[int | None, _NumberTracker] = field(default_factory=dict)

    @property
    def chapter_index(self) -> int | None:
        return len(self.chapters) - 1 if self.chapters else None


def _section_label(number: int, heading: str) -> str:
    label = f"第{int_to_chinese(number)}节"
    return f"{label} {heading}" if heading else label


def _add_chapter(state: _State, line: _Line, tracker: _NumberTracker) -> None:
    tracker.add(line.number, line.lineno)
    label = f"第{int_to_chinese(line.number)}章"
    state.chapters.append(ParsedChapter(line.number, label, line.rest, [], line.lineno))
    state.section = None
    state.article = None
    state.pending_heading = None if line.rest else "chapter"


def _add_section(state: _State, line: _Line) -> None:
    chapter_index = state.chapter_index
    if chapter_index is None:
        state.warnings.append(
            ParseWarning("section_outside_chapter", line.lineno, {"number": line.number})
        )
    tracker = state.section_trackers.get(chapter_index)
    if tracker is None:
        tracker = state.section_trackers[chapter_index] = _NumberTracker("section", state.warnings)
    tracker.add(line.number, line.lineno)
    state.section = _section_label(line.number, line.rest)
    if chapter_index is not None:
        state.chapters[chapter_index].sections.append(state.section)
    state.article = None
    state.pending_heading = None if line.rest else "section"


def _apply_pending_heading(state: _State, text: str) -> None:
    if state.pending_heading == "chapter":
        state.chapters[-1].heading = text
    elif state.section is not None:
        state.section = f"{state.section} {text}"
        chapter_index = state.chapter_index
        if chapter_index is not None:
            state.chapters[chapter_index].sections[-1] = state.section
    state.pending_heading = None


def _add_unplaced(state: _State, line: _Line) -> None:
    state.unplaced.append((line.lineno, line.text))
    state.warnings.append(ParseWarning("unplaced_line", line.lineno, {"text": line.text}))


def parse_draft_text(
    text: str, *, max_chars: int = MAX_CHARS, max_lines: int = MAX_LINES
) -> ParsedDraft:
    """Split a pasted draft into title, chapters, sections and articles with their 款.

    Raises DraftParseError with code "too_long", "empty", "too_many_lines" or "no_articles".
    Numbering problems and stray lines become warnings instead, so an imperfect draft can
    still be published after review.
    """
    if len(text) > max_chars:
        raise DraftParseError("too_long", f"text longer than {max_chars} characters")
    lines = _split_lines(text.removeprefix("\ufeff"))
    if not lines:
        raise DraftParseError("empty", "text is empty")
    if len(lines) > max_lines:
        raise DraftParseError("too_many_lines", f"more than {max_lines} non-blank lines")
    if not any(line.kind == "article" for line in lines):
        raise DraftParseError("no_articles", "no line starts with 第…条")

    state = _State()
    title: str | None = None
    body_start = _toc_end(lines)
    if lines[0].kind is None and _looks_like_title(lines[0]):
        title = lines[0].text
    first_index = 1 if title is not None else 0
    # The TOC is recognised structure, not stray text, so it is kept as preamble silently.
    state.preamble.extend(line.text for line in lines[first_index:body_start])

    article_tracker = _NumberTracker("article", state.warnings)
    chapter_tracker = _NumberTracker("chapter", state.warnings)
    for line in lines[max(first_index, body_start) :]:
        if line.kind == "chapter":
            _add_chapter(state, line, chapter_tracker)
        elif line.kind == "section":
            _add_section(state, line)
        elif line.kind == "article":
            article_tracker.add(line.number, line.lineno)
            state.article = ParsedArticle(
                number=line.number,
                label=f"第{int_to_chinese(line.number)}条",
                paragraphs=[line.rest] if line.rest else [],
                chapter_index=state.chapter_index,
                section=state.section,
                line=line.lineno,
            )
            state.articles.append(state.article)
            state.pending_heading = None
        elif state.pending_heading is not None and _is_heading_text(line.text):
            _apply_pending_heading(state, line.text)
        elif state.article is not None:
            state.article.paragraphs.append(line.text)
        else:
            if not state.chapters and not state.articles:
                state.preamble.append(line.text)
            state.pending_heading = None
            _add_unplaced(state, line)

    return ParsedDraft(
        title=title,
        preamble=state.preamble,
        chapters=state.chapters,
        articles=state.articles,
        unplaced=state.unplaced,
        warnings=state.warnings,
    )


def _read_limited(stream: BinaryIO, max_bytes: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while size <= max_bytes:
        chunk = stream.read(min(1 << 16, max_bytes + 1 - size))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    if size > max_bytes:
        raise DraftParseError("too_long", f"file larger than {max_bytes} bytes")
    return b"".join(chunks)


def docx_to_text(stream: BinaryIO, *, max_bytes: int = MAX_DOCX_BYTES) -> str:
    """Extract a .docx's paragraphs (table cells included, in document order), one per line.

    Raises DraftParseError("too_long") for big files and DraftParseError("not_docx") for
    anything python-docx cannot open (e.g. legacy .doc, PDFs, corrupt zips).
    """
    data = _read_limited(stream, max_bytes)
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            inflated = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, ValueError, EOFError) as exc:
        raise DraftParseError("not_docx", "file is not a zip archive") from exc
    if inflated > MAX_DOCX_INFLATED_BYTES:
        raise DraftParseError("too_long", "uncompressed document too large")

    # Imported here so the rest of the portal (and parse_draft_text) works without python-docx.
    import docx
    from docx.opc.exceptions import PackageNotFoundError
    from docx.oxml.ns import qn
    from docx.text.paragraph import Paragraph
    from lxml import etree

    try:
        document = docx.Document(io.BytesIO(data))
    except (
        PackageNotFoundError,
        zipfile.BadZipFile,
        KeyError,
        ValueError,
        EOFError,
        etree.LxmlError,
    ) as exc:
        raise DraftParseError("not_docx", "file is not a Word document") from exc

    tag_p, tag_tbl, tag_tr, tag_tc = qn("w:p"), qn("w:tbl"), qn("w:tr"), qn("w:tc")
    tag_sdt, tag_sdt_content = qn("w:sdt"), qn("w:sdtContent")
    out: list[str] = []

    # Walk the XML rather than document.paragraphs/tables: that keeps paragraphs and tables
    # in order and visits a merged cell once (table.rows[i].cells repeats merged cells).
    def walk(container: etree._Element) -> None:
        for child in container.iterchildren():
            if child.tag == tag_p:
                out.append(Paragraph(child, document).text)
            elif child.tag == tag_tbl:
                for row in child.iterchildren(tag_tr):
                    for cell in row.iterchildren(tag_tc):
                        walk(cell)
            elif child.tag == tag_sdt:
                for content in child.iterchildren(tag_sdt_content):
                    walk(content)

    walk(document.element.body)
    return "\n".join(out)
