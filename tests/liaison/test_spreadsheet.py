"""The opinion spreadsheet: the template, reading .xlsx and CSV, and reporting every problem."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from datetime import datetime

import pytest
from openpyxl import Workbook, load_workbook

from portal.liaison import spreadsheet
from portal.liaison.spreadsheet import (
    COLUMNS,
    ERROR_CODES,
    MAX_ROWS,
    CellError,
    build_template,
    error_message,
    read_upload,
)
from portal.models import Identity, Stance
from tests.test_officefiles import with_part

HEADER = [c.header for c in COLUMNS]
ARTICLES = set(range(1, 81)) | {103}  # a long draft: 第一条 to 第八十条, and 第一百零三条
HAN = re.compile(r"[\u4e00-\u9fff]")


def xlsx(rows, header=HEADER, *, sheet="意见", before=None, formulas=False) -> bytes:
    """An .xlsx with a header and rows; strings stay text unless ``formulas``."""
    wb = Workbook()
    ws = wb.active
    if before is not None:  # another sheet first, e.g. the instructions moved to the front
        ws.title = before
        ws.append(["这是说明，不是意见"])
        ws = wb.create_sheet(sheet)
    else:
        ws.title = sheet
    for values in ([header] if header else []) + list(rows):
        ws.append(list(values))
        if not formulas:
            for cell in ws[ws.max_row]:
                if isinstance(cell.value, str):
                    cell.data_type = "s"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def csv_bytes(rows, header=HEADER, *, encoding="utf-8-sig", delimiter=",") -> bytes:
    out = io.StringIO(newline="")
    writer = csv.writer(out, delimiter=delimiter)
    if header:
        writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode(encoding)


def read(data: bytes, articles=ARTICLES):
    return read_upload("upload", data, article_numbers=articles)


def codes(result) -> list[str]:
    return [e.code for e in result.errors]


def only_row(data: bytes, articles=ARTICLES):
    result = read(data, articles)
    assert result.ok, result.errors
    assert len(result.rows) == 1
    return result.rows[0]


# --- the template ------------------------------------------------------------------------------


def test_template_has_header_example_and_drop_downs():
    wb = load_workbook(io.BytesIO(build_template(list(range(1, 31)), "江州市物业管理条例（草案）")))
    assert wb.sheetnames == ["意见", "填写说明"]
    ws = wb["意见"]
    assert [c.value for c in ws[1]] == HEADER
    assert all(c.font.bold for c in ws[1])
    assert ws.freeze_panes == "A2"
    assert ws.column_dimensions["A"].width >= 40
    example = [c.value for c in ws[2]]
    assert example[0].startswith("建议第十二条增加")
    assert example[1:] == ["第十二条", "修改", "居民", 3]
    assert ws.max_row == 2

    validations = {str(dv.sqref): dv for dv in ws.data_validations.dataValidation}
    last = MAX_ROWS + 1
    stance = validations[f"C2:C{last}"]
    assert stance.type == "list"
    assert stance.formula1 == '"赞成,反对,修改,增加,删除,其他"'
    identity = validations[f"D2:D{last}"]
    assert identity.type == "list"
    assert identity.formula1 == '"居民,企业,社会组织,专家学者,人大代表,机关工作人员,其他"'
    count = validations[f"E2:E{last}"]
    assert (count.type, count.operator, count.formula1, count.formula2) == (
        "whole",
        "between",
        "1",
        "100000",
    )

    help_lines = [row[0] for row in wb["填写说明"].iter_rows(values_only=True)]
    assert help_lines[0] == "征求意见稿：江州市物业管理条例（草案）"
    assert "第一条至第三十条" in help_lines[1]
    text = "\n".join(help_lines)
    for needed in ("意见内容", "第十二条", "总体", "示例", "删除"):
        assert needed in text


def test_template_without_a_draft_has_no_title_line():
    wb = load_workbook(io.BytesIO(build_template()))
    first = wb["填写说明"]["A1"].value
    assert not first.startswith("征求意见稿")
    assert wb["意见"]["B2"].value == "第十二条"


def test_template_example_names_an_article_the_draft_has():
    wb = load_workbook(io.BytesIO(build_template([1, 2, 3, 4, 5])))
    article = wb["意见"]["B2"].value
    assert article == "第三条"
    assert "第三条" in wb["意见"]["A2"].value


def test_a_title_that_looks_like_a_formula_stays_text():
    wb = load_workbook(io.BytesIO(build_template(None, "=HYPERLINK(1)")))
    assert wb["填写说明"]["A1"].value == "征求意见稿：=HYPERLINK(1)"


@pytest.mark.parametrize("numbers", [None, list(range(1, 81)), [1, 2, 3]])
def test_the_untouched_template_is_refused_for_its_example_row(numbers):
    result = read(build_template(numbers), set(numbers or ARTICLES))
    assert not result.ok
    assert result.errors == [CellError(2, "意见内容", "example_row_left", {})]


def test_template_round_trip():
    wb = load_workbook(io.BytesIO(build_template(sorted(ARTICLES), "草案")))
    ws = wb["意见"]
    ws.delete_rows(2)
    ws.append(
        ["建议第十二条增加物业服务企业公示公共收益的频次要求。", "第十二条", "修改", "居民", 3]
    )
    ws.append(["赞成设立业主委员会指导机构。", "总体", "赞成", "人大代表", None])
    ws.append(["第三十条的罚款数额过高，建议降低。", None, "反对", "企业", 12])
    out = io.BytesIO()
    wb.save(out)

    result = read(out.getvalue())
    assert result.ok, result.errors
    assert [(r.row, r.article, r.article_source, r.stance, r.identity, r.raised_by) for r in
            result.rows] == [
        (2, 12, "column", Stance.amend, Identity.resident, 3),
        (3, None, "column", Stance.support, Identity.deputy, 1),
        (4, 30, "text", Stance.oppose, Identity.business, 12),
    ]  # fmt: skip


# --- good files --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cell", "article"),
    [
        ("第十二条", 12),
        ("第12条", 12),
        ("12", 12),
        (12, 12),
        (12.0, 12),
        ("第 12 条", 12),
        ("第１２条", 12),
        ("第三章第十二条", 12),
        ("第十二条第二款", 12),
        ("第十二条第二款第三项", 12),
        ("十二", 12),
        ("第一百零三条", 103),
        ("第十二条、第十三条", 12),
        ("第十二条。", 12),
        ("总体", None),
        ("全文", None),
        ("总体意见", None),
        (" 总 体 ", None),
    ],
)
def test_article_column_variants(cell, article):
    row = only_row(xlsx([["关于条款的意见", cell]]))
    assert row.article == article
    assert row.article_source == "column"


@pytest.mark.parametrize(
    ("cell", "stance"),
    [
        ("赞成", Stance.support),
        ("反对", Stance.oppose),
        ("修改", Stance.amend),
        ("增加", Stance.add),
        ("删除", Stance.delete),
        ("其他", Stance.other),
        ("support", Stance.support),
        (" Oppose ", Stance.oppose),
        ("AMEND", Stance.amend),
        ("add", Stance.add),
        ("delete", Stance.delete),
        ("other", Stance.other),
        (None, Stance.other),
        ("", Stance.other),
    ],
)
def test_stance_column_variants(cell, stance):
    assert only_row(xlsx([["意见", None, cell]])).stance == stance


@pytest.mark.parametrize(
    ("cell", "identity"),
    [
        ("居民", Identity.resident),
        ("企业", Identity.business),
        ("社会组织", Identity.organization),
        ("专家学者", Identity.expert),
        ("人大代表", Identity.deputy),
        ("机关工作人员", Identity.official),
        ("其他", Identity.other),
        ("resident", Identity.resident),
        ("Business", Identity.business),
        ("organization", Identity.organization),
        ("expert", Identity.expert),
        ("deputy", Identity.deputy),
        ("official", Identity.official),
        ("other", Identity.other),
        (None, None),
    ],
)
def test_identity_column_variants(cell, identity):
    assert only_row(xlsx([["意见", None, None, cell]])).identity == identity


@pytest.mark.parametrize(
    ("cell", "count"),
    [(None, 1), (3, 3), (3.0, 3), ("3", 3), ("３", 3), ("3人", 3), ("三", 3), (100_000, 100_000)],
)
def test_raised_by_variants(cell, count):
    assert only_row(xlsx([["意见", None, None, None, cell]])).raised_by == count


def test_body_is_cleaned():
    row = only_row(xlsx([["  第一行\r\n第二行\u202e\u200b  "]]))
    assert row.body == "第一行\n第二行"


def test_columns_in_any_order_with_marked_and_extra_headers():
    header = ["序号", "提出人数", " 意 见 内 容（必填）", "备注", "涉及条款", "意见类型(必填)"]
    result = read(xlsx([[1, 2, "建议延长公示期。", "与第五条有关", "第五条", "修改"]], header))
    assert result.ok, result.errors
    row = result.rows[0]
    assert (row.body, row.article, row.stance, row.raised_by, row.identity) == (
        "建议延长公示期。",
        5,
        Stance.amend,
        2,
        None,
    )


def test_a_title_above_the_header_is_allowed():
    data = xlsx([["江州市某联系点意见汇总表"], [], HEADER, ["意见一"], ["意见二"]], header=None)
    result = read(data)
    assert result.ok
    assert [r.row for r in result.rows] == [4, 5]


def test_blank_rows_and_rows_with_only_a_serial_number_are_skipped():
    header = ["序号", *HEADER]
    rows = [[1, "意见一"], [2, None], [None, "  "], [4, "意见四"], [5], [6], [None, None, None]]
    result = read(xlsx(rows, header))
    assert result.ok, result.errors
    assert [(r.row, r.body) for r in result.rows] == [(2, "意见一"), (5, "意见四")]


def test_sheet_named_yijian_is_read_even_when_not_first():
    result = read(xlsx([["在第二张表里的意见"]], before="说明"))
    assert result.ok
    assert result.rows[0].body == "在第二张表里的意见"


def test_first_sheet_is_read_when_none_is_named_yijian():
    result = read(xlsx([["第一张表里的意见"]], sheet="Sheet1"))
    assert result.ok


def test_csv_utf8_with_bom():
    data = csv_bytes([["建议第十二条明确期限", "12", "修改", "居民", "2"], ["总体赞成", "总体"]])
    assert data.startswith(b"\xef\xbb\xbf")
    result = read(data)
    assert result.ok, result.errors
    assert [(r.row, r.article, r.stance, r.raised_by) for r in result.rows] == [
        (2, 12, Stance.amend, 2),
        (3, None, Stance.other, 1),
    ]


@pytest.mark.parametrize("encoding", ["utf-8", "gb18030", "gbk"])
def test_csv_without_bom_in_utf8_or_gbk(encoding):
    rows = [["关于第八条的意见：建议删除“原则上”三字", None, "删除", "专家学者", "1"]]
    result = read(csv_bytes(rows, encoding=encoding))
    assert result.ok, result.errors
    row = result.rows[0]
    assert row.body == "关于第八条的意见：建议删除“原则上”三字"
    assert (row.article, row.article_source, row.stance, row.identity) == (
        8,
        "text",
        Stance.delete,
        Identity.expert,
    )


def test_csv_with_semicolons_or_tabs():
    for delimiter in ";\t":
        result = read(csv_bytes([["意见，含逗号", "第三条"]], delimiter=delimiter))
        assert result.ok, result.errors
        assert (result.rows[0].body, result.rows[0].article) == ("意见，含逗号", 3)


def test_csv_rows_are_numbered_by_record_like_excel():
    result = read(csv_bytes([["第一条意见\n换行继续"], ["第二条意见"]]))
    assert [(r.row, r.body) for r in result.rows] == [
        (2, "第一条意见\n换行继续"),
        (3, "第二条意见"),
    ]


# --- article detection -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "article", "source"),
    [
        ("建议第十五条增加一款。", 15, "text"),
        ("第 15 条写得不清楚", 15, "text"),
        ("参照《民法典》第九百四十二条，建议修改第二十条。", 20, "text"),
        ("建议删除第三章第二十一条第二款", 21, "text"),
        ("第九百九十九条不存在", None, "none"),
        ("总体上赞成", None, "none"),
    ],
)
def test_article_detected_in_the_text_when_the_column_is_blank(body, article, source):
    row = only_row(xlsx([[body]]))
    assert (row.article, row.article_source) == (article, source)


def test_article_column_wins_over_the_text():
    row = only_row(xlsx([["建议第十五条增加一款。", "第二十条"]]))
    assert (row.article, row.article_source) == (20, "column")


def test_whole_draft_in_the_column_turns_detection_off():
    row = only_row(xlsx([["建议第十五条增加一款。", "总体"]]))
    assert (row.article, row.article_source) == (None, "column")


# --- formulas and other odd cells --------------------------------------------------------------


@pytest.mark.parametrize("text", ["=SUM(A1)", "+8613800000000", "@x", "-", "=1+1"])
def test_formula_looking_text_is_kept_as_text(text):
    assert only_row(xlsx([[text]])).body == text
    assert only_row(csv_bytes([[text]])).body == text


def test_a_real_formula_without_cached_value_counts_as_empty():
    result = read(xlsx([["=A1", "第一条"], ["正常意见"]], formulas=True))
    assert codes(result) == ["body_required"]
    assert result.errors[0].row == 2
    assert [r.body for r in result.rows] == ["正常意见"]


def test_dates_in_the_article_column_are_unreadable():
    result = read(xlsx([["意见", datetime(2024, 12, 1)]]))
    assert result.errors == [
        CellError(2, "涉及条款", "article_unreadable", {"value": "2024-12-01"})
    ]


# --- errors ------------------------------------------------------------------------------------


def test_errors_in_several_rows_are_reported_together():
    rows = [["意见一"]] * 8
    rows[1] = [None, "第五条", "赞成"]  # row 3: no body
    rows[3] = ["意见", "第九十九条", "支持一下", None, 0]  # row 5: three problems
    rows[6] = ["意见" * 3000]  # row 8: too long
    result = read(xlsx(rows))
    assert not result.ok
    assert [(e.row, e.column, e.code) for e in result.errors] == [
        (3, "意见内容", "body_required"),
        (5, "涉及条款", "article_unknown"),
        (5, "意见类型", "stance_unknown"),
        (5, "提出人数", "raised_by_invalid"),
        (8, "意见内容", "body_too_long"),
    ]
    assert result.errors[1].params == {"value": "第九十九条"}
    assert result.errors[2].params["value"] == "支持一下"
    assert "赞成" in result.errors[2].params["allowed"]
    assert result.errors[4].params == {"max": 5000, "length": 6000}
    assert [r.row for r in result.rows] == [2, 4, 6, 7, 9]


def test_error_rows_count_blank_rows_like_excel():
    result = read(xlsx([["意见"], [], [], ["意见", "abc"]]))
    assert [(e.row, e.code) for e in result.errors] == [(5, "article_unreadable")]


@pytest.mark.parametrize(
    ("cell", "code"),
    [
        ("第九九九条", "article_unknown"),
        (999, "article_unknown"),
        ("第十二条、第九十九条", "article_unknown"),
        ("第十十条", "article_unreadable"),
        ("abc", "article_unreadable"),
        ("第三章", "article_unreadable"),
        (12.5, "article_unreadable"),
        (0, "article_unreadable"),
        ("第零条", "article_unreadable"),
        (True, "article_unreadable"),
    ],
)
def test_bad_article_cells(cell, code):
    result = read(xlsx([["意见", cell]]))
    assert codes(result) == [code]
    assert result.errors[0].column == "涉及条款"
    assert result.errors[0].params["value"]


@pytest.mark.parametrize("cell", [0, -1, 3.5, "三个", "abc", 100_001, True, "1.5"])
def test_bad_raised_by_cells(cell):
    result = read(xlsx([["意见", None, None, None, cell]]))
    assert codes(result) == ["raised_by_invalid"]
    assert result.errors[0].params["max"] == 100_000


def test_unknown_identity():
    result = read(xlsx([["意见", None, None, "外星人"]]))
    assert result.errors == [
        CellError(
            2,
            "提出人身份",
            "identity_unknown",
            {
                "value": "外星人",
                "allowed": "居民、企业、社会组织、专家学者、人大代表、机关工作人员、其他",
            },
        )
    ]


def test_body_length_limit_is_inclusive():
    assert only_row(xlsx([["字" * 5000]])).body == "字" * 5000
    assert codes(read(xlsx([["字" * 5001]]))) == ["body_too_long"]


def test_long_values_are_shortened_in_messages():
    result = read(xlsx([["意见", "这不是条款" * 20]]))
    value = result.errors[0].params["value"]
    assert len(value) == 40
    assert value.endswith("…")


def test_the_example_row_left_among_real_rows():
    wb = load_workbook(io.BytesIO(build_template(sorted(ARTICLES))))
    wb["意见"].append(["真实的意见", "第一条"])
    out = io.BytesIO()
    wb.save(out)
    result = read(out.getvalue())
    assert not result.ok
    assert codes(result) == ["example_row_left"]
    assert result.errors[0].row == 2
    assert [r.row for r in result.rows] == [3]


def test_the_example_text_with_other_columns_changed_is_still_the_example():
    body = load_workbook(io.BytesIO(build_template()))["意见"]["A2"].value
    assert codes(read(xlsx([[body, "第一条", "赞成", "企业", 9]]))) == ["example_row_left"]


def test_too_many_errors_are_counted_not_listed(monkeypatch):
    monkeypatch.setattr(spreadsheet, "MAX_REPORTED_ERRORS", 5)
    result = read(xlsx([[None, "第一条"]] * 12))
    assert len(result.errors) == 6
    assert result.errors[-1] == CellError(None, None, "too_many_errors", {"more": 7})


# --- headers -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "header",
    [
        ["内容", "条款"],
        ["opinion", "article"],
        ["涉及条款", "意见类型"],
    ],
)
def test_missing_required_header(header):
    result = read(xlsx([["一条意见", "第一条"]], header))
    assert result.errors == [CellError(None, None, "missing_header", {"header": "意见内容"})]
    assert result.rows == []


def test_data_without_any_header():
    result = read(xlsx([["第二条意见"]], header=["第一条意见"]))
    assert codes(result) == ["missing_header"]


def test_duplicate_header():
    result = read(xlsx([["a", "b"]], ["意见内容", "涉及条款", "意见内容（必填）"]))
    assert result.errors == [CellError(1, "意见内容", "duplicate_header", {"header": "意见内容"})]


def test_csv_with_wrong_headers():
    assert codes(read(csv_bytes([["x"]], header=["name", "text"]))) == ["missing_header"]


# --- empty and huge files ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [
        b"",
        xlsx([], header=None),
        xlsx([]),
        xlsx([[None], [""], ["  "]]),
        csv_bytes([]),
        csv_bytes([], header=None),
        b"\xef\xbb\xbf",
        b"\r\n\r\n",
    ],
    ids=["0 bytes", "xlsx blank", "xlsx header only", "xlsx blank rows", "csv header only",
         "csv empty", "bom only", "newlines"],
)  # fmt: skip
def test_empty(data):
    result = read(data)
    assert result.errors == [CellError(None, None, "empty", {})]
    assert not result.ok


def test_too_many_rows(monkeypatch):
    monkeypatch.setattr(spreadsheet, "MAX_ROWS", 50)
    assert read(xlsx([["意见"]] * 50)).ok
    for data in (xlsx([["意见"]] * 51), csv_bytes([["意见"]] * 51)):
        result = read(data)
        assert result.errors == [CellError(None, None, "too_many_rows", {"max": 50})]
        assert result.rows == []


def test_too_many_rows_stops_reading_early(monkeypatch):
    monkeypatch.setattr(spreadsheet, "MAX_ROWS", 10)
    seen = []
    real = spreadsheet._check_row

    def spy(number, *args):
        seen.append(number)
        return real(number, *args)

    monkeypatch.setattr(spreadsheet, "_check_row", spy)
    result = read(csv_bytes([["意见"]] * 5000))
    assert codes(result) == ["too_many_rows"]
    assert len(seen) == 10


def test_too_large():
    big = b"a" * (spreadsheet.MAX_BYTES + 1)
    assert read(big).errors == [CellError(None, None, "too_large", {"max_mb": 10})]


def _shared_strings_bomb(size: int) -> bytes:
    """A valid sheet plus shared strings of ``size`` bytes that compress ~1000:1."""
    strings = b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    strings += b"<si><t>" + b"\xe3\x80\x80" * (size // 3) + b"</t></si></sst>"
    return with_part(xlsx([["意见"]]), "xl/sharedStrings.xml", strings)


def test_zip_bomb_is_refused_by_uncompressed_size(app, monkeypatch):
    app.config["OFFICE_MAX_UNCOMPRESSED"] = 2 * 1024 * 1024
    bomb = _shared_strings_bomb(3 * 1024 * 1024)
    assert len(bomb) < 50_000

    def no_parse(*args, **kwargs):  # refused before the slow part (its time: bench officebomb)
        raise AssertionError("openpyxl must not see this file")

    monkeypatch.setattr("openpyxl.load_workbook", no_parse)
    with app.test_request_context():
        result = read(bomb)
        assert result.errors == [
            CellError(
                None,
                None,
                "office_limit",
                {"limit": "too_large_uncompressed", "kind": "xlsx", "max_mb": 2},
            )
        ]
        assert error_message(result.errors[0]) == (
            "文件解压后超过 2 MB，可能已损坏或不是正常的表格文件。"
        )


def test_the_default_limits_refuse_a_bomb_outside_the_app():
    result = read(_shared_strings_bomb(60 * 1024 * 1024))
    assert [e.params.get("limit") for e in result.errors] == ["too_large_uncompressed"]


def test_xlsx_with_too_many_rows_or_cells_is_refused_before_openpyxl(app, monkeypatch):
    import openpyxl

    def no_parse(*args, **kwargs):
        raise AssertionError("openpyxl must not see this file")

    monkeypatch.setattr(openpyxl, "load_workbook", no_parse)
    app.config.update(SPREADSHEET_MAX_ROWS=30, SPREADSHEET_MAX_CELLS=100)
    with app.test_request_context():
        rows = read(xlsx([["意见"]] * 40))
        cells = read(xlsx([["意见", *["x"] * 30]] * 5))
    assert [e.params.get("limit") for e in rows.errors] == ["too_many_rows"]
    assert [e.params.get("limit") for e in cells.errors] == ["too_many_cells"]


def test_csv_of_blank_lines_is_bounded(app):
    app.config["SPREADSHEET_MAX_ROWS"] = 1000
    data = "意见内容\n".encode() + b"\n" * 5000 + "建议修改第一条。\n".encode()
    with app.test_request_context():
        result = read(data)
        assert [e.params.get("limit") for e in result.errors] == ["too_many_rows"]
        assert "表格超过 1000 行" in error_message(result.errors[0])


# --- things that are not spreadsheets ----------------------------------------------------------


def _docx() -> bytes:
    from docx import Document

    document = Document()
    document.add_paragraph("意见内容：这是 Word 文件")
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def _zip(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return out.getvalue()


PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
    b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\xff\xff?\x00\x05\xfe\x02\xfe\xa7\x35\x81\x84"
    b"\x00\x00\x00\x00IEND\xaeB`\x82"
)
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(PNG, id="png"),
        pytest.param(PDF, id="pdf"),
        pytest.param(_docx(), id="docx renamed xlsx"),
        pytest.param(_zip({"readme.txt": b"hello"}), id="other zip"),
        pytest.param(bytes(range(256)) * 8, id="random bytes"),
        pytest.param(b"\xff\xfe\x00\x01\x80\x81" * 100, id="undecodable"),
        pytest.param(b"GIF89a" + b"\x00" * 20, id="gif"),
        pytest.param("<html><table><tr><td>意见内容</td></tr></table></html>".encode(), id="html"),
        pytest.param(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 512, id="ole, not excel"),
    ],
)
def test_not_a_spreadsheet(data):
    result = read(data)
    assert result.errors == [CellError(None, None, "not_spreadsheet", {})]


def test_old_xls():
    data = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 512 + "Workbook".encode("utf-16-le")
    assert codes(read(data)) == ["old_xls"]


def test_password_protected_xlsx():
    data = (
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 512 + "EncryptedPackage".encode("utf-16-le")
    )
    assert codes(read(data)) == ["encrypted"]


def test_truncated_xlsx_is_unreadable():
    data = xlsx([["意见"]] * 100)
    assert codes(read(data[: len(data) // 2])) == ["file_unreadable"]


def test_broken_xlsx_inside_a_valid_zip_is_unreadable():
    data = _zip({"[Content_Types].xml": b"<Types/>", "xl/workbook.xml": b"not xml"})
    assert codes(read(data)) == ["file_unreadable"]


def test_type_is_judged_by_content_not_name():
    data = csv_bytes([["意见"]])
    assert read_upload("意见.xlsx", data, article_numbers=ARTICLES).ok
    assert read_upload("意见.csv", xlsx([["意见"]]), article_numbers=ARTICLES).ok


# --- messages ----------------------------------------------------------------------------------

SAMPLE_PARAMS = {
    "value": "第九九九条",
    "max": 5000,
    "length": 6000,
    "allowed": "赞成、反对",
    "header": "意见内容",
    "max_mb": 10,
    "more": 12,
}


@pytest.mark.parametrize("code", ERROR_CODES)
def test_every_code_has_its_own_chinese_sentence(app, code):
    fallback = error_message(CellError(None, None, "no-such-code", {}))
    message = error_message(CellError(7, "意见内容", code, SAMPLE_PARAMS))
    assert message and message != fallback
    assert HAN.search(message)
    assert message.endswith("。")
    assert "%(" not in message
    if code in {"body_required", "body_too_long", "article_unknown", "example_row_left"}:
        assert "第 7 行" in message


def test_messages_differ_per_code(app):
    messages = {error_message(CellError(3, "涉及条款", c, SAMPLE_PARAMS)) for c in ERROR_CODES}
    assert len(messages) == len(ERROR_CODES)


def test_messages_of_a_real_result(app):
    result = read(xlsx([["意见", "第九九九条", "支持一下"]]))
    messages = [error_message(e) for e in result.errors]
    assert messages[0] == (
        "第 2 行“涉及条款”：本草案中没有“第九九九条”，请核对条文序号；"
        "针对草案整体的意见请填写“总体”或留空。"
    )
    assert "赞成、反对、修改、增加、删除、其他" in messages[1]


def test_error_codes_are_the_ones_produced():
    assert len(set(ERROR_CODES)) == len(ERROR_CODES)
    assert {"empty", "not_spreadsheet", "example_row_left", "too_many_rows"} <= set(ERROR_CODES)


# --- through the liaison import page ----------------------------------------------------------


def test_import_page_refuses_a_bomb_and_saves_nothing(app, two_points, open_draft, monkeypatch):
    from pathlib import Path

    import openpyxl

    from tests.liaison.test_views import client_for, make_batch, opinions_in, upload

    batch = make_batch(two_points, open_draft)
    before = opinions_in(batch)
    client = client_for(app, two_points["east_staff"])
    app.config["OFFICE_MAX_UNCOMPRESSED"] = 2 * 1024 * 1024

    def no_parse(*args, **kwargs):  # refused before the slow part, whatever the machine's load
        raise AssertionError("openpyxl must not see this file")

    monkeypatch.setattr(openpyxl, "load_workbook", no_parse)
    response = upload(client, batch, _shared_strings_bomb(3 * 1024 * 1024))
    assert response.status_code == 422
    assert "文件解压后超过 2 MB，可能已损坏或不是正常的表格文件。" in response.get_data(
        as_text=True
    )
    assert opinions_in(batch) == before
    files = [p.name for p in Path(app.config["UPLOAD_DIR"]).rglob("*") if p.is_file()]
    assert len(files) == len(batch.attachments)  # only what make_batch attached, if anything


def test_import_page_refuses_a_csv_with_too_many_rows(app, two_points, open_draft):
    from tests.liaison.test_views import client_for, make_batch, opinions_in, upload

    batch = make_batch(two_points, open_draft)
    before = opinions_in(batch)
    client = client_for(app, two_points["east_staff"])
    app.config["SPREADSHEET_MAX_ROWS"] = 100
    data = "意见内容\n".encode() + "建议修改第一条。\n".encode() * 200
    response = upload(client, batch, data, name="意见.csv")
    assert response.status_code == 422
    assert "表格超过 100 行" in response.get_data(as_text=True)
    assert opinions_in(batch) == before


def test_import_page_accepts_a_large_sheet_from_the_template(app, two_points, open_draft, tmp_path):
    from bench.officebomb import build_large_sheet
    from tests.liaison.test_views import client_for, make_batch, opinions_in, upload

    batch = make_batch(two_points, open_draft)
    before = opinions_in(batch)
    client = client_for(app, two_points["east_staff"])
    path = tmp_path / "opinions.xlsx"
    build_large_sheet(path, rows=1500, articles=sorted(a.number for a in open_draft.articles))
    response = upload(client, batch, path.read_bytes())
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    assert opinions_in(batch) == before + 1500
