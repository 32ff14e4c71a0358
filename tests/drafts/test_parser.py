"""Tests for parsing pasted or uploaded Chinese draft regulations."""

import io
import zipfile

import pytest

from portal.drafts.parser import (
    DraftParseError,
    ParsedDraft,
    ParseWarning,
    docx_to_text,
    parse_draft_text,
)
from portal.numerals import int_to_chinese

SAMPLE = """江州市物业管理条例（草案）

第一章　总则

第一条　为了规范物业管理活动，制定本条例。

第二条　本条例适用于本市行政区域内的物业管理活动。
法律、行政法规另有规定的，从其规定。

第二章　业主、业主大会和业主委员会

第一节　一般规定

第三条　业主享有下列权利：
（一）按照物业服务合同的约定，接受物业服务人提供的服务；
（二）提议召开业主大会会议；
（三）法律、法规规定的其他权利。

第二节　业主大会

第四条　依照本条例第三条第一项规定召开会议的，应当提前十五日通知全体业主。

第三章　附则

第五条　本条例自　年　月　日起施行。
"""


def _codes(draft: ParsedDraft) -> list[str]:
    return [warning.code for warning in draft.warnings]


def _article_text(count: int, numbering=int_to_chinese) -> str:
    return "\n".join(f"第{numbering(n)}条　第{n}条的内容。" for n in range(1, count + 1))


def test_sample_structure() -> None:
    draft = parse_draft_text(SAMPLE)

    assert draft.title == "江州市物业管理条例（草案）"
    assert draft.preamble == []
    assert draft.unplaced == []
    assert draft.warnings == []
    assert [(c.number, c.label, c.heading) for c in draft.chapters] == [
        (1, "第一章", "总则"),
        (2, "第二章", "业主、业主大会和业主委员会"),
        (3, "第三章", "附则"),
    ]
    assert draft.chapters[1].sections == ["第一节 一般规定", "第二节 业主大会"]
    assert [(a.number, a.label, a.chapter_index, a.section) for a in draft.articles] == [
        (1, "第一条", 0, None),
        (2, "第二条", 0, None),
        (3, "第三条", 1, "第一节 一般规定"),
        (4, "第四条", 1, "第二节 业主大会"),
        (5, "第五条", 2, None),
    ]


def test_multi_paragraph_article_with_items() -> None:
    draft = parse_draft_text(SAMPLE)

    assert draft.articles[1].paragraphs == [
        "本条例适用于本市行政区域内的物业管理活动。",
        "法律、行政法规另有规定的，从其规定。",
    ]
    assert draft.articles[2].paragraphs == [
        "业主享有下列权利：",
        "（一）按照物业服务合同的约定，接受物业服务人提供的服务；",
        "（二）提议召开业主大会会议；",
        "（三）法律、法规规定的其他权利。",
    ]
    # Inner full-width spaces (blank date placeholders) are content, only the edges are stripped.
    assert draft.articles[4].paragraphs == ["本条例自　年　月　日起施行。"]


def test_articles_into_the_hundreds() -> None:
    draft = parse_draft_text("测试条例\n" + _article_text(105))

    assert [a.number for a in draft.articles] == list(range(1, 106))
    assert draft.articles[102].label == "第一百零三条"
    assert draft.articles[9].label == "第十条"
    assert draft.articles[99].label == "第一百条"
    assert draft.articles[-1].label == "第一百零五条"
    assert draft.warnings == []


def test_arabic_and_fullwidth_article_numbers_get_chinese_labels() -> None:
    draft = parse_draft_text("第1章 总则\n第1条 甲。\n第２条 乙。\n第 3 条 丙。")

    assert [(a.number, a.label) for a in draft.articles] == [
        (1, "第一条"),
        (2, "第二条"),
        (3, "第三条"),
    ]
    assert draft.chapters[0].label == "第一章"
    assert [a.paragraphs for a in draft.articles] == [["甲。"], ["乙。"], ["丙。"]]


def test_articles_before_first_chapter() -> None:
    draft = parse_draft_text("第一条 目的。\n第二条 范围。\n第一章 分则\n第三条 内容。")

    assert [a.chapter_index for a in draft.articles] == [None, None, 0]
    assert draft.warnings == []


def test_stray_blank_lines_and_crlf_do_not_matter() -> None:
    messy = "\ufeff" + SAMPLE.replace("\n", "\r\n\r\n \u3000\r\n").replace("第五条", "\r第五条")
    clean = parse_draft_text(SAMPLE)
    draft = parse_draft_text(messy)

    assert draft.title == clean.title
    assert [(c.number, c.label, c.heading, c.sections) for c in draft.chapters] == [
        (c.number, c.label, c.heading, c.sections) for c in clean.chapters
    ]
    assert [(a.number, a.paragraphs, a.section) for a in draft.articles] == [
        (a.number, a.paragraphs, a.section) for a in clean.articles
    ]
    assert draft.warnings == []


def test_line_numbers_are_one_based_physical_lines() -> None:
    draft = parse_draft_text("标题\r\n\r\n第一条 甲。\r\n第三条 乙。")

    assert draft.articles[1].line == 4
    assert draft.warnings == [
        ParseWarning("number_gap", 4, {"kind": "article", "expected": 2, "found": 3})
    ]


def test_mid_line_reference_is_not_a_marker() -> None:
    draft = parse_draft_text(
        "第一条 本条例所称业主，是指房屋所有权人。\n依照本条例第一条规定认定。\n第二条 其他。"
    )

    assert [a.number for a in draft.articles] == [1, 2]
    assert draft.articles[0].paragraphs[1] == "依照本条例第一条规定认定。"


@pytest.mark.parametrize(
    "wrapped_line",
    ["第一条规定的业主，应当遵守。", "第一条第二款所列情形除外。", "第一章的规定同样适用。"],
)
def test_hard_wrapped_line_starting_with_reference_is_text(wrapped_line: str) -> None:
    draft = parse_draft_text(f"第一条 本条例所称业主。\n第二条 违反本条例\n{wrapped_line}")

    assert [a.number for a in draft.articles] == [1, 2]
    assert draft.chapters == []
    assert draft.articles[1].paragraphs == ["违反本条例", wrapped_line]


def test_marker_without_space_and_bracketed_article_heading() -> None:
    draft = parse_draft_text(
        "第一章总则\n第一条（目的）为了规范管理，制定本条例。\n第二条本条例适用于本市。"
    )

    assert draft.chapters[0].heading == "总则"
    assert draft.articles[0].paragraphs == ["（目的）为了规范管理，制定本条例。"]
    assert draft.articles[1].paragraphs == ["本条例适用于本市。"]


def test_article_body_on_next_line() -> None:
    draft = parse_draft_text("第一条\n为了规范管理，制定本条例。\n第二款内容。")

    assert draft.articles[0].paragraphs == ["为了规范管理，制定本条例。", "第二款内容。"]


def test_chapter_heading_on_next_line() -> None:
    draft = parse_draft_text("第一章\n总则\n第一节\n一般规定\n第一条 内容。")

    assert draft.chapters[0].heading == "总则"
    assert draft.chapters[0].sections == ["第一节 一般规定"]
    assert draft.articles[0].section == "第一节 一般规定"
    assert draft.unplaced == []


def test_number_gap_and_duplicate_warnings() -> None:
    draft = parse_draft_text("第一条 甲。\n第三条 乙。\n第三条 丙。\n第四条 丁。")

    assert [a.number for a in draft.articles] == [1, 3, 3, 4]
    assert draft.warnings == [
        ParseWarning("number_gap", 2, {"kind": "article", "expected": 2, "found": 3}),
        ParseWarning("duplicate_number", 3, {"kind": "article", "number": 3, "first_line": 2}),
    ]


def test_first_article_not_one_is_a_gap() -> None:
    draft = parse_draft_text("第二条 甲。")

    assert _codes(draft) == ["number_gap"]


def test_chapter_and_section_numbering_warnings() -> None:
    text = "第一章 总则\n第二节 乙\n第一条 甲。\n第三章 附则\n第一节 甲\n第二条 乙。"
    draft = parse_draft_text(text)

    assert [(w.code, w.line, w.data["kind"]) for w in draft.warnings] == [
        ("number_gap", 2, "section"),
        ("number_gap", 4, "chapter"),
    ]


def test_section_outside_chapter_is_kept_with_warning() -> None:
    draft = parse_draft_text("第一节 一般规定\n第一条 甲。")

    assert draft.chapters == []
    assert draft.articles[0].section == "第一节 一般规定"
    assert draft.articles[0].chapter_index is None
    assert _codes(draft) == ["section_outside_chapter"]


def test_title_preamble_and_unplaced_lines() -> None:
    text = "某某条例（草案）\n（征求意见稿）\n\n第一章 总则\n本章说明。\n第一条 甲。"
    draft = parse_draft_text(text)

    assert draft.title == "某某条例（草案）"
    assert draft.preamble == ["（征求意见稿）"]
    assert draft.unplaced == [(2, "（征求意见稿）"), (5, "本章说明。")]
    assert _codes(draft) == ["unplaced_line", "unplaced_line"]


@pytest.mark.parametrize(
    "text",
    [
        "第一章 总则\n第一条 甲。",
        "第一条 甲。",
        "为了征求意见，现将草案全文公布如下。\n第一条 甲。",
    ],
)
def test_no_title(text: str) -> None:
    assert parse_draft_text(text).title is None


def test_table_of_contents_is_skipped() -> None:
    text = (
        "某某条例\n目录\n第一章 总则\n第二章 管理\n第一节 一般规定\n第三章 附则\n"
        "第一章 总则\n第一条 甲。\n第二章 管理\n第一节 一般规定\n第二条 乙。\n"
        "第三章 附则\n第三条 丙。"
    )
    draft = parse_draft_text(text)

    assert draft.title == "某某条例"
    assert draft.preamble[0] == "目录"
    assert [c.heading for c in draft.chapters] == ["总则", "管理", "附则"]
    assert draft.chapters[1].sections == ["第一节 一般规定"]
    assert [a.chapter_index for a in draft.articles] == [0, 1, 2]
    assert draft.warnings == []
    assert draft.unplaced == []


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("", "empty"),
        (" \n\u3000\r\n\t", "empty"),
        ("\ufeff", "empty"),
        ("某某条例\n第一章 总则\n本条例所称第一条规定。", "no_articles"),
        ("x" * 300_001, "too_long"),
        ("第一条 甲。\n" * 20_001, "too_many_lines"),
    ],
)
def test_parse_errors(text: str, code: str) -> None:
    with pytest.raises(DraftParseError) as excinfo:
        parse_draft_text(text)
    assert excinfo.value.code == code
    assert isinstance(excinfo.value, ValueError)


def test_max_chars_is_configurable() -> None:
    with pytest.raises(DraftParseError) as excinfo:
        parse_draft_text("第一条 甲。", max_chars=3)
    assert excinfo.value.code == "too_long"


def test_largest_allowed_text_parses_completely() -> None:
    # The time this takes is measured in bench/parser.py, not asserted here.
    body = "本条规定的内容较长，用于测试解析性能。" * 3
    lines = []
    for n in range(1, 3001):
        if n % 100 == 1:
            lines.append(f"第{int_to_chinese(n // 100 + 1)}章　第{n // 100 + 1}章")
        lines.append(f"第{int_to_chinese(n)}条　{body}")
        lines.append(f"依照第{int_to_chinese(n)}条第二款规定，{body}")
    text = "\n".join(lines)[:300_000]
    assert len(text) == 300_000

    draft = parse_draft_text(text)

    assert draft.articles[-1].number == len(draft.articles)
    assert len(draft.chapters) == draft.articles[-1].number // 100 + 1


def _docx_bytes() -> bytes:
    docx = pytest.importorskip("docx")
    document = docx.Document()
    document.add_paragraph("某某条例（草案）")
    document.add_paragraph("第一章　总则")
    document.add_paragraph("第一条　为了规范管理，制定本条例。")
    table = document.add_table(rows=2, cols=2)
    table.cell(0, 0).text = "单元格甲"
    table.cell(0, 1).text = "单元格乙"
    merged = table.cell(1, 0).merge(table.cell(1, 1))
    merged.text = "合并单元格"
    document.add_paragraph("第二条　本条例自公布之日起施行。")
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def test_docx_to_text_keeps_order_and_tables() -> None:
    text = docx_to_text(io.BytesIO(_docx_bytes()))

    assert text.split("\n") == [
        "某某条例（草案）",
        "第一章　总则",
        "第一条　为了规范管理，制定本条例。",
        "单元格甲",
        "单元格乙",
        "合并单元格",
        "第二条　本条例自公布之日起施行。",
    ]
    draft = parse_draft_text(text)
    assert [a.number for a in draft.articles] == [1, 2]
    assert draft.articles[0].paragraphs[1:] == ["单元格甲", "单元格乙", "合并单元格"]


def _zip_without_document() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("hello.txt", "not a word document")
    return buffer.getvalue()


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"garbage bytes, definitely not a docx",
        b"PK\x03\x04" + b"\x00" * 100,
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 512,  # legacy .doc (OLE) header
        _zip_without_document(),
    ],
)
def test_docx_to_text_rejects_non_docx(data: bytes) -> None:
    pytest.importorskip("docx")
    with pytest.raises(DraftParseError) as excinfo:
        docx_to_text(io.BytesIO(data))
    assert excinfo.value.code == "not_docx"


def test_docx_to_text_rejects_big_files() -> None:
    data = _docx_bytes()
    with pytest.raises(DraftParseError) as excinfo:
        docx_to_text(io.BytesIO(data), max_bytes=len(data) - 1)
    assert excinfo.value.code == "too_long"
    assert docx_to_text(io.BytesIO(data), max_bytes=len(data)).startswith("某某条例")
