"""No input makes a server error: each root cause of issue 11, on the database in use.

(a) ids too large for the database, (b) Unicode digits, (c) blank-looking or unknown choices,
(d) characters XML 1.0 forbids reaching the feed and the .docx/.xlsx writers, (e) NUL bytes and
deeply nested JSON. Unit tests for the cleaning function, the converter and the number parser
(tests/test_numerals.py has the parser's cases) come first.
"""

from __future__ import annotations

import importlib
import io
import json
import re
import unicodedata
import zipfile
from datetime import timedelta
from pathlib import Path

import pytest
from defusedxml import ElementTree as ET
from hypothesis import given
from hypothesis import strategies as st
from lxml import etree
from sqlalchemy.exc import OperationalError
from werkzeug.routing import ValidationError

from portal.api import MAX_JSON_DEPTH, json_too_deep
from portal.converters import IdConverter, TextConverter
from portal.extensions import db
from portal.forms import INVALID_CHOICE, PortalForm
from portal.models import Attachment, Comment, Decision, Role, Stance, utcnow
from portal.numerals import MAX_DB_INT
from portal.sanitize import clean_line, clean_text, xml_safe
from tests.comments.test_views import count, post_comment
from tests.drafts.test_views import make_draft
from tests.jobs.helpers import job_download
from tests.liaison.test_views import client_for, make_batch

BIDI = set("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
TOO_BIG = "99999999999999999999"


def _xml_char_ok(ch: str) -> bool:
    code = ord(ch)
    return (
        ch in "\t\n\r"
        or 0x20 <= code <= 0xD7FF
        or 0xE000 <= code <= 0xFFFD
        or 0x10000 <= code <= 0x10FFFF
    )


@pytest.fixture
def points(make_point, make_user):
    """One liaison point with one staff member, as tests.liaison's fixtures name them."""
    east = make_point(code="JZ-E01", name="东城联系点")
    return {"east": east, "east_staff": make_user(Role.liaison, point=east)}


@pytest.fixture
def draft_open(app):
    return make_draft()


# --- the cleaning function ------------------------------------------------------------------

# Text weighted towards the characters that caused trouble, plus anything else.
_nasty = st.sampled_from(
    [*"\x00\x01\x08\x0b\x0c\x0d\x0e\x1f\x7f\x85\x9f\t\n\r", *BIDI, "\ufeff", "\u2028", "\ud800"]
)
texts = st.lists(st.one_of(_nasty, st.characters(), st.sampled_from("条例意见 ")), max_size=40).map(
    "".join
)


@given(texts)
def test_clean_text_leaves_no_control_bidi_or_surrogate_and_keeps_newlines(value):
    out = clean_text(value)
    assert all(ch == "\n" or unicodedata.category(ch) != "Cc" for ch in out)
    assert not BIDI & set(out)
    assert not re.search("[\ud800-\udfff\ufeff]", out)
    assert out == unicodedata.normalize("NFC", out) and out == out.strip()
    assert xml_safe(out) == out  # whatever clean_text lets through, every XML writer takes
    assert clean_text(out) == out  # cleaning twice changes nothing
    out.encode("utf-8")  # storable: no lone surrogate


@given(texts)
def test_clean_line_is_one_line(value):
    out = clean_line(value)
    assert "\n" not in out and "\r" not in out
    assert all(unicodedata.category(ch) != "Cc" for ch in out)
    assert clean_text(value, multiline=False) == out


def test_clean_text_examples():
    assert clean_text("第一行\x0b第二行") == "第一行\n第二行"  # Word's soft line break
    assert clean_line("第一行\x0b第二行") == "第一行 第二行"
    assert clean_text(" a\r\nb\rc\u2028d ") == "a\nb\nc\nd"
    assert clean_text("意见\x00内容") == "意见内容"
    assert clean_text("abc\u202etxt.exe") == "abctxt.exe"
    assert clean_text("e\u0301") == "é"  # NFC
    assert clean_text("\t缩进") == "缩进" and clean_text("a\tb") == "a b"
    assert clean_text(None) == "" and clean_text("   ") == ""
    assert clean_text("👨\u200d👩\u200d👧") == "👨\u200d👩\u200d👧"  # emoji joiners kept


@given(st.text())
def test_xml_safe_output_is_accepted_by_lxml(value):
    element = etree.Element("t")
    element.text = xml_safe(value)  # raises ValueError on any character XML 1.0 forbids
    assert all(_xml_char_ok(ch) for ch in element.text or "")


def test_xml_safe_keeps_line_breaks_and_non_strings():
    assert xml_safe("a\x0bb\x0cc\x00d\ufffe") == "a\nb\ncd"
    assert xml_safe(12) == 12 and xml_safe(None) is None


# --- the URL converter and JSON depth -------------------------------------------------------


def test_id_converter_refuses_too_large_and_non_ascii(app):
    converter = IdConverter(app.url_map)
    assert converter.to_python("1") == 1
    assert converter.to_python(str(MAX_DB_INT)) == MAX_DB_INT
    for value in (str(MAX_DB_INT + 1), TOO_BIG, "9" * 5000):
        with pytest.raises(ValidationError):
            converter.to_python(value)
    assert re.fullmatch(converter.regex, "１２") is None
    assert re.fullmatch(converter.regex, "٣") is None


def test_text_converter_refuses_control_characters(app):
    converter = TextConverter(app.url_map)
    assert converter.to_python("test-draft") == "test-draft"
    for value in ("a\x00b", "a\x0bb", "\x7f", "\ud800"):
        with pytest.raises(ValidationError):
            converter.to_python(value)


@pytest.mark.parametrize(
    ("text", "deep"),
    [
        ("{}", False),
        ('{"a": [1, {"b": []}]}', False),
        ("[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH, False),
        ("[" * (MAX_JSON_DEPTH + 1) + "]" * (MAX_JSON_DEPTH + 1), True),
        ('{"a": "' + "[" * 5000 + '"}', False),  # brackets inside a string do not count
        ('{"a": "\\"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["}', False),
        ("[" * 5000 + "]" * 5000, True),
        ('{"a":' * 5000 + "1" + "}" * 5000, True),
        ("[" * 5000, True),  # unbalanced: no parser should see it
        ("[}", False),  # malformed but shallow: the parser says so (400)
        ("]]][[[", False),  # malformed, shallow: the parser stops at the first ]
        ('["a\\\\", ["b\\"]"]]', False),  # an escaped backslash, then an escaped quote
        ("", False),
    ],
)
def test_json_too_deep(text, deep):
    assert json_too_deep(text.encode()) is deep
    assert json_too_deep(text) is deep


def _depth(value) -> int:
    if isinstance(value, list):
        return 1 + max((_depth(v) for v in value), default=0)
    if isinstance(value, dict):
        return 1 + max((_depth(v) for v in value.values()), default=0)
    return 0


_json_values = st.recursive(
    st.none() | st.integers() | st.text(alphabet='[]{}"\\ab\n'),
    lambda inner: st.lists(inner, max_size=3)
    | st.dictionaries(st.text(alphabet='[]{}"\\k'), inner, max_size=3),
    max_leaves=60,
)


@given(_json_values, st.integers(min_value=0, max_value=6))
def test_json_too_deep_agrees_with_the_real_depth(value, limit):
    """Strings full of brackets, quotes and backslashes never confuse the count."""
    text = json.dumps(value, ensure_ascii=False)
    assert json_too_deep(text.encode(), limit) is (_depth(value) > limit)


# --- (a) ids too large for the database -----------------------------------------------------


def _urls_with(app, number: str) -> list[tuple[str, str]]:
    """(method, url) for every route with an <int:...> part, with `number` in its place."""
    found = []
    for rule in app.url_map.iter_rules():
        if "<int:" not in rule.rule:
            continue
        url = re.sub(r"<int:\w+>", number, rule.rule)
        url = re.sub(r"<(?:\w+:)?\w+>", "test-draft", url)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            found.append((method, url))
    return found


def test_every_int_route_answers_404_for_ids_beyond_the_database(app, client, login, make_user):
    routes = _urls_with(app, TOO_BIG)
    assert len(routes) >= 25  # every blueprint's <int:...> routes, the API's included
    login(make_user(Role.admin))
    for number in (TOO_BIG, str(2**63), str(MAX_DB_INT + 1), "１２", "٣"):
        for method, url in _urls_with(app, number):
            response = client.open(url, method=method)
            assert response.status_code == 404, (method, url, response.status_code)


@pytest.mark.parametrize("role", [Role.admin, Role.drafter, Role.liaison])
def test_largest_id_the_database_holds_is_no_server_error(
    app, client, login, make_user, make_point, role
):
    make_draft()
    point = make_point() if role == Role.liaison else None
    login(make_user(role, point=point))
    for method, url in _urls_with(app, str(MAX_DB_INT)):
        response = client.open(url, method=method)
        assert response.status_code < 500, (method, url, response.status_code)


def test_control_character_in_a_path_is_404_not_a_database_error(client):
    make_draft()
    assert client.get("/drafts/test%00draft").status_code == 404
    assert client.get("/receipts/AB%00CD").status_code == 404
    assert client.get("/api/v1/drafts/x%00y").status_code == 404


# --- (b) Unicode digits and numbers in query strings ----------------------------------------


@pytest.mark.parametrize("value", ["²", "①", "٣", "１２", "十二", TOO_BIG, "-1", "2.5", "", "\x00"])
@pytest.mark.parametrize("name", ["article", "chapter"])
def test_comment_form_preselection_never_fails(client, name, value):
    make_draft()
    response = client.get(f"/drafts/test-draft/comment?{name}={value}")
    assert response.status_code == 200


def test_comment_form_reads_full_width_and_chinese_article_numbers(client):
    make_draft()
    for value in ("２", "二"):
        page = client.get(f"/drafts/test-draft/comment?article={value}").get_data(as_text=True)
        assert re.search(r'<option selected value="article-2">|value="article-2" selected', page)


@pytest.mark.parametrize("target", ["article-²", f"article-{TOO_BIG}", "chapter-²", "article-"])
def test_comment_target_with_odd_digits_is_a_form_error(client, target):
    make_draft()
    response = post_comment(client, target=target)
    assert response.status_code == 422
    assert count() == 0


@pytest.mark.parametrize(
    "query",
    [
        "page=²",
        f"page={TOO_BIG}",
        "page=-3",
        "article=²",
        f"article={TOO_BIG}",
        "chapter=①",
        "category=²&category=1",
        f"category={TOO_BIG}",
        "draft=²",
        "q=%00",
    ],
)
def test_staff_pages_read_numbers_from_the_query_string_safely(client, login, make_user, query):
    make_draft()
    login(make_user(Role.drafter))
    for url in (
        "/review/drafts/test-draft/search",
        "/review/search",
        "/review/drafts/test-draft/comments",
    ):
        response = client.get(f"{url}?{query}")
        assert response.status_code == 200, (url, query, response.status_code)


@pytest.mark.parametrize(
    "query",
    ["page=²", f"page={TOO_BIG}", "per_page=²", f"article={TOO_BIG}", f"category={TOO_BIG}"],
)
def test_api_search_refuses_odd_numbers_with_a_problem(client, make_user, token_for, query):
    make_draft()
    secret = token_for(make_user(Role.drafter))
    response = client.get(f"/api/v1/search?{query}", headers={"Authorization": f"Bearer {secret}"})
    assert response.status_code == 422, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"


@pytest.fixture
def token_for(app):
    from portal.auth import tokens

    def make(user) -> str:
        _token, secret = tokens.create_token(user, "测试")
        db.session.commit()
        return secret

    return make


# --- (c) choices ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "fields",
    [
        {"identity": "  "},
        {"identity": "martian"},
        {"identity": "resident\u202e"},
        {"stance": "  "},
        {"stance": "amend "},
        {"target": "  "},
    ],
)
def test_blank_looking_or_unknown_choice_is_a_form_error(client, fields):
    make_draft()
    response = post_comment(client, **fields)
    assert response.status_code == 422
    assert count() == 0
    page = response.get_data(as_text=True)
    assert str(INVALID_CHOICE) in page or "请选择" in page


def test_blank_identity_means_not_given(client):
    make_draft()
    assert post_comment(client, identity="").status_code == 302
    assert db.session.scalar(db.select(Comment)).identity is None


@pytest.mark.parametrize(
    "fields",
    [{"op-stance": "  "}, {"op-identity": "  "}, {"op-identity": "x"}, {"op-article": "²"}],
)
def test_liaison_opinion_with_a_bad_choice_is_refused(app, points, draft_open, fields):
    batch = make_batch(points, draft_open)
    client = client_for(app, points["east_staff"])
    data = {
        "op-body": "建议第二条增加告知义务。",
        "op-article": "auto",
        "op-stance": "amend",
        "op-identity": "resident",
        "op-raised_by": "1",
        **fields,
    }
    response = client.post(f"/liaison/submissions/{batch.id}/opinions", data=data)
    assert response.status_code in (400, 422), response.status_code
    assert db.session.scalar(db.select(db.func.count(Comment.id))) == 1  # make_batch's own


def test_bulk_decide_without_a_decision_is_a_message(client, login, make_user):
    draft = make_draft()
    login(make_user(Role.drafter))
    post_comment(client)
    comment_id = db.session.scalar(db.select(Comment.id))
    response = client.post(
        f"/review/drafts/{draft.slug}/bulk",
        data={
            "action": "decide",
            "scope": "selected",
            "decision": "  ",
            "ids": [str(comment_id), "²", TOO_BIG],
        },
        follow_redirects=True,
    )
    assert response.status_code == 200
    assert db.session.get(Comment, comment_id).decision is None


@pytest.mark.parametrize(
    "change",
    [{"stance": "  "}, {"identity": "  "}, {"identity": "martian"}, {"stance": "\u202eamend"}],
)
def test_api_choices_are_422_problems(client, change):
    make_draft()
    body = {"body": "建议第二条增加对小区的适用。", "article": 2, "stance": "amend", **change}
    response = client.post("/api/v1/drafts/test-draft/comments", json=body)
    if change.get("stance") == "\u202eamend":
        # Cleaned first (the bidi override goes), then a valid choice.
        assert response.status_code == 201
        return
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    assert count() == 0


def test_every_form_of_the_portal_cleans_its_input():
    """A form that bypasses PortalForm would bypass the cleaning: there is none."""
    from flask_wtf import FlaskForm

    for package in ("admin", "auth", "comments", "drafts", "liaison", "review"):
        importlib.import_module(f"portal.{package}.forms")
    forms = []
    pending = list(FlaskForm.__subclasses__())
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        if cls.__module__.startswith("portal."):
            forms.append(cls)
    assert len(forms) >= 15
    assert all(issubclass(cls, PortalForm) for cls in forms), [
        cls for cls in forms if not issubclass(cls, PortalForm)
    ]


# --- (d) characters XML forbids, already stored ---------------------------------------------

DIRTY = "测试\x0b条例\x01（草案）\ufffe"


def _xml_parts(data: bytes) -> list[bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return [archive.read(n) for n in archive.namelist() if n.endswith((".xml", ".rels"))]


@pytest.fixture
def dirty_results(app, make_user):
    """A draft whose title, opinions and answers were stored before input was cleaned."""
    from portal.comments import services as comments
    from portal.drafts import results

    draft = make_draft(opens=-20, closes=-1)
    drafter = make_user(Role.drafter)
    result = comments.submit_comment(
        draft,
        comments.CommentInput(body="意见", stance=Stance.amend, target="article-2"),
        client=comments.ClientInfo(address="10.0.0.9"),
        now=utcnow() - timedelta(days=5),
    )
    comments.record_decision(
        result.comment,
        actor=drafter,
        status=result.comment.status,
        decision=Decision.adopted,
        response="答复",
        publish=True,
    )
    results.publish_results(draft, drafter)
    db.session.commit()
    # As old rows hold them: straight into the database, past every cleaning step. PostgreSQL
    # never stored a NUL; SQLite may have.
    nul = "\x00" if db.engine.dialect.name == "sqlite" else ""
    draft.title = DIRTY
    draft.title_en = DIRTY
    draft.summary = f"说明\x0b第二行{nul}"
    draft.drafting_body = "起草\x0b单位"
    result.comment.body = f"第二条\x0b应当\x02修改\x1f{nul}"
    result.comment.response = "答复\x0b理由\x08"
    result.comment.quote = "\x0b=1"
    db.session.commit()
    open_one = make_draft(slug="open-dirty")
    open_one.title = DIRTY
    open_one.summary = "说明\x0b\x01"
    db.session.commit()
    return draft, drafter


def test_feed_is_valid_xml_with_dirty_titles(client, dirty_results):
    for lang in ("zh_Hans_CN", "en"):
        response = client.get(f"/feed.atom?lang={lang}")
        assert response.status_code == 200
        root = ET.fromstring(response.data)
        titles = [e.text for e in root.iter("{http://www.w3.org/2005/Atom}title")]
        assert any(t and "条例" in t for t in titles) or lang == "en"


def test_both_adoption_reports_are_valid_docx_with_dirty_text(client, login, dirty_results):
    from docx import Document

    draft, drafter = dirty_results
    public = client.get(f"/drafts/{draft.slug}/results/report.docx")
    login(drafter)
    staff = job_download(client, f"/review/drafts/{draft.slug}/report.docx")
    english = job_download(client, f"/review/drafts/{draft.slug}/report.docx?lang=en")
    for response in (public, staff, english):
        assert response.status_code == 200
        for part in _xml_parts(response.data):
            ET.fromstring(part)
        text = "\n".join(p.text for p in Document(io.BytesIO(response.data)).paragraphs)
        assert "条例" in text or "Test" in text


def test_exports_are_valid_xlsx_with_dirty_text(app, dirty_results):
    from openpyxl import load_workbook

    from portal.review.exports import export_csv, export_xlsx, load_for_export

    ids = list(db.session.scalars(db.select(Comment.id)))
    data = export_xlsx(load_for_export(ids), include_contact=True)
    for part in _xml_parts(data):
        ET.fromstring(part)
    rows = list(load_workbook(io.BytesIO(data)).worksheets[0].values)
    assert any(isinstance(v, str) and "应当修改" in v for row in rows for v in row)
    assert "应当修改".encode() in export_csv(load_for_export(ids), include_contact=True)


def test_liaison_template_with_a_dirty_title_is_valid_xlsx(app, points, draft_open):
    draft_open.title = DIRTY
    db.session.commit()
    client = client_for(app, points["east_staff"])
    response = client.get(f"/liaison/template.xlsx?draft={draft_open.slug}")
    assert response.status_code == 200
    for part in _xml_parts(response.data):
        ET.fromstring(part)


def test_a_title_pasted_from_word_is_cleaned_on_the_way_in(client, login, make_user):
    draft = make_draft()
    login(make_user(Role.drafter))
    response = client.post(
        f"/manage/drafts/{draft.slug}/edit",
        data={
            "slug": draft.slug,
            "title": "测试\x0b条例\u202e（草案）",
            "summary": "第一段\x0b第二段\x00",
            "status": "consulting",
            "opens_at": "2020-01-01T08:00",
            "closes_at": "2099-01-01T08:00",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    db.session.expire_all()
    assert draft.title == "测试 条例（草案）"
    assert draft.summary == "第一段\n第二段"


# --- (e) NUL bytes, uploads and deep JSON ---------------------------------------------------


def test_nul_in_a_comment_is_removed_not_a_database_error(client):
    make_draft()
    response = post_comment(
        client,
        body="建议\x00明确第二条。",
        name="张\x00三",
        contact="13800138000",
        consent="y",
        district="东\x00城",
    )
    assert response.status_code == 302
    comment = db.session.scalar(db.select(Comment))
    assert comment.body == "建议明确第二条。" and comment.name == "张三"
    assert comment.district == "东城"


def test_nul_only_comment_is_a_form_error(client):
    make_draft()
    response = post_comment(client, body="\x00\x00 \u202e")
    assert response.status_code == 422
    assert count() == 0


def test_nul_through_the_api_is_removed(client):
    make_draft()
    body = {"body": "意见\u0000内容\u202e", "stance": "amend", "name": "李\n四", "consent": True}
    response = client.post("/api/v1/drafts/test-draft/comments", json=body)
    assert response.status_code == 201, response.get_data(as_text=True)
    comment = db.session.scalar(db.select(Comment))
    assert comment.body == "意见内容" and comment.name == "李 四"
    empty = client.post(
        "/api/v1/drafts/test-draft/comments", json={"body": "\u0000\ud800", "stance": "amend"}
    )
    assert empty.status_code == 422 and count() == 1


def test_lone_surrogate_through_the_api_is_no_server_error(client):
    make_draft()
    raw = b'{"body": "\\ud800\\u610f\\u89c1", "stance": "amend", "district": "\\udfff"}'
    response = client.post(
        "/api/v1/drafts/test-draft/comments", data=raw, content_type="application/json"
    )
    assert response.status_code == 201
    assert db.session.scalar(db.select(Comment)).body == "意见"


def _upload_dir(app) -> Path:
    return Path(app.config["UPLOAD_DIR"])


def _files(app) -> list[Path]:
    folder = _upload_dir(app)
    return sorted(folder.iterdir()) if folder.exists() else []


def test_nul_in_a_file_name_is_removed(app, points, draft_open):
    batch = make_batch(points, draft_open)
    client = client_for(app, points["east_staff"])
    response = client.post(
        f"/liaison/submissions/{batch.id}/attachments",
        data={"attach-file": (io.BytesIO(b"%PDF-1.4 minutes"), "纪\x00要\u202e.pdf")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    (attachment,) = db.session.scalars(db.select(Attachment))
    assert attachment.filename == "纪要.pdf"
    assert [p.name for p in _files(app)] == [attachment.storage_key]


def test_a_failed_upload_leaves_no_file(app, points, draft_open, monkeypatch):
    batch = make_batch(points, draft_open)
    client = client_for(app, points["east_staff"])

    def broken_commit():
        raise OperationalError("COMMIT", {}, Exception("database went away"))

    monkeypatch.setattr(db.session, "commit", broken_commit)
    response = client.post(
        f"/liaison/submissions/{batch.id}/attachments",
        data={"attach-file": (io.BytesIO(b"%PDF-1.4 minutes"), "纪要.pdf")},
        content_type="multipart/form-data",
    )
    monkeypatch.undo()
    assert response.status_code == 503
    assert _files(app) == []
    assert db.session.scalar(db.select(db.func.count(Attachment.id))) == 0


def test_a_refused_upload_leaves_no_file(app, points, draft_open):
    batch = make_batch(points, draft_open)
    client = client_for(app, points["east_staff"])
    response = client.post(
        f"/liaison/submissions/{batch.id}/attachments",
        data={"attach-file": (io.BytesIO(b"MZ\x90\x00 not a pdf"), "x.pdf")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    assert _files(app) == []


def test_an_attachment_file_goes_only_when_its_deletion_commits(app, points, draft_open):
    from portal.liaison import services as liaison

    batch = make_batch(points, draft_open, attachment=True)
    (attachment,) = batch.attachments
    path = liaison.attachment_path(attachment)
    assert path.exists()
    liaison.delete_attachment(attachment)
    db.session.rollback()
    assert path.exists()  # the row is back, so is its file
    liaison.delete_attachment(db.session.get(Attachment, attachment.id))
    db.session.commit()
    assert not path.exists()


@pytest.mark.parametrize(
    "body",
    [
        "[" * 5000 + "]" * 5000,
        '{"body":' * 5000 + '"x"' + "}" * 5000,
        '{"body": "x", "quote": ' + "[" * 5000,
    ],
)
def test_deep_json_is_a_400_problem(client, body):
    make_draft()
    response = client.post(
        "/api/v1/drafts/test-draft/comments", data=body, content_type="application/json"
    )
    assert response.status_code == 400
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["code"] == "json_too_deep"
    assert count() == 0


def test_moderately_nested_and_malformed_json(client):
    make_draft()
    url = "/api/v1/drafts/test-draft/comments"
    nested = {"body": "意见", "stance": "amend", "x": json.loads("[" * 20 + "]" * 20)}
    assert client.post(url, json=nested).status_code == 422  # an unknown field, said so
    for raw in (b'{"body": ', b"\xff\xfe{}", b'{"body": "x"}}'):
        response = client.post(url, data=raw, content_type="application/json")
        assert response.status_code == 400, raw
        assert response.mimetype == "application/problem+json"


def test_get_json_anywhere_refuses_deep_bodies(app):
    with app.test_request_context(
        "/", method="POST", data="[" * 5000 + "]" * 5000, content_type="application/json"
    ):
        from flask import request
        from werkzeug.exceptions import BadRequest

        with pytest.raises(BadRequest):
            request.get_json()


def test_request_values_never_carry_nul(app):
    with app.test_request_context("/?a=x%00y&b%00=1", method="POST", data={"c": "p\x00q"}):
        from flask import request

        assert request.args["a"] == "xy" and request.args["b"] == "1"
        assert request.form["c"] == "pq"
