"""The search page and its bulk actions, on a real index fed through the outbox."""

from portal.comments.services import ClientInfo, CommentInput, submit_comment
from portal.extensions import db
from portal.models import Category, Comment, Decision, Role, Stance
from portal.review import services as review
from portal.search.index import apply_pending
from tests.conftest import PASSWORD
from tests.drafts.test_views import make_draft
from tests.jobs.helpers import job_download

BODIES = [
    ("article-1", "amend", "建议把垃圾分类的目的写得更具体。"),
    ("article-2", "oppose", "物业服务费不应当由本条例规定。"),
    ("article-2", "amend", "建议第二条增加PM2.5监测的内容。"),
    ("draft", "support", "总体赞成，垃圾分类很有必要。"),
]


def seed():
    draft = make_draft()
    for n, (target, stance, body) in enumerate(BODIES):
        data = CommentInput(body=body, stance=Stance(stance), target=target)
        submit_comment(draft, data, client=ClientInfo(f"192.0.2.{n + 1}", "t"))
    db.session.commit()
    apply_pending(wait=True)
    return draft


def drafter_client(app, make_user):
    user = make_user(Role.drafter)
    client = app.test_client()
    client.post("/login", data={"login": user.email, "password": PASSWORD})
    return client


def test_search_finds_highlights_and_facets(app, make_user):
    seed()
    client = drafter_client(app, make_user)
    page = client.get("/review/drafts/test-draft/search?q=分类").get_data(as_text=True)
    assert "找到 2 条意见" in page
    assert "<mark>" in page or 'class="match"' in page
    assert "物业服务费不应当" not in page
    facets = client.get("/review/drafts/test-draft/search").get_data(as_text=True)
    assert "找到 4 条意见" in facets
    assert "stance=oppose" in facets  # a facet link that narrows the result
    narrowed = client.get("/review/drafts/test-draft/search?stance=oppose").get_data(as_text=True)
    assert "找到 1 条意见" in narrowed and "物业服务费" in narrowed


def test_search_syntax_and_mixed_text(app, make_user):
    seed()
    client = drafter_client(app, make_user)
    for query, found in [
        ("PM2.5", 1),
        ("ＰＭ２．５", 1),
        ("分类 NOT 赞成", 1),
        ("物业费 OR 监测", 2),
        ('"垃圾分类"', 2),
        ("article:2", 2),
    ]:
        page = client.get("/review/drafts/test-draft/search", query_string={"q": query})
        assert f"找到 {found} 条意见" in page.get_data(as_text=True), query


def test_filters_stay_in_the_url_and_paginate(app, make_user):
    seed()
    client = drafter_client(app, make_user)
    page = client.get("/review/drafts/test-draft/search?article=2&sort=oldest")
    text = page.get_data(as_text=True)
    assert "找到 2 条意见" in text
    assert "article=2" in text and "sort=oldest" in text  # links keep the state


def test_bulk_on_all_results(app, make_user):
    draft = seed()
    client = drafter_client(app, make_user)
    category = review.categories_for(draft)[0]
    db.session.commit()
    response = client.post(
        "/review/drafts/test-draft/bulk",
        data={
            "action": "add_category",
            "scope": "all",
            "category": str(category.id),
            "query": "q=分类",
            "article": "whole",
            "decision": "adopted",
        },
    )
    assert response.status_code == 302
    db.session.expire_all()
    tagged = db.session.scalars(
        db.select(Comment.body).join(Comment.categories).where(Category.id == category.id)
    ).all()
    assert sorted(tagged) == sorted(b for _, _, b in BODIES if "分类" in b)
    # The index follows once the indexer ran: the category facet now filters.
    apply_pending(wait=True)
    page = client.get(f"/review/drafts/test-draft/search?category={category.id}")
    assert "找到 2 条意见" in page.get_data(as_text=True)


def test_exports_obey_the_search_and_are_formula_safe(app, make_user):
    import io

    import openpyxl

    draft = make_draft()
    submit_comment(
        draft,
        CommentInput(
            body='=HYPERLINK("http://x") 分类',
            target="draft",
            name="张三",
            contact="13812341234",
            consent=True,
        ),
        client=ClientInfo("192.0.2.1", "t"),
    )
    db.session.commit()
    apply_pending(wait=True)
    client = drafter_client(app, make_user)
    with job_download(client, "/review/drafts/test-draft/export.xlsx", {"q": "分类"}) as response:
        assert response.status_code == 200
        sheet = openpyxl.load_workbook(io.BytesIO(response.data)).active
    cells = [c.value for row in sheet.iter_rows() for c in row]
    assert any(isinstance(v, str) and v.startswith("'=HYPERLINK") for v in cells)
    assert "13812341234" in cells  # drafters may see contact details
    with job_download(client, "/review/drafts/test-draft/export.csv", {"q": "分类"}) as response:
        assert response.data.startswith(b"\xef\xbb\xbf")


def test_report_downloads(app, make_user):
    import io

    from docx import Document

    seed()
    client = drafter_client(app, make_user)
    with job_download(client, "/review/drafts/test-draft/report.docx") as response:
        assert response.status_code == 200
        text = "\n".join(p.text for p in Document(io.BytesIO(response.data)).paragraphs)
    assert "意见采纳情况说明" in text


def test_clusters_and_one_click_suggestions(app, make_user):
    draft = make_draft()
    letter = "我们坚决反对第二条的规定，要求删除，理由是增加了居民负担，请起草小组认真考虑。"
    for n in range(5):
        submit_comment(
            draft,
            CommentInput(body=letter + "！" * n, target="article-2"),
            client=ClientInfo(f"198.51.100.{n + 1}", "t"),
        )
    other = submit_comment(
        draft,
        CommentInput(body="建议第3条写明期限。", target="draft"),
        client=ClientInfo("203.0.113.1", "t"),
    ).comment
    db.session.commit()
    apply_pending(wait=True)
    client = drafter_client(app, make_user)
    client.post("/review/drafts/test-draft/recluster")
    page = client.get("/review/drafts/test-draft/clusters").get_data(as_text=True)
    assert "5 条雷同意见" in page
    assert "共 6 条意见，合并雷同意见后为 2 条不同意见" in page
    from portal.models import DuplicateCluster

    cluster = db.session.scalar(db.select(DuplicateCluster))
    client.post(
        f"/review/clusters/{cluster.id}/decide",
        data={
            f"cluster{cluster.id}-decision": "not_adopted",
            f"cluster{cluster.id}-response": "经研究未采纳。",
            f"cluster{cluster.id}-publish": "y",
        },
    )
    db.session.expire_all()
    decided = db.session.scalars(
        db.select(Comment.decision).where(Comment.cluster_id == cluster.id)
    ).all()
    assert decided == [Decision.not_adopted] * 5
    search = client.get("/review/drafts/test-draft/search").get_data(as_text=True)
    assert "条款：第三条" in search  # suggested from the text "第3条"
    client.post(f"/review/comments/{other.id}/accept", data={"kind": "article", "value": "3"})
    db.session.expire_all()
    assert db.session.get(Comment, other.id).article_number == 3


def test_search_across_drafts_has_a_draft_facet(app, make_user):
    seed()
    other = make_draft(slug="other-draft")
    submit_comment(
        other,
        CommentInput(body="另一部草案的垃圾分类意见", target="draft"),
        client=ClientInfo("192.0.2.99", "t"),
    )
    db.session.commit()
    apply_pending(wait=True)
    client = drafter_client(app, make_user)
    page = client.get("/review/search?q=垃圾分类").get_data(as_text=True)
    assert "找到 3 条意见" in page
    assert f"draft={other.id}" in page  # the draft facet narrows
    narrowed = client.get(f"/review/search?q=垃圾分类&draft={other.id}").get_data(as_text=True)
    assert "找到 1 条意见" in narrowed


def test_pagination_keeps_the_filters(app, make_user):
    draft = make_draft()
    for n in range(25):
        submit_comment(
            draft,
            CommentInput(body=f"第{n}号关于分类的意见", target="draft"),
            client=ClientInfo(f"198.51.100.{n + 1}", "t"),
        )
    db.session.commit()
    apply_pending(wait=True)
    client = drafter_client(app, make_user)
    first = client.get("/review/drafts/test-draft/search?q=分类&sort=newest").get_data(as_text=True)
    assert "1 / 2" in first
    assert (
        "page=2" in first
        and "sort=newest"
        in first.split("page=2")[0].rsplit("href", 1)[-1] + first.split("page=2")[1].split('"')[0]
    )
    second = client.get("/review/search?q=分类&page=2").get_data(as_text=True)
    assert "2 / 2" in second and "page=1" in second
