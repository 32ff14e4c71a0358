"""The workbench without the search index: categories, bulk actions, clause review, stats."""

import pytest

from portal.comments.services import ClientInfo, CommentInput, submit_comment
from portal.extensions import db
from portal.models import AuditEntry, Category, Comment, Decision, IndexJob, Role, Stance
from portal.review import services as review
from tests.conftest import PASSWORD
from tests.drafts.test_views import make_draft


def opinions(draft, *specs):
    made = []
    for n, (target, stance, body) in enumerate(specs):
        data = CommentInput(body=body, stance=Stance(stance), target=target)
        made.append(submit_comment(draft, data, client=ClientInfo(f"192.0.2.{n + 1}", "t")).comment)
    db.session.commit()
    return made


def staff_client(app, make_user, role=Role.drafter):
    user = make_user(role)
    client = app.test_client()
    client.post("/login", data={"login": user.email, "password": PASSWORD})
    return client, user


def test_default_categories_then_extend_rename_merge(app, make_user):
    draft = make_draft()
    drafter = make_user(Role.drafter)
    names = [c.name for c in review.categories_for(draft)]
    assert names[:3] == ["立法必要性", "总体意见", "条款修改"] and len(names) == 9
    extra = review.save_category(draft, None, name="停车管理", keywords="停车、车位", actor=drafter)
    with pytest.raises(review.ReviewError):
        review.save_category(draft, None, name="停车管理", actor=drafter)
    review.save_category(draft, extra, name="停车位管理", keywords="停车,车位", actor=drafter)
    [a, b] = opinions(draft, ("article-1", "amend", "一"), ("article-2", "amend", "二"))
    wording = next(c for c in review.categories_for(draft) if c.name == "文字表述")
    review.add_category([a, b], extra, drafter)
    review.add_category([a], wording, drafter)
    moved = review.merge_categories(extra, wording, drafter)
    db.session.commit()
    assert moved == 2
    assert db.session.get(Category, extra.id) is None
    assert {c.name for c in a.categories} == {"文字表述"} and [c.name for c in b.categories] == [
        "文字表述"
    ]
    actions = set(db.session.scalars(db.select(AuditEntry.action)))
    assert {"category.created", "category.updated", "category.merged"} <= actions


def test_bulk_actions_record_audit_and_index(app, make_user):
    draft = make_draft()
    drafter = make_user(Role.drafter)
    items = opinions(draft, ("draft", "amend", "建议第二条写明期限"), ("draft", "oppose", "反对"))
    before_jobs = db.session.scalar(db.select(db.func.count(IndexJob.id)))
    result = review.set_article(items[:1], draft, 2, drafter)
    assert (result.changed, items[0].article_number, items[0].chapter.number) == (1, 2, 1)
    with pytest.raises(review.ReviewError):
        review.set_article(items, draft, 99, drafter)
    result = review.decide(
        items, decision=Decision.not_adopted, response="已研究。", publish=True, actor=drafter
    )
    assert result.changed == 2 and all(c.decision == Decision.not_adopted for c in items)
    merged = review.merge_into(
        items[1:], items[0], response="与第 1 条合并处理。", publish=True, actor=drafter
    )
    db.session.commit()
    assert merged.changed == 1
    assert items[1].decision == Decision.merged and items[1].merged_into_id == items[0].id
    assert db.session.scalar(db.select(db.func.count(IndexJob.id))) > before_jobs


def test_bulk_endpoint_on_selection(app, make_user):
    draft = make_draft()
    items = opinions(
        draft,
        ("article-1", "amend", "一"),
        ("article-2", "amend", "二"),
        ("article-3", "amend", "三"),
    )
    client, _ = staff_client(app, make_user)
    category = review.categories_for(draft)[5]
    db.session.commit()
    response = client.post(
        "/review/drafts/test-draft/bulk",
        data={
            "action": "add_category",
            "scope": "selected",
            "category": str(category.id),
            "ids": [str(items[0].id), str(items[2].id)],
            "query": "q=&sort=newest",
            "article": "whole",
            "decision": "adopted",
        },
    )
    assert response.status_code == 302
    assert "sort=newest" in response.headers["Location"]
    db.session.expire_all()
    tagged = db.session.scalars(
        db.select(Comment.id).join(Comment.categories).where(Category.id == category.id)
    ).all()
    assert sorted(tagged) == [items[0].id, items[2].id]


def test_bulk_decide_with_template(app, make_user):
    draft = make_draft()
    items = opinions(draft, ("article-1", "amend", "一"))
    client, drafter = staff_client(app, make_user)
    template = review.save_template(
        draft, title="感谢", body="感谢您的意见，已研究采纳。", actor=drafter
    )
    db.session.commit()
    client.post(
        "/review/drafts/test-draft/bulk",
        data={
            "action": "decide",
            "scope": "selected",
            "decision": "adopted",
            "template": str(template.id),
            "publish": "y",
            "ids": [str(items[0].id)],
            "article": "whole",
            "query": "",
        },
    )
    db.session.expire_all()
    comment = db.session.get(Comment, items[0].id)
    assert comment.decision == Decision.adopted
    assert comment.response == "感谢您的意见，已研究采纳。"
    assert comment.response_published_at is not None


def test_bulk_cannot_touch_other_drafts_or_hidden_batches(app, make_user, make_point):
    from portal.liaison import services as liaison

    draft = make_draft()
    other = make_draft(slug="other-draft")
    [foreign] = opinions(other, ("draft", "amend", "别的草案"))
    point = make_point()
    staff = make_user(Role.liaison, point=point)
    from datetime import date

    batch = liaison.create_submission(point, draft, {"held_on": date(2026, 11, 1)}, staff)
    [hidden] = liaison.add_opinions(batch, [liaison.OpinionData(body="未报送")], staff)
    db.session.commit()
    client, _ = staff_client(app, make_user)
    response = client.post(
        "/review/drafts/test-draft/bulk",
        data={
            "action": "decide",
            "scope": "selected",
            "decision": "adopted",
            "response": "x",
            "ids": [str(foreign.id), str(hidden.id)],
            "article": "whole",
            "query": "",
        },
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Comment, foreign.id).decision is None
    assert db.session.get(Comment, hidden.id).decision is None


def test_clause_review_groups_and_steps(app, make_user):
    draft = make_draft()
    drafter = make_user(Role.drafter)
    items = opinions(
        draft,
        ("article-2", "amend", "修改意见"),
        ("article-2", "oppose", "反对意见"),
        ("article-2", "amend", "另一条修改"),
        ("draft", "support", "总体赞成"),
    )
    review.add_category(items[:1], review.categories_for(draft)[5], drafter)
    db.session.commit()
    view = review.clause_review(draft, 2)
    assert view.total == 3 and view.previous == 1 and view.next == 3
    assert [g.stance.value for g in view.groups] == ["oppose", "amend"]
    amend = view.groups[1]
    assert amend.count == 2 and amend.by_category[0][0] == "文字表述"
    whole = review.clause_review(draft, None)
    assert whole.total == 1 and whole.previous is None and whole.next == 1
    client, _ = staff_client(app, make_user)
    page = client.get("/review/drafts/test-draft/articles/2").get_data(as_text=True)
    assert "修改意见" in page and "反对意见" in page and "总体赞成" not in page
    assert 'data-key-next href="/review/drafts/test-draft/articles/3"' in page
    assert client.get("/review/drafts/test-draft/articles/99").status_code == 404


def test_stats_and_charts(app, make_user):
    draft = make_draft()
    opinions(
        draft,
        ("article-2", "amend", "一"),
        ("article-2", "oppose", "二"),
        ("draft", "support", "三"),
    )
    stats = review.draft_stats(draft)
    assert stats.total == 3 and stats.max_per_article == 2
    assert dict(stats.by_stance) == {"amend": 1, "oppose": 1, "support": 1}
    client, _ = staff_client(app, make_user)
    page = client.get("/review/drafts/test-draft/stats").get_data(as_text=True)
    assert "heat-5" in page and "查看数据" in page
    for name in ("by_day", "by_channel", "by_stance", "by_identity", "by_decision", "by_point"):
        svg = client.get(f"/review/drafts/test-draft/charts/{name}.svg")
        assert svg.status_code == 200, name
        assert svg.mimetype == "image/svg+xml"
        # pygal embeds a config script; the image's own policy lets no script run.
        policy = svg.headers["Content-Security-Policy"]
        assert "default-src 'none'" in policy and "script-src" not in policy
    assert client.get("/review/drafts/test-draft/charts/nope.svg").status_code == 404


@pytest.mark.parametrize("role", [Role.citizen, Role.liaison])
def test_workbench_is_for_staff_only(app, make_user, make_point, role):
    make_draft()
    user = make_user(role, point=make_point() if role == Role.liaison else None)
    client = app.test_client()
    client.post("/login", data={"login": user.email, "password": PASSWORD})
    for url in (
        "/review/",
        "/review/drafts/test-draft/search",
        "/review/drafts/test-draft/categories",
        "/review/drafts/test-draft/articles/1",
        "/review/drafts/test-draft/stats",
        "/review/drafts/test-draft/charts/by_day.svg",
        "/review/drafts/test-draft/export.xlsx",
        "/review/drafts/test-draft/report.docx",
    ):
        assert client.get(url).status_code == 403, url
    for url in (
        "/review/drafts/test-draft/bulk",
        "/review/drafts/test-draft/export.xlsx",
        "/review/drafts/test-draft/report.docx",
        "/review/drafts/test-draft/recluster",
    ):
        assert client.post(url, data={}).status_code == 403, url
