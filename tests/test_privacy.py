"""Masking personal data in free text: every format, legal numbers left alone, every public
output (published opinions, results page, adoption report, API) masked."""

from __future__ import annotations

import io
import re
import unicodedata
from datetime import date, timedelta

import pytest
from docx import Document
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from portal.comments import services as comments
from portal.drafts import results
from portal.extensions import db
from portal.models import Decision, Role, Stance, utcnow
from portal.privacy import mask_contacts
from tests.drafts.test_views import make_draft

# --- one example per format -------------------------------------------------------------------

MASKED = [
    # mobile numbers
    ("电话13812345678联系", "电话138****5678联系"),
    ("138-1234-5678", "138-****-5678"),
    ("138 1234 5678", "138 **** 5678"),
    ("138.1234.5678", "138.****.5678"),
    ("1381 2345 678", "138* ***5 678"),
    ("138 12345678", "138 ****5678"),
    ("+86 139 1234 5678", "+86 139 **** 5678"),
    ("+8613912345678", "+86139****5678"),
    ("008613912345678", "0086139****5678"),
    ("0086-139-1234-5678", "0086-139-****-5678"),
    ("(86)13912345678", "(86)139****5678"),
    ("（＋86）139 1234 5678", "（＋86）139 **** 5678"),
    ("１３８１２３４５６７８", "１３８****５６７８"),
    ("１３８－１２３４－５６７８", "１３８－****－５６７８"),
    ("手机：13812345678。", "手机：138****5678。"),
    ("13812345678、13987654321", "138****5678、139****4321"),
    ("13812345678-13987654321", "138****5678-139****4321"),
    # landlines
    ("0571-87654321", "0571-****4321"),
    ("(0571)87654321", "(0571)****4321"),
    ("（0571）8765 4321", "（0571）**** 4321"),
    ("021-12345678-123", "021-****5678-123"),
    ("010 12345678转8001", "010 ****5678转8001"),
    ("057187654321", "0571****4321"),
    ("０５７１－８７６５４３２１", "０５７１－****４３２１"),
    ("+86 571 87654321", "+86 571 ****4321"),
    ("+86-10-12345678", "+86-10-****5678"),
    ("电话：87654321", "电话：****4321"),
    ("联系电话 8765-4321", "联系电话 ****-4321"),
    ("Tel: 8765 4321", "Tel: **** 4321"),
    # ID numbers
    ("身份证号33010619900101123X。", "身份证号3301**********123X。"),
    ("330106199001011234", "3301**********1234"),
    ("33010620011231123x", "3301**********123x"),
    ("330106 19900101 123X", "3301** ******** 123X"),
    ("３３０１０６１９９００１０１１２３Ｘ", "３３０１**********１２３Ｘ"),
    ("330106900101123", "3301*******1123"),
    # e-mail addresses
    ("请发到zhang.san@example.org，谢谢", "请发到z***@example.org，谢谢"),
    ("zhang＠example.org", "z***＠example.org"),
    ("13812345678@qq.com", "1***@qq.com"),
    ("a_b-c+d@mail.example.com.cn", "a***@mail.example.com.cn"),
]

UNCHANGED = [
    "第12条第3款",
    "第一百二十条",
    "条例第12条至第15条",
    "2026年11月29日",
    "2026-11-29",
    "2026.11.29 13:00-15:30",
    "2013-2026年",
    "5000元",
    "罚款12345678元",
    "1234567890元",
    "1,380,000,000人",
    "国务院令第12345678号",
    "浙政发〔2026〕12号",
    "拨打12345热线或者110",
    "GB 50016-2014",
    "0.5%",
    "第138条",
    "ISBN 978-7-5000-1234-5",
    "330106199013011234",  # month 13: not an ID
]


@pytest.mark.parametrize(("text", "expected"), MASKED)
def test_each_format_is_masked(text, expected):
    assert mask_contacts(text) == expected


@pytest.mark.parametrize("text", UNCHANGED)
def test_legal_numbers_are_left_alone(text):
    assert mask_contacts(text) == text


def test_empty_and_none():
    assert mask_contacts(None) == "" and mask_contacts("") == ""


def test_several_in_one_text():
    text = "张三，电话138-1234-5678，座机0571-87654321，邮箱zs@example.org，第12条建议删除。"
    assert mask_contacts(text) == (
        "张三，电话138-****-5678，座机0571-****4321，邮箱z***@example.org，第12条建议删除。"
    )


# --- properties -------------------------------------------------------------------------------

CJK = "的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可也你说"
PUNCT = "，。：；、！？（）《》“”"
FULL = str.maketrans("0123456789", "０１２３４５６７８９")
SEPARATORS = [" ", "-", "－", ".", "．", "\u3000", " - ", "—"]
# What a reader ignores when looking for the digits: separators and full-width forms.
_IGNORED = re.compile(r"[\s\-\u2010-\u2014.\uff0d\uff0e]")

filler = st.text(alphabet=CJK + PUNCT, max_size=20)
neighbour = st.sampled_from(CJK + PUNCT)


def digits(n: int, first: str = "0123456789"):
    return st.tuples(
        st.sampled_from(first), st.text(alphabet="0123456789", min_size=n - 1, max_size=n - 1)
    ).map("".join)


def readable(text: str) -> str:
    return _IGNORED.sub("", unicodedata.normalize("NFKC", text))


@st.composite
def written(draw, number: str, groups: list[list[int]]):
    """The number split into one of the groupings, separators drawn per gap, maybe
    full-width."""
    sizes = draw(st.sampled_from(groups))
    parts, start = [], 0
    for size in sizes:
        parts.append(number[start : start + size])
        start += size
    text = parts[0]
    for part in parts[1:]:
        text += draw(st.sampled_from(SEPARATORS)) + part
    return text.translate(FULL) if draw(st.booleans()) else text


@st.composite
def mobiles(draw):
    number = draw(st.tuples(st.just("1"), digits(10, "3456789")).map("".join))
    groups = [[11], [3, 4, 4], [3, 8], [7, 4], [4, 4, 3], [3, 1, 3, 4]]
    prefix = draw(
        st.sampled_from(
            ["", "+86", "+86 ", "+86-", "0086", "0086 ", "(86)", "（86）", "（+86）", "86", "＋86 "]
        )
    )
    return number, prefix + draw(written(number, groups))


@st.composite
def landlines(draw):
    area = draw(st.sampled_from(["010", "021", "0571", "0755", "0931", "0898"]))
    local = draw(st.one_of(digits(7, "2345678"), digits(8, "12345678")))
    body = draw(written(local, [[len(local)], [len(local) - 4, 4]]))
    form = draw(st.sampled_from(["{a}-{l}", "({a}){l}", "（{a}）{l}", "{a} {l}", "{a}{l}"]))
    text = form.format(a=area, l=body)
    if draw(st.booleans()):
        text = f"+86 {area[1:]} {body}"
    if draw(st.booleans()):
        text += draw(st.sampled_from(["-", "转", " ext "])) + draw(digits(3))
    return local, text


@st.composite
def id_numbers(draw):
    region = draw(digits(6, "12345678"))
    born = draw(st.dates(min_value=date(1900, 1, 1), max_value=date(2026, 12, 31)))
    tail = draw(digits(3)) + draw(st.sampled_from("0123456789X"))
    number = f"{region}{born:%Y%m%d}{tail}"
    spaced = draw(st.booleans())
    text = f"{region} {born:%Y%m%d} {tail}" if spaced else number
    return number, text.translate(FULL) if draw(st.booleans()) else text


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(mobiles(), landlines(), id_numbers()), filler, neighbour, neighbour, filler)
@example(("13812345678", "138 1234 5678"), "", "：", "元", "")
def test_generated_numbers_never_survive(found, before, left, right, after):
    original, written_form = found
    text = before + left + written_form + right + after
    masked = mask_contacts(text)
    assert original not in readable(masked), masked
    assert "*" in masked


@settings(max_examples=200)
@given(st.from_regex(r"[a-z][a-z0-9._]{1,15}", fullmatch=True), neighbour, neighbour)
def test_generated_emails_never_survive(local, left, right):
    text = f"{left}{local}@example.org{right}"
    masked = mask_contacts(text)
    assert f"{local}@" not in masked
    assert f"{local[0]}***@example.org" in masked


legal_piece = st.one_of(
    st.integers(1, 999).map("第{}条".format),
    st.tuples(st.integers(1, 300), st.integers(1, 9)).map(lambda t: f"第{t[0]}条第{t[1]}款"),
    st.tuples(st.integers(1, 300), st.integers(1, 300)).map(lambda t: f"第{t[0]}条至第{t[1]}条"),
    st.dates().map(lambda d: f"{d.year}年{d.month}月{d.day}日"),
    st.dates().map(lambda d: f"{d:%Y-%m-%d}"),
    st.dates().map(lambda d: f"{d.year}.{d.month}.{d.day}"),
    st.integers(1, 9_999_999_999).map("{}元".format),
    st.integers(1, 99_999).map("{}万元".format),
    st.integers(1, 9_999_999_999).map("{:,}元".format),
    st.integers(1, 99_999_999).map("国务院令第{}号".format),
    st.tuples(st.integers(1949, 2099), st.integers(1, 999)).map(
        lambda t: f"浙政发〔{t[0]}〕{t[1]}号"
    ),
    st.tuples(st.integers(0, 100), st.integers(0, 99)).map(lambda t: f"{t[0]}.{t[1]}%"),
    st.tuples(st.integers(0, 23), st.integers(0, 59)).map(lambda t: f"{t[0]}:{t[1]:02d}"),
    st.tuples(st.integers(1949, 2099), st.integers(1949, 2099)).map(lambda t: f"{t[0]}-{t[1]}年"),
)


@settings(max_examples=300)
@given(st.lists(st.tuples(legal_piece, st.sampled_from(["", " ", "，", "。", "、", "的"]), filler)))
def test_generated_legal_numbers_are_unchanged(pieces):
    text = "".join(piece + joint + words for piece, joint, words in pieces)
    assert mask_contacts(text) == text


# --- every public output ----------------------------------------------------------------------

BODY = "第2条建议修改。我的手机138-1234-5678，身份证33010619900101123X，邮箱zhang.san@example.org"
RESPONSE = "已采纳。如有疑问请联系 0571-87654321 或 +86 139 8765 4321。"
RAW = ["138-1234-5678", "33010619900101123X", "zhang.san@", "87654321", "139 8765 4321"]
SHOWN = ["138-****-5678", "3301**********123X", "z***@example.org", "0571-****4321"]


@pytest.fixture
def published(app, make_user):
    """A closed consultation with one published opinion whose text and answer hold contacts."""
    draft = make_draft(opens=-20, closes=-1)
    drafter = make_user(Role.drafter)
    result = comments.submit_comment(
        draft,
        comments.CommentInput(
            body=BODY, stance=Stance.amend, target="article-2", name="张三", consent=True
        ),
        client=comments.ClientInfo(address="10.0.0.1"),
        now=utcnow() - timedelta(days=5),
    )
    result.comment.published = True
    comments.record_decision(
        result.comment,
        actor=drafter,
        status=result.comment.status,
        decision=Decision.adopted,
        response=RESPONSE,
        publish=True,
    )
    results.publish_results(draft, drafter)
    db.session.commit()
    return draft


def assert_masked(text: str) -> None:
    for raw in RAW:
        assert raw not in text, raw
    for shown in SHOWN:
        assert shown in text, shown


def test_published_opinions_page_masks_opinion_and_response(client, published):
    page = client.get("/drafts/test-draft/opinions").get_data(as_text=True)
    assert "第2条建议修改" in page
    assert_masked(page)


def test_results_page_masks_opinion_and_response(client, published):
    page = client.get("/drafts/test-draft/results").get_data(as_text=True)
    assert "已采纳。如有疑问请联系" in page
    assert_masked(page)


def test_report_masks_opinion_and_response(client, published):
    response = client.get("/drafts/test-draft/results/report.docx")
    assert response.status_code == 200
    text = "\n".join(p.text for p in Document(io.BytesIO(response.data)).paragraphs)
    assert "已采纳。如有疑问请联系" in text
    # The report's excerpts are one line: what is checked is that nothing raw is left.
    for raw in RAW:
        assert raw not in text, raw
    assert "138-****-5678" in text and "0571-****4321" in text


def test_public_api_never_returns_the_raw_text(client, published):
    for url in ("/api/v1/drafts", "/api/v1/drafts/test-draft", "/api/v1/drafts/test-draft/stats"):
        response = client.get(url)
        assert response.status_code == 200
        body = response.get_data(as_text=True)
        for raw in RAW:
            assert raw not in body, (url, raw)
