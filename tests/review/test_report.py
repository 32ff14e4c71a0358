"""The adoption report: totals, per-article sections, responses, and no personal data."""

import io

import flask_babel
import pytest
from docx import Document

from portal.review.report import build_adoption_report, excerpt, report_filename
from tests.drafts.test_views import make_draft
from tests.review.test_exports import (
    CONTACT,
    HIDDEN_RESPONSE,
    LIAISON_RESPONSE,
    NAME,
    RESPONSE,
    populate,
)


def document_texts(data: bytes) -> tuple[list[str], list[list[list[str]]], list[str]]:
    """Paragraph texts, tables as rows of cell texts, and level-2 heading texts."""
    document = Document(io.BytesIO(data))
    paragraphs = [p.text for p in document.paragraphs]
    tables = [[[cell.text for cell in row.cells] for row in t.rows] for t in document.tables]
    headings = [p.text for p in document.paragraphs if p.style.name == "Heading 2"]
    return paragraphs, tables, headings


def everything(data: bytes) -> str:
    paragraphs, tables, _ = document_texts(data)
    cells = [cell for table in tables for row in table for cell in row]
    document = Document(io.BytesIO(data))
    properties = document.core_properties
    meta = [properties.title, properties.author, properties.comments, properties.keywords]
    return "\n".join([*paragraphs, *cells, *(m or "" for m in meta)])


@pytest.fixture
def sample(app, make_user, make_point):
    return populate(make_user, make_point)


def test_report_title_totals_and_points(sample):
    paragraphs, tables, _ = document_texts(build_adoption_report(sample.draft))
    assert paragraphs[0] == "《测试条例（草案）》意见采纳情况说明"
    assert paragraphs[1].startswith("征求意见时间：")
    assert paragraphs[2].startswith("生成日期：")
    overview, channels, decisions, points = tables[:4]
    # 5 visible opinions (the unsubmitted batch is not counted); 3 online participants
    # plus 12 + 3 people at the liaison point.
    # The team's copy counts every decision, published or not (docs/figures.md).
    assert overview == [
        ["意见总数", "5"],
        ["参与人数", "18"],
        ["已处理", "3"],
        ["尚未处理", "2"],
        ["采纳率", "66.7%（2 条尚未处理）"],
    ]
    assert channels[1:] == [
        ["网上征求意见", "3"],
        ["基层立法联系点", "2"],
        ["系统对接", "0"],
        ["合计", "5"],
    ]
    assert [row[:2] for row in decisions[1:]] == [
        ["采纳", "1"],
        ["部分采纳", "1"],
        ["未采纳", "1"],
        ["已合并", "0"],
        ["尚未处理", "2"],
        ["合计", "5"],
    ]
    assert points[0] == ["联系点", "意见数", "提出人数", "采纳", "部分采纳", "采纳率"]
    assert points[1] == ["东城区基层立法联系点", "2", "15", "1", "0", "100.0%（1 条尚未处理）"]
    assert points[2] == ["合计", "2", "15", "1", "0", "100.0%（1 条尚未处理）"]


def test_report_sections_per_article(sample):
    data = build_adoption_report(sample.draft)
    paragraphs, _, headings = document_texts(data)
    assert headings == ["对草案全文和各章的意见", "第二条", "第三条"]
    text = "\n".join(paragraphs)
    section = text[text.index("\n第二条\n") : text.index("\n第三条\n")]
    assert "本条例适用于测试。" in section  # the article's own text, for orientation
    assert "意见数：2；提出人数：13" in section
    assert "意见类型：修改 2" in section
    assert "处理结果：采纳 1、部分采纳 1" in section
    assert "座谈会上居民提出，第二条的适用场所应当更具体。（12 人提出）" in section
    assert RESPONSE in section and LIAISON_RESPONSE in section
    assert "采纳：" + LIAISON_RESPONSE in section
    assert "（涉及 1 条意见）" in section
    assert "未收到意见的条款：第一条" in text
    general = text[text.index("对草案全文和各章的意见") : text.index("\n第二条\n")]
    assert "意见数：2；" in general and "尚未公开答复。" in general
    assert "第一章：第一章的总则部分过于原则。" in general


def test_report_holds_no_personal_data_or_unpublished_answers(sample):
    text = everything(build_adoption_report(sample.draft))
    assert NAME not in text
    assert CONTACT not in text
    assert "13912345678" not in text and "139****5678" in text  # typed into an opinion
    assert HIDDEN_RESPONSE not in text
    assert "尚未报送的联系点意见" not in text


def test_report_for_a_draft_without_opinions(app):
    draft = make_draft(slug="empty")
    paragraphs, tables, headings = document_texts(build_adoption_report(draft))
    assert tables[0][0] == ["意见总数", "0"]
    assert tables[0][4] == ["采纳率", "—（0 条尚未处理）"]
    assert "还没有收到意见。" in paragraphs
    assert "还没有已报送的意见。" in paragraphs
    assert headings == []
    assert report_filename(draft) == "empty-adoption-report.docx"


def test_report_follows_the_locale(app, sample):
    with app.test_request_context("/?lang=en"):
        flask_babel.refresh()
        paragraphs, tables, headings = document_texts(build_adoption_report(sample.draft))
    assert "Test Regulations (Draft)" in paragraphs[0]
    assert "Article 2" in headings and "Article 3" in headings
    assert tables[0][4][0] == "Adoption rate"
    assert tables[3][1][0] == "Dongcheng Liaison Point"


def test_excerpt_is_one_masked_line():
    assert excerpt("第一行\n第二行  第三行") == "第一行 第二行 第三行"
    assert excerpt("写信到 zhang.san@example.org 或 13800138000") == (
        "写信到 z***@example.org 或 138****8000"
    )
    assert excerpt("请发邮件到zhang@example.org") == "请发邮件到z***@example.org"
    long = excerpt("很" * 200)
    assert len(long) == 120 and long.endswith("…")
