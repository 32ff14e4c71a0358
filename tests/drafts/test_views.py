"""Public reading of drafts and the drafting team's import, through the test client."""

import io
from datetime import timedelta

import pytest
from docx import Document

from portal.extensions import db
from portal.models import Article, AuditEntry, Draft, DraftStatus, Role, utcnow

SMALL_DRAFT = """测试条例（草案）

第一章　总则
第一条　为了测试，制定本条例。
第二条　本条例适用于测试。
第二章　附则
第三条　本条例自公布之日起施行。
"""


def make_draft(slug="test-draft", status=DraftStatus.consulting, opens=-1, closes=10, text=None):
    from portal.drafts import services
    from portal.drafts.parser import parse_draft_text

    now = utcnow()
    draft = services.create_draft(
        {
            "slug": slug,
            "title": "测试条例（草案）",
            "title_en": "Test Regulations (Draft)",
            "summary": "测试用草案。",
            "summary_en": "A draft for tests.",
            "status": status,
            "opens_at": now + timedelta(days=opens),
            "closes_at": now + timedelta(days=closes),
        },
        actor=None,
    )
    services.replace_text(draft, parse_draft_text(text or SMALL_DRAFT), actor=None)
    db.session.commit()
    return draft


def test_home_lists_open_drafts_with_deadline_and_counts(client, demo):
    page = client.get("/").get_data(as_text=True)
    assert "江州市生活垃圾分类管理条例（草案）" in page  # open
    assert "还剩 18 天" in page
    assert "参与人数" in page
    # The opening-soon draft is announced, the closed one is not on the home page.
    assert "江州市山体保护条例（草案）" in page
    assert "江州市物业管理条例（草案）" not in page


def test_draft_list_filters_by_status(client, demo):
    closed = client.get("/drafts?status=closed").get_data(as_text=True)
    assert "江州市物业管理条例（草案）" in closed
    assert "江州市生活垃圾分类管理条例（草案）" not in closed
    everything = client.get("/drafts").get_data(as_text=True)
    assert everything.count('class="card draft-card') == 3


def test_unknown_status_filter_shows_all(client, demo):
    page = client.get("/drafts?status=bogus")
    assert page.status_code == 200


def test_draft_page_has_toc_anchors_and_window(client, demo):
    page = client.get("/drafts/laji-fenlei").get_data(as_text=True)
    for number in (1, 12, 51):
        assert f'id="article-{number}"' in page
        assert f'href="#article-{number}"' in page
    assert 'id="chapter-1"' in page
    assert "本草案正在征求意见" in page


@pytest.mark.parametrize(
    ("slug", "notice"),
    [
        ("shanti-baohu", "本草案尚未开始征求意见"),
        ("wuye-guanli", "本草案的征求意见已经结束"),
    ],
)
def test_draft_outside_window_says_so(client, demo, slug, notice):
    assert notice in client.get(f"/drafts/{slug}").get_data(as_text=True)


def test_sections_are_shown_inside_chapters(client, demo):
    page = client.get("/drafts/wuye-guanli").get_data(as_text=True)
    assert "第一节" in page


def test_printable_view(client, demo):
    page = client.get("/drafts/laji-fenlei/print")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "第五十一条" in text
    assert "print.css" in text


def test_unpublished_draft_is_hidden_from_public_but_not_staff(client, make_user, login, app):
    make_draft(slug="secret", status=DraftStatus.draft)
    assert client.get("/drafts/secret").status_code == 404
    assert "secret" not in client.get("/drafts").get_data(as_text=True)
    login(make_user(Role.drafter))
    page = client.get("/drafts/secret")
    assert page.status_code == 200
    assert "本草案尚未发布" in page.get_data(as_text=True)


def test_unknown_draft_is_404(client):
    assert client.get("/drafts/nope").status_code == 404


@pytest.mark.parametrize("role", [Role.citizen, Role.liaison])
@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("get", "/manage/drafts"),
        ("get", "/manage/drafts/new"),
        ("post", "/manage/drafts/new"),
        ("get", "/manage/drafts/test-draft/text"),
        ("post", "/manage/drafts/test-draft/text"),
        ("get", "/manage/drafts/test-draft/edit"),
    ],
)
def test_import_is_forbidden_to_citizens_and_liaison_staff(
    client, make_user, make_point, login, role, method, url
):
    make_draft()
    point = make_point() if role == Role.liaison else None
    login(make_user(role, point=point))
    response = getattr(client, method)(url, data={"text": SMALL_DRAFT, "preview": "1"})
    assert response.status_code == 403


def test_import_requires_login(client):
    make_draft()
    response = client.get("/manage/drafts/test-draft/text")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


@pytest.fixture
def drafter(make_user, login):
    user = make_user(Role.drafter)
    login(user)
    return user


def test_create_draft_then_preview_then_publish(client, drafter):
    response = client.post(
        "/manage/drafts/new",
        data={
            "slug": "new-one",
            "title": "新条例（草案）",
            "status": "consulting",
            "opens_at": "2026-01-01T09:00",
            "closes_at": "2026-02-01T18:00",
        },
    )
    assert response.status_code == 302
    draft = db.session.scalar(db.select(Draft).where(Draft.slug == "new-one"))
    # Entered in Beijing time, stored in UTC.
    assert draft.opens_at.hour == 1

    preview = client.post("/manage/drafts/new-one/text", data={"text": SMALL_DRAFT, "preview": "1"})
    page = preview.get_data(as_text=True)
    assert preview.status_code == 200
    assert "预览" in page and "确认发布" in page
    assert db.session.scalar(db.select(db.func.count(Article.id))) == 0, "preview saves nothing"

    published = client.post(
        "/manage/drafts/new-one/text",
        data={"text": SMALL_DRAFT, "publish": "1", "confirmed": "1"},
    )
    assert published.status_code == 302
    db.session.expire_all()
    draft = db.session.scalar(db.select(Draft).where(Draft.slug == "new-one"))
    assert [a.number for a in draft.articles] == [1, 2, 3]
    assert draft.version == 1
    actions = set(db.session.scalars(db.select(AuditEntry.action)))
    assert {"draft.created", "draft.text_replaced"} <= actions


def test_preview_lists_unplaced_lines(client, drafter):
    make_draft()
    text = "标题\n一行说明文字\n第一章　总则\n第一条　内容。\n"
    page = client.post("/manage/drafts/test-draft/text", data={"text": text, "preview": "1"})
    assert "无法归入条文的行" in page.get_data(as_text=True)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("   \n  ", "正文为空"),
        ("这里没有任何条文。\n只是几行字。", "没有找到任何条文"),
        ("第一条　" + "字" * 400_000, "正文过长"),
    ],
)
def test_bad_text_gives_clear_error_and_saves_nothing(client, drafter, text, message):
    make_draft()
    before = [a.text for a in db.session.scalars(db.select(Article).order_by(Article.number))]
    response = client.post(
        "/manage/drafts/test-draft/text", data={"text": text, "publish": "1", "confirmed": "1"}
    )
    assert response.status_code == 422  # refused, as the liaison import does
    assert message in response.get_data(as_text=True)
    db.session.expire_all()
    after = [a.text for a in db.session.scalars(db.select(Article).order_by(Article.number))]
    assert after == before


def test_docx_upload_preview(client, drafter):
    make_draft()
    document = Document()
    for line in SMALL_DRAFT.splitlines():
        document.add_paragraph(line)
    buffer = io.BytesIO()
    document.save(buffer)
    buffer.seek(0)
    response = client.post(
        "/manage/drafts/test-draft/text",
        data={"document": (buffer, "draft.docx"), "preview": "1"},
        content_type="multipart/form-data",
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "确认发布" in page
    assert "本条例自公布之日起施行" in page  # the text is carried into the form for publishing


def test_garbage_docx_is_refused(client, drafter):
    make_draft()
    response = client.post(
        "/manage/drafts/test-draft/text",
        data={"document": (io.BytesIO(b"not a zip at all"), "draft.docx"), "preview": "1"},
        content_type="multipart/form-data",
    )
    assert "无法读取这个文件" in response.get_data(as_text=True)


def test_wrong_extension_is_refused(client, drafter):
    make_draft()
    response = client.post(
        "/manage/drafts/test-draft/text",
        data={"document": (io.BytesIO(b"%PDF-1.4"), "draft.pdf"), "preview": "1"},
        content_type="multipart/form-data",
    )
    assert "只能上传 .docx 文件" in response.get_data(as_text=True)


def test_oversized_request_gets_413_page(app_factory, make_user):
    app = app_factory(MAX_CONTENT_LENGTH=1024)
    client = app.test_client()
    response = client.post("/login", data={"login": "x" * 5000, "password": "y"})
    assert response.status_code == 413
    assert "提交的内容过大" in response.get_data(as_text=True)


def test_replacing_text_keeps_articles_by_number(app):
    draft = make_draft()
    first = {a.number: a.id for a in draft.articles}
    from portal.drafts import services
    from portal.drafts.parser import parse_draft_text

    services.replace_text(
        draft, parse_draft_text("第一条　新的第一条。\n第二条　新的第二条。\n"), actor=None
    )
    db.session.commit()
    db.session.expire_all()
    articles = db.session.scalars(db.select(Article).order_by(Article.number)).all()
    assert [(a.number, a.id) for a in articles] == [(1, first[1]), (2, first[2])]
    assert articles[0].text == "新的第一条。"
    assert articles[0].chapter_id is None
    assert db.session.get(Draft, draft.id).version == 2


def test_edit_metadata_validates_window(client, drafter):
    make_draft()
    response = client.post(
        "/manage/drafts/test-draft/edit",
        data={
            "slug": "test-draft",
            "title": "测试条例（草案）",
            "status": "consulting",
            "opens_at": "2026-03-01T09:00",
            "closes_at": "2026-02-01T09:00",
        },
    )
    assert "截止时间必须晚于开始时间" in response.get_data(as_text=True)
