"""The opinion spreadsheet of a liaison point: the download template and a full check of an upload.

Pure functions: nothing here touches the request or the database. ``read_upload`` never raises
for a bad file; every problem comes back as a ``CellError`` (row, column, code, params) so the
caller can show all of them at once and save nothing unless ``ImportResult.ok``.

The file format is fixed Chinese whatever the interface language: headers and option names are
plain constants here, not translated labels. Only the error messages are translated.
"""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import logging
import re
import warnings
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from flask_babel import gettext

from portal import officefiles
from portal.models import Identity, Stance
from portal.numerals import NUMERAL_PATTERN, chinese_to_int, find_article_refs, int_to_chinese
from portal.numerals import normalize_width as _nfkc
from portal.sanitize import clean_text

__all__ = [
    "COLUMNS",
    "ERROR_CODES",
    "IDENTITY_VALUES",
    "MAX_BODY",
    "MAX_BYTES",
    "MAX_RAISED_BY",
    "MAX_ROWS",
    "STANCE_VALUES",
    "CellError",
    "Column",
    "ImportResult",
    "OpinionRow",
    "build_template",
    "error_message",
    "read_upload",
]

log = logging.getLogger(__name__)

MAX_ROWS = 20_000  # data rows
MAX_BYTES = 10 * 1024 * 1024
MAX_BODY = 5000
MAX_RAISED_BY = 100_000
# Past this many problems the rest are counted, not listed: nobody reads 20,000 messages, and
# the page listing them would be megabytes.
MAX_REPORTED_ERRORS = 1000
# A title or a blank line or two above the header row is tolerated (many hand-made sheets).
HEADER_SEARCH_ROWS = 10

SHEET_NAME = "意见"
HELP_SHEET_NAME = "填写说明"


@dataclass(frozen=True)
class Column:
    key: str
    header: str
    required: bool
    width: int
    # Other spellings seen in hand-made 意见汇总表; matched like the header itself.
    aliases: tuple[str, ...] = ()


COLUMNS: list[Column] = [
    Column(
        "body", "意见内容", True, 60, ("意见", "意见建议", "意见和建议", "具体意见", "建议内容")
    ),
    Column("article", "涉及条款", False, 16, ("条款", "所涉条款", "对应条款", "条文", "涉及条文")),
    Column("stance", "意见类型", False, 12, ("类型", "立场")),
    Column("identity", "提出人身份", False, 14, ("身份",)),
    Column("raised_by", "提出人数", False, 10, ("人数",)),
]
_BY_KEY = {column.key: column for column in COLUMNS}

# The spellings offered in the template's drop-downs, in this order.
STANCE_VALUES: dict[str, Stance] = {
    "赞成": Stance.support,
    "反对": Stance.oppose,
    "修改": Stance.amend,
    "增加": Stance.add,
    "删除": Stance.delete,
    "其他": Stance.other,
}
IDENTITY_VALUES: dict[str, Identity] = {
    "居民": Identity.resident,
    "企业": Identity.business,
    "社会组织": Identity.organization,
    "专家学者": Identity.expert,
    "人大代表": Identity.deputy,
    "机关工作人员": Identity.official,
    "其他": Identity.other,
}
# Accepted as well, never offered: the English values and common synonyms.
_STANCE_LOOKUP: dict[str, Stance] = {
    **STANCE_VALUES,
    **{member.value: member for member in Stance},
    "支持": Stance.support,
    "同意": Stance.support,
    "不同意": Stance.oppose,
    "新增": Stance.add,
    "补充": Stance.add,
    "其它": Stance.other,
}
_IDENTITY_LOOKUP: dict[str, Identity] = {
    **IDENTITY_VALUES,
    **{member.value: member for member in Identity},
    "市民": Identity.resident,
    "村民": Identity.resident,
    "群众": Identity.resident,
    "企业代表": Identity.business,
    "专家": Identity.expert,
    "学者": Identity.expert,
    "代表": Identity.deputy,
    "机关干部": Identity.official,
    "其它": Identity.other,
}
STANCE_ALLOWED = "、".join(STANCE_VALUES)
IDENTITY_ALLOWED = "、".join(IDENTITY_VALUES)

# 涉及条款 values meaning "the draft as a whole" (compared after removing spaces).
WHOLE_DRAFT = frozenset({"总体", "全文", "总体意见", "整体", "通篇", "总则", "无", "-", "—", "/"})

EXAMPLE_ARTICLE = 12
_EXAMPLE_PREFIX = "建议第"
_EXAMPLE_SUFFIX = "条增加“物业服务企业应当每季度公示公共收益收支情况”的规定，方便业主监督。"
_EXAMPLE_BODY_RE = re.compile(
    re.escape(_EXAMPLE_PREFIX) + NUMERAL_PATTERN + re.escape(_EXAMPLE_SUFFIX)
)

ERROR_CODES: tuple[str, ...] = (
    # whole file (row and column are None, except duplicate_header which names its row)
    "empty",
    "too_large",
    "not_spreadsheet",
    "old_xls",
    "encrypted",
    "file_unreadable",
    "missing_header",
    "duplicate_header",
    "too_many_rows",
    "too_many_errors",
    "office_limit",  # over a limit of portal/officefiles.py (zip bomb, rows, cells...)
    # one cell
    "body_required",
    "body_too_long",
    "article_unknown",
    "article_unreadable",
    "stance_unknown",
    "identity_unknown",
    "raised_by_invalid",
    "example_row_left",
)


@dataclass(frozen=True)
class OpinionRow:
    row: int  # 1-based spreadsheet row number (the header is usually row 1)
    body: str
    article: int | None
    article_source: str  # "column" (incl. an explicit 总体), "text" or "none"
    stance: Stance
    identity: Identity | None
    raised_by: int


@dataclass(frozen=True)
class CellError:
    row: int | None  # None for whole-file problems
    column: str | None  # the Chinese header, or None
    code: str
    params: dict = field(default_factory=dict)


@dataclass
class ImportResult:
    rows: list[OpinionRow] = field(default_factory=list)
    errors: list[CellError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors and bool(self.rows)


# --- the template ------------------------------------------------------------------------------


def _example_body(article: int) -> str:
    return f"{_EXAMPLE_PREFIX}{int_to_chinese(article)}{_EXAMPLE_SUFFIX}"


def _example_article(article_numbers: list[int] | None) -> int | None:
    if not article_numbers:
        return EXAMPLE_ARTICLE if article_numbers is None else None
    if EXAMPLE_ARTICLE in article_numbers:
        return EXAMPLE_ARTICLE
    numbers = sorted(set(article_numbers))
    return numbers[len(numbers) // 2]


def _help_lines(article_numbers: list[int] | None, draft_title: str | None) -> list[str]:
    lines = []
    title = clean_text(draft_title)
    if title:
        lines.append(f"征求意见稿：{title}")
    if article_numbers:
        numbers = sorted(set(article_numbers))
        if numbers == list(range(numbers[0], numbers[-1] + 1)) and numbers[-1] <= 9999:
            lines.append(
                f"本草案共 {len(numbers)} 条，条文序号为第{int_to_chinese(numbers[0])}条"
                f"至第{int_to_chinese(numbers[-1])}条。"
            )
        else:
            lines.append(f"本草案共 {len(numbers)} 条。")
    lines += [
        "每行填写一条意见。“意见内容”必须填写，其他列可以留空。",
        "涉及条款：填写“第十二条”“第12条”或“12”，也可以写到款，如“第十二条第二款”；"
        "针对草案整体的意见填写“总体”。留空时，系统会从意见内容中识别所提到的条款。",
        f"意见类型：从下拉列表中选择（{STANCE_ALLOWED}）；留空按“其他”处理。",
        f"提出人身份：从下拉列表中选择（{IDENTITY_ALLOWED}）；可以留空。",
        f"提出人数：多人提出的相同意见合并为一行，填写提出人数（1 至 {MAX_RAISED_BY} 的整数）；"
        "留空按 1 人计。",
        "第 2 行是示例，请删除或改写后再上传；原样保留的示例行会被提示为错误。",
        f"每条意见不超过 {MAX_BODY} 字；一个文件最多 {MAX_ROWS} 条意见，文件不超过 "
        f"{MAX_BYTES // (1024 * 1024)} MB。",
        "请不要修改第一行的表头；可以增加其他列（如序号、备注），导入时会忽略。",
        "请保存为 Excel（.xlsx）格式上传，也可以另存为 CSV（UTF-8 或 GBK 编码）。",
    ]
    return lines


def build_template(
    article_numbers: list[int] | None = None, draft_title: str | None = None
) -> bytes:
    """The .xlsx to download: a header row, one example row, drop-downs and instructions."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    wb = Workbook()
    ws = wb.active
    ws.title = SHEET_NAME
    letters = {c.key: get_column_letter(i) for i, c in enumerate(COLUMNS, start=1)}
    bold = Font(bold=True)
    fill = PatternFill("solid", fgColor="DDEBF7")
    for index, column in enumerate(COLUMNS, start=1):
        cell = ws.cell(row=1, column=index, value=column.header)
        cell.font = bold
        cell.fill = fill
        cell.alignment = Alignment(horizontal="center", vertical="center")
        ws.column_dimensions[get_column_letter(index)].width = column.width
    ws.freeze_panes = "A2"

    article = _example_article(article_numbers)
    example = {
        "body": _example_body(article or EXAMPLE_ARTICLE),
        "article": f"第{int_to_chinese(article)}条" if article else "总体",
        "stance": "修改",
        "identity": "居民",
        "raised_by": 3,
    }
    for index, column in enumerate(COLUMNS, start=1):
        cell = ws.cell(row=2, column=index, value=example[column.key])
        cell.data_type = "n" if column.key == "raised_by" else "s"
        cell.alignment = Alignment(wrap_text=column.key == "body", vertical="top")

    last = MAX_ROWS + 1

    def validate(key: str, dv: DataValidation) -> None:
        dv.showErrorMessage = True
        dv.errorTitle = "输入有误"
        ws.add_data_validation(dv)
        dv.add(f"{letters[key]}2:{letters[key]}{last}")

    for key, values, label in (
        ("stance", STANCE_VALUES, "意见类型"),
        ("identity", IDENTITY_VALUES, "提出人身份"),
    ):
        validate(
            key,
            DataValidation(
                type="list",
                formula1='"' + ",".join(values) + '"',
                allow_blank=True,
                error=f"请从下拉列表中选择{label}。",
            ),
        )
    validate(
        "raised_by",
        DataValidation(
            type="whole",
            operator="between",
            formula1="1",
            formula2=str(MAX_RAISED_BY),
            allow_blank=True,
            error=f"提出人数请填写 1 至 {MAX_RAISED_BY} 的整数。",
        ),
    )
    validate(
        "body",
        DataValidation(
            type="textLength",
            operator="lessThanOrEqual",
            formula1=str(MAX_BODY),
            allow_blank=True,
            error=f"每条意见不超过 {MAX_BODY} 字。",
        ),
    )
    # No restriction on 涉及条款, just a hint when the cell is selected.
    hint = DataValidation(
        allow_blank=True,
        showInputMessage=True,
        promptTitle="涉及条款",
        prompt="如：第十二条、第12条、12、第十二条第二款；整体意见填“总体”或留空。",
    )
    ws.add_data_validation(hint)
    hint.add(f"{letters['article']}2:{letters['article']}{last}")

    help_ws = wb.create_sheet(HELP_SHEET_NAME)
    help_ws.column_dimensions["A"].width = 100
    for number, line in enumerate(_help_lines(article_numbers, draft_title), start=1):
        cell = help_ws.cell(row=number, column=1, value=line)
        cell.data_type = "s"  # a title starting with "=" must stay text
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    if clean_text(draft_title):
        help_ws["A1"].font = bold
        wb.properties.title = clean_text(draft_title)[:200]

    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


# --- reading an upload -------------------------------------------------------------------------


class _FileProblem(Exception):
    """A whole-file error found while reading; turned into a single CellError."""

    def __init__(self, code: str, row: int | None = None, column: str | None = None, **params):
        super().__init__(code)
        self.error = CellError(row, column, code, params)

    @classmethod
    def office(cls, error: officefiles.OfficeFileError) -> _FileProblem:
        if error.code in ("not_zip", "damaged"):  # the sheet's own, more specific message
            return cls("file_unreadable")
        return cls("office_limit", limit=error.code, kind=error.kind, **error.params)


_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_BINARY_MAGIC = (
    b"%PDF-",
    b"\x89PNG",
    b"\xff\xd8\xff",  # JPEG
    b"GIF8",
    b"\x1f\x8b",  # gzip
    b"Rar!",
    b"7z\xbc\xaf",
    b"{\\rtf",
)
# OLE directory entries are UTF-16LE names.
_OLE_ENCRYPTED = "EncryptedPackage".encode("utf-16-le")
_OLE_WORKBOOK = ("Workbook".encode("utf-16-le"), "Book".encode("utf-16-le"))
_TEXT_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SPACES = re.compile(r"\s+")
_REQUIRED_MARK = re.compile(r"^[*＊]+|[*＊]+$|\(必填\)$")
_ARTICLE_SEPARATORS = re.compile(r"[、，,；;/和及与]+")
_ARTICLE_CELL = re.compile(
    rf"(?:第(?P<chapter>{NUMERAL_PATTERN})章)?(?:第{NUMERAL_PATTERN}节)?"
    rf"第?(?P<article>{NUMERAL_PATTERN})条?"
    rf"(?:第(?P<paragraph>{NUMERAL_PATTERN})款)?(?:第(?P<item>{NUMERAL_PATTERN})项)?"
)
_ARTICLE_TRAILING = re.compile(r"[。.．:：]+$")
_INTEGER_TEXT = re.compile(r"([0-9]+)(?:\.0+)?人?")


def read_upload(filename: str, data: bytes, *, article_numbers: set[int]) -> ImportResult:
    """Check a whole upload; the type is judged by content, ``filename`` only for the log."""
    rows = None
    try:
        rows = _open_rows(data)
        return _validate(rows, article_numbers)
    except officefiles.OfficeFileError as error:  # a limit passed while reading rows
        problem = _FileProblem.office(error)
        log.info("spreadsheet %r refused: %s %s", filename, error.code, error.params)
        return ImportResult([], [problem.error])
    except _FileProblem as problem:
        log.info("spreadsheet %r refused: %s", filename, problem.error.code)
        return ImportResult([], [problem.error])
    finally:
        if rows is not None:
            rows.close()  # stops reading early and closes the workbook


def _open_rows(data: bytes) -> Iterator[tuple[int, tuple]]:
    """(row number, cell values) for each row of the file, after whole-file checks."""
    if not data:
        raise _FileProblem("empty")
    if len(data) > MAX_BYTES:
        raise _FileProblem("too_large", max_mb=MAX_BYTES // (1024 * 1024))
    head = data[:16]
    if head.startswith(_OLE_MAGIC):
        if _OLE_ENCRYPTED in data:
            raise _FileProblem("encrypted")
        if any(name in data for name in _OLE_WORKBOOK):
            raise _FileProblem("old_xls")
        raise _FileProblem("not_spreadsheet")
    if head.startswith(b"PK"):
        return _xlsx_rows(data)
    if head.startswith(_BINARY_MAGIC) or b"\x00" in data:
        raise _FileProblem("not_spreadsheet")
    return _csv_rows(data)


def _xlsx_rows(data: bytes) -> Iterator[tuple[int, tuple]]:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            infos = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise _FileProblem("file_unreadable") from exc
    names = {info.filename for info in infos}
    if "xl/workbook.xml" not in names or "[Content_Types].xml" not in names:
        raise _FileProblem("not_spreadsheet")
    # Zip and XML bombs are refused here, before openpyxl spends minutes and gigabytes on them.
    limits = officefiles.current_limits()
    try:
        officefiles.check_xlsx(data, limits)
    except officefiles.OfficeFileError as error:
        raise _FileProblem.office(error) from error
    return officefiles.bounded_rows(_xlsx_iter(data), "xlsx", limits)


# Rows are read in chunks so the warning filter is set up once per chunk, not once per row.
_CHUNK_ROWS = 500


def _quietly(call, *args, **kwargs):
    # openpyxl warns about features it drops (x14 extensions, missing styles, odd dates); the
    # uploader can do nothing about them and only the values matter here. The filter is scoped
    # to each call, never held across a yield, so the caller's code runs with its own filters.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return call(*args, **kwargs)


def _xlsx_iter(data: bytes) -> Iterator[tuple[int, tuple]]:
    from openpyxl import load_workbook

    try:
        wb = _quietly(
            load_workbook, io.BytesIO(data), read_only=True, data_only=True, keep_links=False
        )
    except Exception as exc:
        log.info("unreadable .xlsx upload", exc_info=True)
        raise _FileProblem("file_unreadable") from exc
    values_by_row = None
    try:
        sheets = wb.worksheets
        ws = wb[SHEET_NAME] if SHEET_NAME in wb.sheetnames else (sheets[0] if sheets else None)
        if not hasattr(ws, "reset_dimensions"):  # no worksheet, or a chart sheet
            raise _FileProblem("empty")
        # Some writers record a wrong <dimension>; read every cell that is there instead.
        ws.reset_dimensions()
        values_by_row = ws.iter_rows(values_only=True)
        number = 0
        while True:
            try:
                chunk = _quietly(list, itertools.islice(values_by_row, _CHUNK_ROWS))
            except Exception as exc:
                log.info("unreadable .xlsx upload", exc_info=True)
                raise _FileProblem("file_unreadable") from exc
            for values in chunk:
                number += 1
                yield number, values
            if len(chunk) < _CHUNK_ROWS:
                return
    finally:
        if values_by_row is not None:
            values_by_row.close()
        wb.close()


def _decode_text(data: bytes) -> str:
    if data.startswith(codecs.BOM_UTF8):
        encodings = ("utf-8-sig",)
    else:
        # Excel on Chinese Windows saves "CSV" in the ANSI code page, GBK (a subset of GB18030).
        encodings = ("utf-8", "gb18030")
    for encoding in encodings:
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise _FileProblem("not_spreadsheet")


def _csv_rows(data: bytes) -> Iterator[tuple[int, tuple]]:
    text = _decode_text(data)
    sample = text[:65536]
    # GB18030 decodes many binary files; real text has almost no control characters.
    if len(_TEXT_CONTROL.findall(sample)) > max(3, len(sample) // 1000):
        raise _FileProblem("not_spreadsheet")
    if sample.lstrip().startswith("<"):  # HTML or XML saved with an .xls/.csv name
        raise _FileProblem("not_spreadsheet")
    first_line = next((line for line in sample.splitlines() if line.strip()), "")
    delimiter = max(",\t;", key=first_line.count)
    # 10 MB of line breaks are ten million blank rows: counted, with cells, as they are read.
    return officefiles.bounded_rows(_csv_iter(text, delimiter), "csv")


def _csv_iter(text: str, delimiter: str) -> Iterator[tuple[int, tuple]]:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        # Numbered by record, as Excel numbers the rows when it opens the file.
        for number, values in enumerate(reader, start=1):
            yield number, tuple(values)
    except csv.Error as exc:
        raise _FileProblem("file_unreadable") from exc


def _is_blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _header_key(value) -> str:
    text = _SPACES.sub("", _nfkc(str(value)))
    return _REQUIRED_MARK.sub("", text)


_HEADER_LOOKUP: dict[str, Column] = {
    _header_key(name): column for column in COLUMNS for name in (column.header, *column.aliases)
}


def _find_header(rows: Iterator[tuple[int, tuple]]) -> tuple[int, dict[str, int]]:
    """The header row's number and the position of each known column in it."""
    seen = 0
    for number, values in rows:
        if all(_is_blank(v) for v in values):
            continue
        seen += 1
        positions: dict[str, int] = {}
        for index, value in enumerate(values):
            if _is_blank(value):
                continue
            column = _HEADER_LOOKUP.get(_header_key(value))
            if column is None:
                continue
            if column.key in positions:
                raise _FileProblem(
                    "duplicate_header", row=number, column=column.header, header=column.header
                )
            positions[column.key] = index
        if all(c.key in positions for c in COLUMNS if c.required):
            return number, positions
        if positions or seen >= HEADER_SEARCH_ROWS:
            break  # a header row without the required column, or no header at all
    if seen == 0:
        raise _FileProblem("empty")
    missing = next(c for c in COLUMNS if c.required)
    raise _FileProblem("missing_header", header=missing.header)


def _validate(rows: Iterator[tuple[int, tuple]], article_numbers: set[int]) -> ImportResult:
    rows = iter(rows)
    _, positions = _find_header(rows)
    known = sorted(positions.items(), key=lambda item: item[1])
    result = ImportResult()
    errors: list[CellError] = []
    count = 0
    for number, values in rows:
        width = len(values)
        cells = {key: values[index] if index < width else None for key, index in known}
        # A row with only a pre-filled 序号 or 备注 is as blank as an empty one.
        if all(_is_blank(v) for v in cells.values()):
            continue
        count += 1
        if count > MAX_ROWS:
            raise _FileProblem("too_many_rows", max=MAX_ROWS)
        row = _check_row(number, cells, article_numbers, errors)
        if row is not None:
            result.rows.append(row)
    if count == 0:
        raise _FileProblem("empty")
    if len(errors) > MAX_REPORTED_ERRORS:
        more = len(errors) - MAX_REPORTED_ERRORS
        errors = errors[:MAX_REPORTED_ERRORS]
        errors.append(CellError(None, None, "too_many_errors", {"more": more}))
    result.errors = errors
    return result


def _display(value) -> str:
    """A cell value as the user typed it, shortened for a message."""
    if isinstance(value, float) and value.is_integer():
        text = str(int(value))
    elif isinstance(value, datetime):
        text = value.strftime("%Y-%m-%d %H:%M") if value.time() != time() else f"{value:%Y-%m-%d}"
    elif isinstance(value, date | time):
        text = value.isoformat()
    else:
        text = str(value).strip()
    return text if len(text) <= 40 else text[:39] + "…"


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime | date | time | timedelta):
        return _display(value)
    return str(value)


def _check_row(
    number: int, cells: dict, article_numbers: set[int], errors: list[CellError]
) -> OpinionRow | None:
    found: list[CellError] = []

    def problem(key: str, code: str, **params) -> None:
        found.append(CellError(number, _BY_KEY[key].header, code, params))

    body = clean_text(_text(cells.get("body")))
    if _EXAMPLE_BODY_RE.fullmatch(body):
        errors.append(CellError(number, _BY_KEY["body"].header, "example_row_left", {}))
        return None
    if not body:
        problem("body", "body_required")
    elif len(body) > MAX_BODY:
        problem("body", "body_too_long", max=MAX_BODY, length=len(body))

    article: int | None = None
    source = "none"
    raw = cells.get("article")
    if not _is_blank(raw):
        source = "column"
        try:
            article = _parse_article_cell(raw, article_numbers)
        except _CellProblem as bad:
            problem("article", bad.code, value=_display(raw))
    elif body:
        for ref in find_article_refs(body):
            if ref.article in article_numbers:
                article, source = ref.article, "text"
                break

    stance = Stance.other
    raw = cells.get("stance")
    if not _is_blank(raw):
        found_stance = _STANCE_LOOKUP.get(_option_key(raw))
        if found_stance is None:
            problem("stance", "stance_unknown", value=_display(raw), allowed=STANCE_ALLOWED)
        else:
            stance = found_stance

    identity: Identity | None = None
    raw = cells.get("identity")
    if not _is_blank(raw):
        identity = _IDENTITY_LOOKUP.get(_option_key(raw))
        if identity is None:
            problem("identity", "identity_unknown", value=_display(raw), allowed=IDENTITY_ALLOWED)

    raised_by = 1
    raw = cells.get("raised_by")
    if not _is_blank(raw):
        parsed = _parse_count(raw)
        if parsed is None:
            problem("raised_by", "raised_by_invalid", value=_display(raw), max=MAX_RAISED_BY)
        else:
            raised_by = parsed

    if found:
        errors.extend(found)
        return None
    return OpinionRow(number, body, article, source, stance, identity, raised_by)


def _option_key(value) -> str:
    return _SPACES.sub("", _nfkc(str(value))).casefold() if isinstance(value, str) else ""


class _CellProblem(Exception):
    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


def _parse_article_cell(value, article_numbers: set[int]) -> int | None:
    """The article a 涉及条款 cell names (None: the whole draft), checked against the draft."""
    if isinstance(value, bool):
        raise _CellProblem("article_unreadable")
    if isinstance(value, int | float):
        if isinstance(value, float) and not value.is_integer():
            raise _CellProblem("article_unreadable")
        numbers = [int(value)]
    elif isinstance(value, str):
        text = _ARTICLE_TRAILING.sub("", _SPACES.sub("", _nfkc(value)))
        if text in WHOLE_DRAFT:
            return None
        numbers = []
        for part in _ARTICLE_SEPARATORS.split(text):
            if not part:
                continue
            match = _ARTICLE_CELL.fullmatch(part)
            if match is None:
                raise _CellProblem("article_unreadable")
            try:
                numbers.append(chinese_to_int(match.group("article")))
            except ValueError as exc:
                raise _CellProblem("article_unreadable") from exc
        if not numbers:
            raise _CellProblem("article_unreadable")
    else:  # a date or time: Excel turned what was typed into something else
        raise _CellProblem("article_unreadable")
    if any(n < 1 for n in numbers):
        raise _CellProblem("article_unreadable")
    if any(n not in article_numbers for n in numbers):
        raise _CellProblem("article_unknown")
    # Several articles (第十二条、第十三条): the opinion is filed under the first one.
    return numbers[0]


def _parse_count(value) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, float):
        if not value.is_integer():
            return None
        value = int(value)
    if isinstance(value, str):
        text = _SPACES.sub("", _nfkc(value))
        match = _INTEGER_TEXT.fullmatch(text)
        if match:
            value = int(match.group(1))
        else:
            try:
                value = chinese_to_int(text.removesuffix("人"))
            except ValueError:
                return None
    if not isinstance(value, int) or not 1 <= value <= MAX_RAISED_BY:
        return None
    return value


# --- messages ----------------------------------------------------------------------------------


def error_message(error: CellError) -> str:
    """One sentence in the user's language: what is wrong and how to fix it."""
    p = dict(error.params)
    row = error.row or 0
    column = error.column or ""
    match error.code:
        case "empty":
            return gettext("文件里没有意见。请在“意见内容”一列下面逐行填写意见后再上传。")
        case "too_large":
            return gettext(
                "文件太大（不能超过 %(max_mb)d MB）。"
                "请删去图片等无关内容，或把意见分成几个文件上传。",
                max_mb=p.get("max_mb", MAX_BYTES // (1024 * 1024)),
            )
        case "not_spreadsheet":
            return gettext("这个文件不是 Excel（.xlsx）或 CSV 表格，请下载模板填写后上传。")
        case "old_xls":
            return gettext(
                "这是旧版 Excel（.xls）文件，无法读取。"
                "请在 Excel 中“另存为”Excel 工作簿（.xlsx）后重新上传。"
            )
        case "encrypted":
            return gettext(
                "这个文件设置了打开密码，无法读取。请在 Excel 中取消密码并保存后重新上传。"
            )
        case "file_unreadable":
            return gettext(
                "文件已损坏或不完整，无法读取。请在 Excel 中打开检查，重新保存为 .xlsx 后再上传。"
            )
        case "missing_header":
            return gettext(
                "表格第一行应是表头，并且要有“%(header)s”一列。请使用下载的模板，不要修改表头。",
                header=p.get("header", ""),
            )
        case "duplicate_header":
            return gettext(
                "第 %(row)d 行的表头中“%(header)s”出现了不止一次，请只保留一列。",
                row=row,
                header=p.get("header", column),
            )
        case "too_many_rows":
            return gettext(
                "一个文件最多 %(max)d 条意见，这个文件超过了。请把意见分成几个文件分别上传。",
                max=p.get("max", MAX_ROWS),
            )
        case "office_limit":
            return officefiles.message(p.get("limit", ""), p.get("kind", "xlsx"), p)
        case "too_many_errors":
            return gettext(
                "另有 %(more)d 处问题没有逐一列出。请先改正上面的问题，再重新上传检查。",
                more=p.get("more", 0),
            )
        case "body_required":
            return gettext(
                "第 %(row)d 行“%(column)s”：请填写意见内容；不需要的行请整行删除。",
                row=row,
                column=column,
            )
        case "body_too_long":
            return gettext(
                "第 %(row)d 行“%(column)s”：意见有 %(length)d 字，超过了 %(max)d 字，"
                "请精简，或拆成几条意见分行填写。",
                row=row,
                column=column,
                length=p.get("length", 0),
                max=p.get("max", MAX_BODY),
            )
        case "article_unknown":
            return gettext(
                "第 %(row)d 行“%(column)s”：本草案中没有“%(value)s”，请核对条文序号；"
                "针对草案整体的意见请填写“总体”或留空。",
                row=row,
                column=column,
                value=p.get("value", ""),
            )
        case "article_unreadable":
            return gettext(
                "第 %(row)d 行“%(column)s”：无法识别“%(value)s”，请填写条文序号，"
                "如“第十二条”或“12”；针对草案整体的意见请填写“总体”或留空。",
                row=row,
                column=column,
                value=p.get("value", ""),
            )
        case "stance_unknown":
            return gettext(
                "第 %(row)d 行“%(column)s”：“%(value)s”不是可选的意见类型，"
                "请从下拉列表中选择（%(allowed)s），或留空。",
                row=row,
                column=column,
                value=p.get("value", ""),
                allowed=p.get("allowed", STANCE_ALLOWED),
            )
        case "identity_unknown":
            return gettext(
                "第 %(row)d 行“%(column)s”：“%(value)s”不是可选的提出人身份，"
                "请从下拉列表中选择（%(allowed)s），或留空。",
                row=row,
                column=column,
                value=p.get("value", ""),
                allowed=p.get("allowed", IDENTITY_ALLOWED),
            )
        case "raised_by_invalid":
            return gettext(
                "第 %(row)d 行“%(column)s”：“%(value)s”不是有效的人数，"
                "请填写 1 到 %(max)d 之间的整数，或留空（按 1 人计）。",
                row=row,
                column=column,
                value=p.get("value", ""),
                max=p.get("max", MAX_RAISED_BY),
            )
        case "example_row_left":
            return gettext(
                "第 %(row)d 行是模板里的示例，请删除这一行，或改写成你们收集到的意见。", row=row
            )
    return gettext("文件中有无法识别的问题，请下载模板重新填写后上传。")


def error_messages(errors: Iterable[CellError]) -> list[str]:
    """All messages of a result, in order."""
    return [error_message(error) for error in errors]
