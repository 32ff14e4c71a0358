"""Turning a pasted text or an uploaded .docx into a parsed draft, with messages for people."""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import BinaryIO

from flask import current_app
from flask_babel import gettext as _

from portal import officefiles
from portal.drafts.parser import DraftParseError, ParsedDraft, docx_to_text, parse_draft_text


def parse_error_message(error: DraftParseError) -> str:
    """The user's-language message for a parser error code."""
    messages = {
        "empty": _("正文为空，请粘贴草案全文或上传文件。"),
        "no_articles": _("没有找到任何条文。每一条应以“第一条”“第二条”这样的编号开头。"),
        "too_long": _("正文过长，无法导入。"),
        "too_many_lines": _("正文行数过多，无法导入。"),
        "not_docx": _("无法读取这个文件，请上传有效的 .docx 文件。"),
    }
    return messages.get(error.code, _("无法解析正文。"))


def warning_message(warning) -> str:
    data = warning.data or {}
    if warning.code == "number_gap":
        return _(
            "第 %(line)d 行：条文编号不连续（应为 %(expected)s，实为 %(found)s）。",
            line=warning.line,
            expected=data.get("expected", "?"),
            found=data.get("found", "?"),
        )
    if warning.code == "duplicate_number":
        return _("第 %(line)d 行：编号重复，只保留第一次出现的条文。", line=warning.line)
    if warning.code == "section_outside_chapter":
        return _("第 %(line)d 行：“节”不在任何“章”之内。", line=warning.line)
    return _("第 %(line)d 行无法归入任何条文。", line=warning.line)


@dataclass
class ImportResult:
    text: str = ""
    parsed: ParsedDraft | None = None
    error: str | None = None


@dataclass
class Preview:
    """What the drafter checks before publishing."""

    title: str | None
    chapters: list[tuple[str, str, int]]  # label, heading, article count
    article_count: int
    first_number: int | None
    last_number: int | None
    unplaced: list[tuple[int, str]]
    warnings: list[str] = field(default_factory=list)

    @classmethod
    def of(cls, parsed: ParsedDraft) -> Preview:
        per_chapter = [0] * len(parsed.chapters)
        for article in parsed.articles:
            if article.chapter_index is not None:
                per_chapter[article.chapter_index] += 1
        numbers = [a.number for a in parsed.articles]
        return cls(
            title=parsed.title,
            chapters=[(c.label, c.heading, per_chapter[i]) for i, c in enumerate(parsed.chapters)],
            article_count=len(parsed.articles),
            first_number=min(numbers) if numbers else None,
            last_number=max(numbers) if numbers else None,
            unplaced=parsed.unplaced,
            warnings=[warning_message(w) for w in parsed.warnings if w.code != "unplaced_line"],
        )


def read_docx(stream: BinaryIO, *, max_bytes: int, limits: officefiles.Limits | None = None) -> str:
    """The text of an uploaded .docx, checked by portal/officefiles.py before python-docx opens it.

    Raises DraftParseError ("too_long", "not_docx") or officefiles.OfficeFileError (a limit).
    """
    data = stream.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise DraftParseError("too_long", f"file larger than {max_bytes} bytes")
    try:
        officefiles.check_docx(data, limits)
    except officefiles.OfficeFileError as error:
        if error.code == "not_zip":  # a .doc or a PDF renamed: the usual message
            raise DraftParseError("not_docx", "file is not a zip archive") from error
        raise
    return docx_to_text(io.BytesIO(data), max_bytes=max_bytes)


def read_and_parse(form) -> ImportResult:
    """Read the uploaded .docx if any, else the pasted text, and parse it; nothing is saved."""
    config = current_app.config
    result = ImportResult()
    try:
        upload = form.document.data
        if upload and getattr(upload, "filename", ""):
            result.text = read_docx(upload.stream, max_bytes=config["DRAFT_MAX_DOCX_BYTES"])
        else:
            result.text = form.text.data or ""
        result.parsed = parse_draft_text(result.text, max_chars=config["DRAFT_MAX_CHARS"])
    except DraftParseError as error:
        result.error = parse_error_message(error)
        result.parsed = None
    except officefiles.OfficeFileError as error:
        result.error = error.message()
        result.parsed = None
    return result
