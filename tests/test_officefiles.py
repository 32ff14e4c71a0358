"""The checks on uploaded .xlsx/.docx files (portal/officefiles.py) and the draft import page."""

from __future__ import annotations

import dataclasses
import io
import zipfile
from pathlib import Path

import pytest
from docx import Document
from openpyxl import Workbook

from portal import officefiles
from portal.officefiles import Limits, OfficeFileError
from tests.drafts.test_views import make_draft

# Tight limits so every bomb in these tests is small but over one of them.
TIGHT = Limits(
    max_uncompressed=1_000_000,
    max_ratio=100,
    max_parts=20,
    max_xml_elements=50_000,
    sheet_max_rows=50,
    sheet_max_cells=200,
    sheet_max_shared_strings=20_000,
    docx_max_paragraphs=30,
    docx_max_chars=2_000,
)
SHEET_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"


def limits(**changes) -> Limits:
    return dataclasses.replace(TIGHT, **changes)


def xlsx(rows: list[list]) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "意见"
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def docx(paragraphs: list[str]) -> bytes:
    document = Document()
    for text in paragraphs:
        document.add_paragraph(text)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def with_part(data: bytes, name: str, content: bytes) -> bytes:
    """A copy of the zip with ``name`` added or replaced."""
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(data)) as old,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as new,
    ):
        for info in old.infolist():
            if info.filename != name:
                new.writestr(info.filename, old.read(info))
        new.writestr(name, content)
    return out.getvalue()


def refusal(check, data: bytes, **changes) -> OfficeFileError:
    # How fast a refusal comes is measured by `python -m bench officebomb`, not asserted here.
    with pytest.raises(OfficeFileError) as caught:
        check(data, limits(**changes))
    return caught.value


def test_ordinary_files_pass():
    officefiles.check_xlsx(xlsx([["意见内容"], ["建议修改第一条。"]]), TIGHT)
    officefiles.check_docx(docx(["第一条　为了规范物业管理，制定本条例。"]), TIGHT)


def test_declared_size_over_the_limit_is_refused_from_the_directory():
    bomb = with_part(xlsx([["意见内容"]]), "xl/sharedStrings.xml", b" " * 1_100_000)
    error = refusal(officefiles.check_xlsx, bomb, max_ratio=10_000)
    assert error.code == "too_large_uncompressed"
    assert "解压后超过" in error.message()


def test_a_part_with_an_absurd_ratio_is_refused():
    bomb = with_part(xlsx([["意见内容"]]), "xl/media/padding.bin", b"\0" * 2_000_000)
    error = refusal(officefiles.check_xlsx, bomb, max_uncompressed=5_000_000)
    assert error.code == "ratio"
    assert error.params["part"] == "xl/media/padding.bin"
    assert "压缩比异常" in error.message()


def _lie_about_size(data: bytes, name: str, declared: int) -> bytes:
    """Patch the uncompressed size of ``name`` in its local header and the central directory."""
    raw = bytearray(data)
    encoded = name.encode()
    local = raw.find(b"PK\x03\x04")
    while local >= 0:
        name_len = int.from_bytes(raw[local + 26 : local + 28], "little")
        if raw[local + 30 : local + 30 + name_len] == encoded:
            raw[local + 22 : local + 26] = declared.to_bytes(4, "little")
        local = raw.find(b"PK\x03\x04", local + 4)
    central = raw.find(b"PK\x01\x02")
    while central >= 0:
        name_len = int.from_bytes(raw[central + 28 : central + 30], "little")
        if raw[central + 46 : central + 46 + name_len] == encoded:
            raw[central + 24 : central + 28] = declared.to_bytes(4, "little")
        central = raw.find(b"PK\x01\x02", central + 4)
    return bytes(raw)


def test_a_header_that_understates_the_size_gets_no_more_through():
    strings = (f'<sst xmlns="{SHEET_NS}">' + "<si><t>意见</t></si>" * 20_000 + "</sst>").encode()
    honest = with_part(xlsx([["意见内容"]]), "xl/sharedStrings.xml", strings)
    lying = _lie_about_size(honest, "xl/sharedStrings.xml", 1_000)
    with zipfile.ZipFile(io.BytesIO(lying)) as archive:
        assert archive.getinfo("xl/sharedStrings.xml").file_size == 1_000
    # The directory now looks harmless, but the part cannot inflate past what it declared.
    error = refusal(officefiles.check_xlsx, lying, max_uncompressed=10_000_000, max_ratio=10**6)
    assert error.code == "damaged"
    assert "损坏" in error.message()


def test_too_many_parts():
    data = xlsx([["意见内容"]])
    for number in range(25):
        data = with_part(data, f"customXml/item{number}.xml", b"<a/>")
    error = refusal(officefiles.check_xlsx, data)
    assert error.code == "too_many_parts"
    assert error.params["max"] == 20


def test_duplicate_part_names_are_refused():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("xl/workbook.xml", "<a/>")
        with pytest.warns(UserWarning):
            archive.writestr("xl/workbook.xml", "<b/>")
    assert refusal(officefiles.check_xlsx, out.getvalue()).code == "damaged"


def test_too_many_rows():
    error = refusal(officefiles.check_xlsx, xlsx([["意见"]] * 60))
    assert error.code == "too_many_rows"
    assert "50" in error.message()


def test_a_far_row_number_counts_as_the_rows_before_it():
    # openpyxl would hand over 999,999 empty rows before this one.
    data = xlsx([["意见内容"]])
    sheet = (
        f'<worksheet xmlns="{SHEET_NS}"><sheetData><row r="1000000"><c r="A1000000" '
        't="inlineStr"><is><t>x</t></is></c></row></sheetData></worksheet>'
    ).encode()
    error = refusal(officefiles.check_xlsx, with_part(data, "xl/worksheets/sheet1.xml", sheet))
    assert error.code == "too_many_rows"


def test_too_many_cells_counts_the_padding_up_to_the_last_column():
    assert refusal(officefiles.check_xlsx, xlsx([["x"] * 20] * 11)).code == "too_many_cells"
    far = xlsx([["意见内容"] + [None] * 300 + ["x"]])  # one row, 302 columns
    assert refusal(officefiles.check_xlsx, far).code == "too_many_cells"


def test_shared_strings_over_the_limit():
    strings = f'<sst xmlns="{SHEET_NS}"><si><t>{"意见" * 5_000}</t></si></sst>'.encode()
    data = with_part(xlsx([["意见内容"]]), "xl/sharedStrings.xml", strings)
    assert refusal(officefiles.check_xlsx, data).code == "shared_strings"
    # Under another name it is found by its content while inflating.
    renamed = with_part(xlsx([["意见内容"]]), "xl/strings2.xml", strings)
    assert refusal(officefiles.check_xlsx, renamed).code == "shared_strings"


def test_too_many_xml_elements():
    junk = b"<a>" + b"<b/>" * 60_000 + b"</a>"
    data = with_part(xlsx([["意见内容"]]), "xl/junk.xml", junk)
    assert refusal(officefiles.check_xlsx, data).code == "too_many_elements"


def test_entity_declarations_are_refused():
    billion = b'<!DOCTYPE a [<!ENTITY x "xxxxxxxxxx">]><a>&x;&x;</a>'
    data = with_part(docx(["第一条　内容。"]), "word/document.xml", billion)
    error = refusal(officefiles.check_docx, data)
    assert error.code == "unsafe_xml"


def test_docx_paragraphs_and_characters():
    many = docx([f"第{n}条　内容。" for n in range(40)])
    assert refusal(officefiles.check_docx, many).code == "too_many_paragraphs"
    long = docx(["第一条　" + "长" * 2_100])
    error = refusal(officefiles.check_docx, long)
    assert error.code == "too_many_chars"
    assert "2000" in error.message()


def test_not_a_zip():
    assert refusal(officefiles.check_docx, b"not a zip at all").code == "not_zip"


def test_bounded_rows_counts_rows_and_cells():
    rows = ((n, ("",)) for n in range(1, 100))
    with pytest.raises(OfficeFileError) as caught:
        list(officefiles.bounded_rows(rows, "csv", TIGHT))
    assert caught.value.code == "too_many_rows"
    wide = [(1, ("x",) * 300)]
    with pytest.raises(OfficeFileError) as caught:
        list(officefiles.bounded_rows(wide, "csv", TIGHT))
    assert caught.value.code == "too_many_cells"


def test_limits_come_from_the_config(app):
    app.config["SPREADSHEET_MAX_ROWS"] = 7
    with app.app_context():
        assert officefiles.current_limits().sheet_max_rows == 7
    assert officefiles.current_limits().sheet_max_rows == 50_000  # outside: the defaults


def test_message_in_english(app):
    with app.test_request_context(headers={"Accept-Language": "en"}):
        text = OfficeFileError("too_many_rows", "xlsx", max=50).message()
    assert "50" in text


# --- the draft import page -------------------------------------------------------------------


@pytest.fixture
def drafter(make_user, login):
    from portal.models import Role

    user = make_user(Role.drafter)
    login(user)
    return user


def _post_docx(client, data: bytes):
    return client.post(
        "/manage/drafts/test-draft/text",
        data={"document": (io.BytesIO(data), "draft.docx"), "preview": "1"},
        content_type="multipart/form-data",
    )


def _texts() -> list[str]:
    from portal.extensions import db
    from portal.models import Article

    db.session.expire_all()
    return list(db.session.scalars(db.select(Article.text).order_by(Article.id)))


def _nothing_saved(app, before: list[str]) -> None:
    assert _texts() == before
    upload_dir = Path(app.config["UPLOAD_DIR"])
    assert not upload_dir.exists() or not any(upload_dir.iterdir())


def test_draft_import_refuses_a_docx_bomb(app, client, drafter, monkeypatch):
    make_draft()
    before = _texts()
    app.config["OFFICE_MAX_UNCOMPRESSED"] = 1024 * 1024
    bomb = with_part(docx(["第一条　内容。"]), "word/document.xml", b" " * 1_100_000)
    import docx as python_docx

    def no_parse(*args, **kwargs):  # refused before the slow part, whatever the machine's load
        raise AssertionError("python-docx must not see this file")

    monkeypatch.setattr(python_docx, "Document", no_parse)
    response = _post_docx(client, bomb)
    assert response.status_code == 422
    assert "文件解压后超过 1 MB" in response.get_data(as_text=True)
    _nothing_saved(app, before)


def test_draft_import_refuses_too_many_paragraphs_with_publish(app, client, drafter):
    make_draft()
    before = _texts()
    app.config["DRAFT_MAX_PARAGRAPHS"] = 10
    data = docx([f"第{n}条　内容。" for n in range(1, 20)])
    response = client.post(
        "/manage/drafts/test-draft/text",
        data={"document": (io.BytesIO(data), "draft.docx"), "publish": "1", "confirmed": "1"},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    assert "文档超过 10 段" in response.get_data(as_text=True)
    _nothing_saved(app, before)


def test_draft_import_accepts_a_long_real_draft(app, client, drafter, tmp_path):
    from bench.officebomb import build_long_draft

    make_draft()
    path = tmp_path / "draft.docx"
    build_long_draft(path, chapters=4, per_chapter=15)
    response = _post_docx(client, path.read_bytes())
    assert response.status_code == 200
    assert "确认发布" in response.get_data(as_text=True)
