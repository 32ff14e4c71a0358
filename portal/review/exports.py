"""Exporting a result set of opinions as an Excel workbook or a CSV file, safe to open."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from portal.extensions import db
from portal.i18n import article_label, chapter_label, is_english
from portal.labels import CHANNEL_LABELS, DECISION_LABELS, IDENTITY_LABELS, STANCE_LABELS
from portal.models import Comment, Submission
from portal.sanitize import xml_safe

# Spreadsheet programs run a cell that starts with one of these as a formula (OWASP, "CSV
# injection"); a tab or carriage return in front hides such a start from a casual look.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# Rows loaded per query: bounded memory, and well under SQLite's limit on bound parameters.
LOAD_CHUNK = 1000


@dataclass(frozen=True)
class ExportColumn:
    key: str
    header: object  # a lazy string: the header follows the locale at export time


EXPORT_COLUMNS: tuple[ExportColumn, ...] = (
    ExportColumn("id", _l("意见编号")),
    ExportColumn("draft", _l("草案")),
    ExportColumn("article", _l("条款")),
    ExportColumn("chapter", _l("章")),
    ExportColumn("categories", _l("分类")),
    ExportColumn("stance", _l("意见类型")),
    ExportColumn("identity", _l("身份")),
    ExportColumn("channel", _l("渠道")),
    ExportColumn("liaison_point", _l("联系点")),
    ExportColumn("district", _l("区县")),
    ExportColumn("raised_by", _l("提出人数")),
    ExportColumn("decision", _l("处理结果")),
    ExportColumn("response", _l("答复")),
    ExportColumn("response_published", _l("答复已公开")),
    ExportColumn("created_at", _l("提交时间")),
    ExportColumn("tracking_code", _l("回执编号")),
    ExportColumn("body", _l("意见内容")),
    ExportColumn("quote", _l("引用原文")),
)
# Personal data: only for the drafting team and admins, as the caller decides.
CONTACT_COLUMNS: tuple[ExportColumn, ...] = (
    ExportColumn("name", _l("姓名")),
    ExportColumn("contact", _l("联系方式")),
)

XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_MIMETYPE = "text/csv; charset=utf-8"


def columns(include_contact: bool) -> tuple[ExportColumn, ...]:
    return EXPORT_COLUMNS + CONTACT_COLUMNS if include_contact else EXPORT_COLUMNS


def headers(include_contact: bool) -> list[str]:
    """The header row in the current locale."""
    return [str(column.header) for column in columns(include_contact)]


def neutralize(value):
    """Defuse spreadsheet formula injection: text that would start a formula gets a leading '.

    Numbers (and everything that is not a string) are returned unchanged.
    """
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


# --- loading --------------------------------------------------------------------------------


def _export_query(ids: list[int]):
    return (
        select(Comment)
        .where(Comment.id.in_(ids))
        .options(
            selectinload(Comment.draft),
            selectinload(Comment.article),
            selectinload(Comment.chapter),
            selectinload(Comment.categories),
            selectinload(Comment.submission).selectinload(Submission.liaison_point),
        )
    )


def iter_for_export(ids: Iterable[int], chunk: int = LOAD_CHUNK) -> Iterator[Comment]:
    """The comments with these ids and everything an export shows, in the given order.

    Loads a chunk at a time, so an export of 50,000 opinions never holds them all; ids that
    no longer exist are skipped.
    """
    ids = list(ids)
    for start in range(0, len(ids), chunk):
        part = ids[start : start + chunk]
        rows = {c.id: c for c in db.session.scalars(_export_query(part))}
        for comment_id in part:
            comment = rows.get(comment_id)
            if comment is not None:
                yield comment


def load_for_export(ids: list[int]) -> list[Comment]:
    """Like iter_for_export, as a list (for small result sets)."""
    return list(iter_for_export(ids))


# --- rows -----------------------------------------------------------------------------------


class _Formatter:
    """Turns comments into rows; label lookups are done once per export, not once per cell."""

    def __init__(self, include_contact: bool):
        self.include_contact = include_contact
        self.english = is_english()
        self.zone = ZoneInfo(current_app.config.get("BABEL_DEFAULT_TIMEZONE", "Asia/Shanghai"))
        self.stances = {k: str(v) for k, v in STANCE_LABELS.items()}
        self.identities = {k: str(v) for k, v in IDENTITY_LABELS.items()}
        self.channels = {k: str(v) for k, v in CHANNEL_LABELS.items()}
        self.decisions = {k: str(v) for k, v in DECISION_LABELS.items()}
        self.whole_draft = _("全文")
        self.yes, self.no = _("是"), _("否")
        self._articles: dict[int, str] = {}
        self._chapters: dict[int, str] = {}
        self._names: dict[tuple[str, int], str] = {}

    def _localized(self, kind: str, obj, field: str) -> str:
        key = (kind, obj.id)
        if key not in self._names:
            english = getattr(obj, f"{field}_en", "") if self.english else ""
            self._names[key] = english or getattr(obj, field)
        return self._names[key]

    def article(self, comment: Comment) -> str:
        number = comment.article_number
        if number is None:
            # A chapter-level opinion is named in the chapter column.
            return "" if comment.chapter_id is not None else self.whole_draft
        if number not in self._articles:
            self._articles[number] = article_label(number)
        return self._articles[number]

    def chapter(self, comment: Comment) -> str:
        chapter = comment.chapter
        if chapter is None:
            return ""
        if chapter.id not in self._chapters:
            label = chapter_label(chapter.number)
            self._chapters[chapter.id] = f"{label} {chapter.heading}".strip()
        return self._chapters[chapter.id]

    def local_time(self, comment: Comment) -> str:
        if comment.created_at is None:
            return ""
        return comment.created_at.astimezone(self.zone).strftime("%Y-%m-%d %H:%M")

    def row(self, comment: Comment) -> list[str | int]:
        point = comment.submission.liaison_point if comment.submission is not None else None
        district = comment.district
        if not district and point is not None:
            district = self._localized("point_district", point, "district")
        values: list[str | int] = [
            comment.id if comment.id is not None else "",
            self._localized("draft", comment.draft, "title") if comment.draft else "",
            self.article(comment),
            self.chapter(comment),
            "、".join(
                self._localized("category", c, "name")
                for c in sorted(comment.categories, key=lambda c: (c.position, c.id))
            ),
            self.stances.get(comment.stance, "") if comment.stance else "",
            self.identities.get(comment.identity, "") if comment.identity else "",
            self.channels.get(comment.channel, "") if comment.channel else "",
            self._localized("point", point, "name") if point is not None else "",
            district or "",
            comment.raised_by if comment.raised_by is not None else 1,
            self.decisions.get(comment.decision, "") if comment.decision else "",
            comment.response or "",
            self.yes if comment.response_published_at is not None else self.no,
            self.local_time(comment),
            comment.tracking_code or "",
            comment.body or "",
            comment.quote or "",
        ]
        if self.include_contact:
            values += [comment.name or "", comment.contact or ""]
        return [_cell(value) for value in values]


def _cell(value):
    if isinstance(value, str):
        # Control characters XML 1.0 cannot carry (openpyxl refuses them) go first, so that
        # none can hide a formula from neutralize.
        value = neutralize(xml_safe(value))
    return value


def rows_for(comments: Iterable[Comment], *, include_contact: bool) -> Iterator[list[str | int]]:
    """One row per comment, columns as EXPORT_COLUMNS (+ CONTACT_COLUMNS), every text cell
    neutralized; numbers stay numbers."""
    formatter = _Formatter(include_contact)
    for comment in comments:
        yield formatter.row(comment)


# --- files ----------------------------------------------------------------------------------


def _xlsx_value(value):
    # An empty cell is not written at all: a third fewer cells, a third less time.
    return None if value == "" else value


def export_xlsx(comments: Iterable[Comment], *, include_contact: bool) -> bytes:
    """An .xlsx workbook written in openpyxl's streaming (write-only) mode."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(_xlsx_title(_("意见列表")))
    sheet.freeze_panes = "A2"
    widths = {"body": 60, "response": 40, "quote": 30, "draft": 24, "liaison_point": 20}
    for index, column in enumerate(columns(include_contact)):
        sheet.column_dimensions[get_column_letter(index + 1)].width = widths.get(column.key, 12)
    bold = Font(bold=True)
    header = []
    for text in headers(include_contact):
        cell = WriteOnlyCell(sheet, value=neutralize(text))
        cell.font = bold
        header.append(cell)
    sheet.append(header)
    for row in rows_for(comments, include_contact=include_contact):
        sheet.append([_xlsx_value(value) for value in row])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def export_csv(comments: Iterable[Comment], *, include_contact: bool) -> bytes:
    """UTF-8 with a byte order mark (Excel on Chinese Windows then reads it right), CRLF lines."""
    out = io.StringIO(newline="")
    out.write("\ufeff")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([neutralize(text) for text in headers(include_contact)])
    writer.writerows(rows_for(comments, include_contact=include_contact))
    return out.getvalue().encode("utf-8")


def export_filename(slug: str, extension: str) -> str:
    return f"{slug}-opinions.{extension}"


def _xlsx_title(title: str) -> str:
    # Sheet titles: at most 31 characters, none of []:*?/\ .
    return "".join(ch for ch in title if ch not in "[]:*?/\\")[:31] or "Sheet1"


EXPORTERS: dict[str, tuple[Callable[..., bytes], str]] = {
    "xlsx": (export_xlsx, XLSX_MIMETYPE),
    "csv": (export_csv, CSV_MIMETYPE),
}
