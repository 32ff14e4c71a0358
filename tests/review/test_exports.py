"""Exporting opinions: columns, labels, contact details only on request, formula injection."""

import csv
import io
from dataclasses import dataclass
from datetime import UTC, date, datetime

import flask_babel
import pytest
from openpyxl import load_workbook

from portal.comments.services import ClientInfo, CommentInput, record_decision, submit_comment
from portal.extensions import db
from portal.liaison import services as liaison
from portal.models import (
    Category,
    Comment,
    CommentStatus,
    Decision,
    Draft,
    Identity,
    LiaisonPoint,
    Role,
    Stance,
    User,
)
from portal.review.exports import (
    CONTACT_COLUMNS,
    EXPORT_COLUMNS,
    export_csv,
    export_xlsx,
    headers,
    iter_for_export,
    load_for_export,
    neutralize,
    rows_for,
)
from tests.drafts.test_views import make_draft

NAME = "王小明"
CONTACT = "13800138000"
RESPONSE = "感谢您的意见。修改稿已在第二条中增加了对居住小区的规定。"
LIAISON_RESPONSE = "座谈会意见已采纳，第二条改为列举适用的具体场所。"
HIDDEN_RESPONSE = "内部讨论稿：暂不对外答复。"
META = {"method": "forum", "held_on": date(2026, 11, 20), "participants": 15}
INJECTIONS = ['=HYPERLINK("http://x")', "+1", "-2+3", "@SUM(A1)", "\t=1"]


@dataclass
class Sample:
    draft: Draft
    drafter: User
    point: LiaisonPoint
    named: Comment  # online, article 2, with name and contact, partly adopted, published
    general: Comment  # online, whole draft, a phone number in the text, internal decision
    chapter: Comment  # online, chapter 1, undecided
    liaison: list[Comment]  # submitted: article 2 (12 people, adopted) and article 3 (3 people)

    @property
    def ids(self) -> list[int]:
        return [c.id for c in (self.named, self.general, self.chapter, *self.liaison)]


def _online(draft, n: int, body: str, **fields) -> Comment:
    data = CommentInput(body=body, **fields)
    return submit_comment(draft, data, client=ClientInfo(f"198.51.100.{n}", "test")).comment


def populate(make_user, make_point) -> Sample:
    """A draft with online and liaison opinions, decisions and one unsubmitted batch."""
    draft = make_draft()
    drafter = make_user(Role.drafter)
    point = make_point(name="东城区基层立法联系点", name_en="Dongcheng Liaison Point")
    staff = make_user(Role.liaison, point=point)

    named = _online(
        draft,
        1,
        "建议第二条把居住小区也写进适用范围。",
        stance=Stance.amend,
        target="article-2",
        name=NAME,
        contact=CONTACT,
        consent=True,
        identity=Identity.resident,
        district="西城区",
    )
    general = _online(draft, 2, "总体赞成。有问题请打13912345678找我。", stance=Stance.support)
    chapter = _online(
        draft, 3, "第一章的总则部分过于原则。", stance=Stance.other, target="chapter-1"
    )
    record_decision(
        named,
        actor=drafter,
        status=CommentStatus.decided,
        decision=Decision.partly_adopted,
        response=RESPONSE,
        publish=True,
    )
    record_decision(
        general,
        actor=drafter,
        status=CommentStatus.decided,
        decision=Decision.not_adopted,
        response=HIDDEN_RESPONSE,
        publish=False,
    )

    batch = liaison.create_submission(point, draft, META, staff)
    opinions = liaison.add_opinions(
        batch,
        [
            liaison.OpinionData(
                body="座谈会上居民提出，第二条的适用场所应当更具体。",
                article=2,
                article_fixed=True,
                stance=Stance.amend,
                identity=Identity.resident,
                raised_by=12,
            ),
            liaison.OpinionData(
                body="第三条的施行日期建议推迟半年。",
                article=3,
                article_fixed=True,
                stance=Stance.amend,
                raised_by=3,
            ),
        ],
        staff,
    )
    liaison.submit(batch, staff)
    record_decision(
        opinions[0],
        actor=drafter,
        status=CommentStatus.decided,
        decision=Decision.adopted,
        response=LIAISON_RESPONSE,
        publish=True,
    )
    pending = liaison.create_submission(point, draft, META, staff)
    liaison.add_opinions(pending, [liaison.OpinionData(body="尚未报送的联系点意见。")], staff)
    db.session.commit()
    return Sample(draft, drafter, point, named, general, chapter, opinions)


@pytest.fixture
def sample(app, make_user, make_point) -> Sample:
    return populate(make_user, make_point)


def read_xlsx(data: bytes) -> list[list]:
    sheet = load_workbook(io.BytesIO(data)).worksheets[0]
    return [["" if v is None else v for v in row] for row in sheet.iter_rows(values_only=True)]


def read_csv(data: bytes) -> list[list[str]]:
    assert data.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def by_id(rows: list[list]) -> dict[int, dict]:
    keys = [c.key for c in EXPORT_COLUMNS + CONTACT_COLUMNS]
    return {int(row[0]): dict(zip(keys, row, strict=False)) for row in rows[1:]}


def test_header_row_in_chinese_without_contact_columns(sample):
    rows = read_xlsx(export_xlsx(load_for_export(sample.ids), include_contact=False))
    assert rows[0] == headers(include_contact=False)
    assert rows[0][:4] == ["意见编号", "草案", "条款", "章"]
    assert "姓名" not in rows[0] and "联系方式" not in rows[0]
    assert len(rows) == 1 + len(sample.ids)
    assert all(len(row) == len(EXPORT_COLUMNS) for row in rows)
    assert NAME not in str(rows) and CONTACT not in str(rows)


def test_contact_columns_only_when_asked(sample):
    comments = load_for_export(sample.ids)
    for data, read in (
        (export_xlsx(comments, include_contact=True), read_xlsx),
        (export_csv(comments, include_contact=True), read_csv),
    ):
        rows = read(data)
        assert rows[0][-2:] == ["姓名", "联系方式"]
        assert by_id(rows)[sample.named.id]["name"] == NAME
        assert by_id(rows)[sample.named.id]["contact"] == CONTACT
    plain = read_csv(export_csv(comments, include_contact=False))
    assert "姓名" not in plain[0]
    assert NAME not in str(plain) and CONTACT not in str(plain)


def test_values_and_chinese_labels(sample):
    category = Category(draft_id=sample.draft.id, name="适用范围")
    other = Category(draft_id=sample.draft.id, name="居住小区", position=2)
    sample.named.categories.extend([other, category])
    db.session.commit()
    row = by_id(read_xlsx(export_xlsx(load_for_export(sample.ids), include_contact=False)))
    named = row[sample.named.id]
    assert named["draft"] == "测试条例（草案）"
    assert named["article"] == "第二条"
    assert named["chapter"] == "第一章 总则"
    assert named["categories"] == "适用范围、居住小区"
    assert named["stance"] == "修改"
    assert named["identity"] == "居民"
    assert named["channel"] == "网上征求意见"
    assert named["district"] == "西城区"
    assert named["raised_by"] == 1
    assert named["decision"] == "部分采纳"
    assert named["response"] == RESPONSE
    assert named["response_published"] == "是"
    assert named["tracking_code"] == sample.named.tracking_code
    general = row[sample.general.id]
    assert general["article"] == "全文" and general["chapter"] == ""
    assert general["decision"] == "未采纳" and general["response_published"] == "否"
    chapter = row[sample.chapter.id]
    assert chapter["article"] == "" and chapter["chapter"] == "第一章 总则"
    assert chapter["decision"] == ""


def test_liaison_opinion_shows_its_point(sample):
    row = by_id(read_csv(export_csv(load_for_export(sample.ids), include_contact=False)))
    opinion = row[sample.liaison[0].id]
    assert opinion["liaison_point"] == "东城区基层立法联系点"
    assert opinion["channel"] == "基层立法联系点"
    assert opinion["raised_by"] == "12"
    assert opinion["decision"] == "采纳"
    assert row[sample.named.id]["liaison_point"] == ""


def test_created_at_in_beijing_time(sample):
    sample.named.created_at = datetime(2026, 1, 1, 16, 30, tzinfo=UTC)
    db.session.commit()
    row = by_id(read_csv(export_csv(load_for_export([sample.named.id]), include_contact=False)))
    assert row[sample.named.id]["created_at"] == "2026-01-02 00:30"


def test_numbers_stay_numbers_in_xlsx(sample):
    rows = read_xlsx(export_xlsx(load_for_export(sample.ids), include_contact=False))
    assert all(isinstance(row[0], int) for row in rows[1:])
    assert {row[10] for row in rows[1:]} == {1, 12, 3}


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=1+1", "'=1+1"),
        ("+1", "'+1"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("建议=修改", "建议=修改"),
        ("", ""),
        (12, 12),
        (-3, -3),
    ],
)
def test_neutralize(value, expected):
    assert neutralize(value) == expected


def test_formula_injection_is_defused_in_both_formats(sample):
    made = [_online(sample.draft, 10 + n, body) for n, body in enumerate(INJECTIONS)]
    made[0].quote = "=cmd|' /C calc'!A0"
    made[1].district = "-区"
    db.session.commit()
    # A text that clean_text would have stripped, straight from another source.
    raw = Comment(body="\t=1", response="@reply", quote="\x01=2", draft=sample.draft)
    comments = [*load_for_export([c.id for c in made]), raw]

    sheet = load_workbook(io.BytesIO(export_xlsx(comments, include_contact=True))).worksheets[0]
    cells = [cell for row in sheet.iter_rows(min_row=2) for cell in row]
    assert all(cell.data_type != "f" for cell in cells)
    texts = [cell.value for cell in cells if isinstance(cell.value, str)]
    csv_texts = [v for row in read_csv(export_csv(comments, include_contact=True))[1:] for v in row]
    for values in (texts, csv_texts):
        assert not [v for v in values if v.startswith(("=", "+", "-", "@", "\t", "\r"))]
        assert '\'=HYPERLINK("http://x")' in values
        assert "'+1" in values and "'-2+3" in values and "'@SUM(A1)" in values
        assert "'=1" in values  # the tab was stripped on the way in
        assert "'\t=1" in values and "'@reply" in values  # the raw one
        assert "'=2" in values  # a control character cannot hide a formula
        assert "'=cmd|' /C calc'!A0" in values and "'-区" in values


def test_csv_has_bom_and_crlf(sample):
    data = export_csv(load_for_export(sample.ids), include_contact=False)
    assert data.startswith("\ufeff意见编号,".encode())
    assert data.count(b"\r\n") >= len(sample.ids) + 1
    assert b"\n" not in data.replace(b"\r\n", b"")


def test_english_headers_and_labels(app, sample):
    with app.test_request_context("/?lang=en"):
        flask_babel.refresh()
        comments = load_for_export(sample.ids)
        rows = read_csv(export_csv(comments, include_contact=True))
        sheet = read_xlsx(export_xlsx(comments, include_contact=False))
    assert rows[0][1:4] == ["Draft", "Article", "Chapter"]
    assert rows[0][-2:] == ["Name", "Contact"]
    assert sheet[0][1:4] == ["Draft", "Article", "Chapter"]
    row = by_id(rows)
    assert row[sample.named.id]["draft"] == "Test Regulations (Draft)"
    assert row[sample.named.id]["article"] == "Article 2"
    assert row[sample.named.id]["stance"] == "Amend"
    assert row[sample.named.id]["decision"] == "Partly adopted"
    assert row[sample.liaison[0].id]["liaison_point"] == "Dongcheng Liaison Point"
    assert row[sample.general.id]["article"] == "Whole draft"


def test_load_for_export_keeps_order_and_skips_missing(sample):
    wanted = [sample.liaison[1].id, 999_999, sample.named.id, sample.general.id]
    assert [c.id for c in iter_for_export(wanted, chunk=2)] == [
        sample.liaison[1].id,
        sample.named.id,
        sample.general.id,
    ]


def test_rows_for_yields_lists(sample):
    rows = list(rows_for(load_for_export(sample.ids), include_contact=False))
    assert [row[0] for row in rows] == sample.ids
    assert all(len(row) == len(EXPORT_COLUMNS) for row in rows)
