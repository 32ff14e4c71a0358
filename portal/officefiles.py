"""Bounds on uploaded .xlsx, .docx and .csv files, checked before openpyxl or python-docx runs.

An .xlsx or .docx is a zip of XML parts. A few hundred kilobytes can inflate to hundreds of
megabytes (a zip bomb) or hold millions of tiny elements, and the parsers would spend minutes and
gigabytes on it. ``check_xlsx`` and ``check_docx`` refuse such a file in two steps:

1. the zip's central directory only, nothing inflated: number of parts, declared total size,
   each part's compression ratio, the declared size of the shared strings;
2. every part inflated once, in 64 KB chunks, through a reader capped at its declared size and
   at the total budget (a header that lies cannot get more through), its CRC checked, and each
   XML part fed to expat (through defusedxml, so no DTD or entity tricks) while counting elements,
   worksheet rows and cells, and the document's paragraphs and characters, stopping at a limit.

After that the parser reads exactly the bytes that were counted (zipfile verifies the same CRCs
and never inflates past the declared sizes), so the parse is bounded by the limits. Nothing here
reaches into openpyxl or python-docx; the one internal used is the expat parser that
defusedxml's ``DefusedXMLParser`` sets up (``.parser``), given plain counting handlers because
ElementTree's own callbacks cost three times as much per element.

Limits come from the app config (``OFFICE_*``, ``SPREADSHEET_*``, ``DRAFT_MAX_*``, see
portal/config.py and docs/uploads.md); outside an app the defaults in ``DefaultConfig`` apply.
"""

from __future__ import annotations

import io
import struct
import zipfile
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import DefusedXMLParser
from flask import current_app, has_app_context
from flask_babel import gettext

from portal.config import DefaultConfig

__all__ = [
    "Limits",
    "OfficeFileError",
    "bounded_rows",
    "check_docx",
    "check_xlsx",
    "current_limits",
]

_MB = 1024 * 1024
_CHUNK = 64 * 1024
# Small parts compress extremely well when they repeat themselves (styles, empty cells) and cost
# nothing to parse, so the ratio is judged only on parts bigger than this.
RATIO_MIN_PART_BYTES = 1 * _MB
# Parts handed to expat: what the parsers read as XML.
_XML_SUFFIXES = (".xml", ".rels", ".vml")

_S = "http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_ROW, _CELL, _SST = _S + "row", _S + "c", _S + "sst"
_PARA, _TEXT, _DOCUMENT = _W + "p", _W + "t", _W + "document"


@dataclass(frozen=True)
class Limits:
    max_uncompressed: int
    max_ratio: int
    max_parts: int
    max_xml_elements: int
    sheet_max_rows: int
    sheet_max_cells: int
    sheet_max_shared_strings: int
    docx_max_paragraphs: int
    docx_max_chars: int

    @classmethod
    def from_config(cls, config: Mapping) -> Limits:
        def get(key: str) -> int:
            return int(config.get(key, getattr(DefaultConfig, key)))

        return cls(
            max_uncompressed=get("OFFICE_MAX_UNCOMPRESSED"),
            max_ratio=get("OFFICE_MAX_RATIO"),
            max_parts=get("OFFICE_MAX_PARTS"),
            max_xml_elements=get("OFFICE_MAX_XML_ELEMENTS"),
            sheet_max_rows=get("SPREADSHEET_MAX_ROWS"),
            sheet_max_cells=get("SPREADSHEET_MAX_CELLS"),
            sheet_max_shared_strings=get("SPREADSHEET_MAX_SHARED_STRINGS"),
            docx_max_paragraphs=get("DRAFT_MAX_PARAGRAPHS"),
            docx_max_chars=get("DRAFT_MAX_CHARS"),
        )


def current_limits() -> Limits:
    """The app's limits inside a request or app context, else the defaults."""
    return Limits.from_config(current_app.config if has_app_context() else {})


class OfficeFileError(Exception):
    """An upload over a limit or not a readable zip; ``message()`` says which, for the user."""

    def __init__(self, code: str, kind: str, **params) -> None:
        super().__init__(code)
        self.code = code
        self.kind = kind  # "xlsx", "docx" or "csv"
        self.params = params

    def message(self) -> str:
        return message(self.code, self.kind, self.params)


def message(code: str, kind: str, params: Mapping) -> str:
    """The user's-language sentence for a refusal: which limit, and what to do."""
    p = dict(params)
    what = gettext("Word 文件") if kind == "docx" else gettext("表格文件")
    match code:
        case "not_zip" | "damaged":
            return gettext(
                "文件已损坏或内容与其目录不符，可能不是正常的%(kind)s。请重新保存后再上传。",
                kind=what,
            )
        case "unsafe_xml":
            return gettext("文件中含有不允许的 XML 内容（实体或文档类型声明），无法读取。")
        case "too_many_parts":
            return gettext(
                "文件由 %(count)d 个部件组成，超过了 %(max)d 个，可能已损坏或不是正常的%(kind)s。",
                count=p.get("count", 0),
                max=p.get("max", 0),
                kind=what,
            )
        case "too_large_uncompressed":
            return gettext(
                "文件解压后超过 %(max_mb)d MB，可能已损坏或不是正常的%(kind)s。",
                max_mb=p.get("max_mb", 0),
                kind=what,
            )
        case "ratio":
            return gettext(
                "文件中的“%(part)s”压缩比异常（超过 %(max)d 倍），可能已损坏或不是正常的%(kind)s。",
                part=p.get("part", ""),
                max=p.get("max", 0),
                kind=what,
            )
        case "too_many_elements":
            return gettext(
                "文件结构过于复杂（超过 %(max)d 个 XML 元素），可能已损坏或不是正常的%(kind)s。",
                max=p.get("max", 0),
                kind=what,
            )
        case "shared_strings":
            return gettext(
                "表格中的文字解压后超过 %(max_mb)d MB。请删去无关内容，或把意见分成几个文件上传。",
                max_mb=p.get("max_mb", 0),
            )
        case "too_many_rows":
            return gettext(
                "表格超过 %(max)d 行（空行也计算在内）。请删去多余的空行和无关内容，"
                "或把意见分成几个文件上传。",
                max=p.get("max", 0),
            )
        case "too_many_cells":
            return gettext(
                "表格超过 %(max)d 个单元格。请删去无关的列和多余的格式，或把意见分成几个文件上传。",
                max=p.get("max", 0),
            )
        case "too_many_paragraphs":
            return gettext(
                "文档超过 %(max)d 段，无法导入。请确认上传的是草案正文。", max=p.get("max", 0)
            )
        case "too_many_chars":
            return gettext(
                "文档正文超过 %(max)d 字，无法导入。请确认上传的是草案正文。", max=p.get("max", 0)
            )
    return gettext("无法读取这个文件。")


# --- the zip ---------------------------------------------------------------------------------


def check_xlsx(data: bytes, limits: Limits | None = None) -> None:
    """Raise OfficeFileError unless the .xlsx is within every limit; nothing is parsed twice."""
    _check(data, "xlsx", limits or current_limits())


def check_docx(data: bytes, limits: Limits | None = None) -> None:
    """Raise OfficeFileError unless the .docx is within every limit."""
    _check(data, "docx", limits or current_limits())


def _declared_entries(data: bytes) -> int | None:
    """The entry count in the end-of-central-directory record, read before zipfile builds one
    object per entry (100,000 entries fit in 10 MB)."""
    end = data.rfind(b"PK\x05\x06", max(0, len(data) - 65_557))
    if end < 0 or end + 22 > len(data):
        return None
    (count,) = struct.unpack_from("<H", data, end + 10)
    return None if count == 0xFFFF else count  # 0xFFFF: a zip64 count, left to zipfile


def _check(data: bytes, kind: str, limits: Limits) -> None:
    declared_entries = _declared_entries(data)
    if declared_entries is not None and declared_entries > limits.max_parts:
        raise OfficeFileError("too_many_parts", kind, count=declared_entries, max=limits.max_parts)
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError) as exc:
        raise OfficeFileError("not_zip", kind) from exc
    with archive:
        infos = archive.infolist()
        _check_directory(infos, kind, limits)
        tally = _Tally(kind, limits)
        for info in infos:
            _read_part(archive, info, tally)


def _check_directory(infos: list[zipfile.ZipInfo], kind: str, limits: Limits) -> None:
    """Everything the central directory tells without inflating a byte."""
    if len(infos) > limits.max_parts:
        raise OfficeFileError("too_many_parts", kind, count=len(infos), max=limits.max_parts)
    names = [info.filename for info in infos]
    if len(set(names)) != len(names):
        # Two parts with one name: the parser would read one, a check could read the other.
        raise OfficeFileError("damaged", kind)
    total = 0
    for info in infos:
        if info.flag_bits & 0x1 or info.compress_type not in (
            zipfile.ZIP_STORED,
            zipfile.ZIP_DEFLATED,
        ):
            raise OfficeFileError("damaged", kind)  # Office writes neither encryption nor bzip2
        total += info.file_size
        if total > limits.max_uncompressed:
            raise OfficeFileError(
                "too_large_uncompressed", kind, max_mb=limits.max_uncompressed // _MB
            )
        if info.file_size > RATIO_MIN_PART_BYTES and info.file_size > limits.max_ratio * max(
            info.compress_size, 1
        ):
            raise OfficeFileError("ratio", kind, part=info.filename[:80], max=limits.max_ratio)
        if (
            kind == "xlsx"
            and info.filename.lower() == "xl/sharedstrings.xml"
            and info.file_size > limits.sheet_max_shared_strings
        ):
            raise OfficeFileError(
                "shared_strings", kind, max_mb=limits.sheet_max_shared_strings // _MB
            )


def _read_part(archive: zipfile.ZipFile, info: zipfile.ZipInfo, tally: _Tally) -> None:
    """Inflate one part through a capped reader, counting what the parser would build."""
    kind = tally.kind
    counter = _XmlCounter(tally) if info.filename.lower().endswith(_XML_SUFFIXES) else None
    size = 0
    try:
        with archive.open(info) as stream:
            while True:
                # Never ask for more than the part declared (+1 to notice a lie) or than the
                # total budget has left: memory and time stay bounded whatever the headers say.
                want = min(_CHUNK, info.file_size + 1 - size, tally.budget + 1)
                chunk = stream.read(want)
                if not chunk:
                    break
                size += len(chunk)
                tally.budget -= len(chunk)
                if size > info.file_size or tally.budget < 0:
                    raise _over_size(info, size, tally)
                if counter is not None:
                    counter.feed(chunk)
                    if counter.shared_strings and size > tally.limits.sheet_max_shared_strings:
                        raise OfficeFileError(
                            "shared_strings",
                            kind,
                            max_mb=tally.limits.sheet_max_shared_strings // _MB,
                        )
            if counter is not None:
                counter.close()
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError) as exc:
        # Reading a damaged archive: BadZipFile for a CRC mismatch (the bytes are not those the
        # directory describes), zlib's error as OSError/ValueError, EOFError for a cut-off part,
        # NotImplementedError for a compression method zipfile does not know. All: "damaged".
        raise OfficeFileError("damaged", kind) from exc


def _over_size(info: zipfile.ZipInfo, size: int, tally: _Tally) -> OfficeFileError:
    if size > info.file_size:
        return OfficeFileError("damaged", tally.kind)  # inflates past its declared size
    return OfficeFileError(
        "too_large_uncompressed", tally.kind, max_mb=tally.limits.max_uncompressed // _MB
    )


# --- the XML ---------------------------------------------------------------------------------


class _Tally:
    """Counts across all parts of one file."""

    def __init__(self, kind: str, limits: Limits) -> None:
        self.kind = kind
        self.limits = limits
        self.budget = limits.max_uncompressed  # bytes still allowed to inflate
        self.elements = 0
        self.cells = 0
        self.paragraphs = 0
        self.chars = 0


class _XmlCounter:
    """Feeds one part to expat with counting handlers; raises at the first limit passed."""

    def __init__(self, tally: _Tally) -> None:
        self.tally = tally
        self.root: str | None = None
        self.row = 0
        self.column = 0
        self.in_text = False
        self.shared_strings = False
        # defusedxml's parser refuses DTDs, entity declarations and external references; its
        # expat parser gets our handlers (namespace-qualified names, "uri}local").
        self._outer = DefusedXMLParser(forbid_dtd=True)
        self._expat = self._outer.parser
        self._expat.StartElementHandler = self._start
        self._expat.EndElementHandler = self._end if tally.kind == "docx" else None
        self._expat.CharacterDataHandler = self._data if tally.kind == "docx" else None
        # ElementTree's default handler would receive the text expat is not asked to report
        # (and turn &#24847; into an error); expat itself still refuses undefined entities.
        self._expat.DefaultHandlerExpand = None

    def feed(self, chunk: bytes) -> None:
        self._parse(chunk, False)

    def close(self) -> None:
        self._parse(b"", True)

    def _parse(self, chunk: bytes, final: bool) -> None:
        try:
            self._expat.Parse(chunk, final)
        except DefusedXmlException as exc:
            raise OfficeFileError("unsafe_xml", self.tally.kind) from exc
        except Exception as exc:  # expat.ExpatError and a bad row number
            if isinstance(exc, OfficeFileError):
                raise
            raise OfficeFileError("damaged", self.tally.kind) from exc

    def _start(self, name: str, attrs: list) -> None:
        tally = self.tally
        limits = tally.limits
        tally.elements += 1
        if tally.elements > limits.max_xml_elements:
            raise OfficeFileError("too_many_elements", tally.kind, max=limits.max_xml_elements)
        if self.root is None:
            self.root = name
            self.shared_strings = name == _SST
        if name == _ROW:
            # openpyxl fills the gap up to a row's number with empty rows, so the number
            # counts, not how many <row> elements there are.
            number = attrs[1] if attrs and attrs[0] == "r" else _attr(attrs, "r")
            self.row = int(number) if number else self.row + 1
            self.column = 0
            if self.row > limits.sheet_max_rows:
                raise OfficeFileError("too_many_rows", tally.kind, max=limits.sheet_max_rows)
        elif name == _CELL:
            # openpyxl pads a row with empty cells up to its last cell's column, so a single
            # cell in column XFD is 16,384 cells read.
            reference = attrs[1] if attrs and attrs[0] == "r" else _attr(attrs, "r")
            column = _column_number(reference) if reference else self.column + 1
            tally.cells += max(column - self.column, 1)
            self.column = max(column, self.column)
            if tally.cells > limits.sheet_max_cells:
                raise OfficeFileError("too_many_cells", tally.kind, max=limits.sheet_max_cells)
        elif self.root == _DOCUMENT:
            if name == _PARA:
                tally.paragraphs += 1
                if tally.paragraphs > limits.docx_max_paragraphs:
                    raise OfficeFileError(
                        "too_many_paragraphs", tally.kind, max=limits.docx_max_paragraphs
                    )
            elif name == _TEXT:
                self.in_text = True

    def _end(self, name: str) -> None:
        if name == _TEXT:
            self.in_text = False

    def _data(self, text: str) -> None:
        if self.in_text:
            tally = self.tally
            tally.chars += len(text)
            if tally.chars > tally.limits.docx_max_chars:
                raise OfficeFileError("too_many_chars", tally.kind, max=tally.limits.docx_max_chars)


def _column_number(reference: str) -> int:
    """The column of a cell reference such as "AB12" (28)."""
    number = 0
    for char in reference:
        if not "A" <= char <= "Z":
            break
        number = number * 26 + ord(char) - 64
    return number or 1


def _attr(attrs: list, key: str) -> str | None:
    # ElementTree's expat parser reports attributes as a flat [name, value, ...] list.
    for index in range(0, len(attrs) - 1, 2):
        if attrs[index] == key:
            return attrs[index + 1]
    return None


# --- rows as they are read -------------------------------------------------------------------


def bounded_rows(
    rows: Iterable[tuple[int, tuple]], kind: str, limits: Limits | None = None
) -> Iterator[tuple[int, tuple]]:
    """Pass rows through, raising OfficeFileError past the row or cell limit.

    For CSV this is the only bound besides the byte size (10 MB of line breaks are 10 million
    rows); for .xlsx it repeats, while reading, what ``check_xlsx`` counted.
    """
    limits = limits or current_limits()
    cells = 0
    iterator = iter(rows)
    try:
        for count, (number, values) in enumerate(iterator, start=1):
            if count > limits.sheet_max_rows:
                raise OfficeFileError("too_many_rows", kind, max=limits.sheet_max_rows)
            cells += len(values)
            if cells > limits.sheet_max_cells:
                raise OfficeFileError("too_many_cells", kind, max=limits.sheet_max_cells)
            yield number, values
    finally:
        close = getattr(iterator, "close", None)
        if close is not None:
            close()  # the reader's own cleanup (openpyxl closes the workbook) runs now
