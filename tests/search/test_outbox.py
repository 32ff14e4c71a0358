"""The outbox (portal/search/outbox.py): every change to an opinion's search document writes
exactly one job in its transaction, whatever path made it; nothing else writes jobs, and no
request touches the index."""

from __future__ import annotations

import shutil
from datetime import date

import pytest
from flask import current_app
from sqlalchemy import delete, insert, select, update
from whoosh.index import FileIndex

from portal.comments import services
from portal.extensions import db
from portal.liaison import services as liaison
from portal.liaison.services import OpinionData
from portal.models import (
    Category,
    Comment,
    CommentStatus,
    Decision,
    IndexJob,
    LiaisonPoint,
    Role,
    Stance,
    Submission,
    SubmissionStatus,
)
from portal.models.review import comment_categories
from portal.review import services as review
from portal.search import SearchParams, index
from portal.search import backend as search_backend
from portal.search.outbox import IDS_KEY, OutboxError
from tests.comments.test_views import post_comment

META = {
    "method": "forum",
    "held_on": date(2026, 11, 20),
    "place": "社区会议室",
    "participants": 12,
    "participants_residents": 8,
    "participants_experts": 2,
    "participants_other": 2,
}


def take_jobs() -> list[tuple[int, str]]:
    """The jobs written since the last call, as (comment id, action) in order; then empties
    the outbox (behind its back, on the connection) for the next step."""
    db.session.commit()
    rows = db.session.execute(
        select(IndexJob.comment_id, IndexJob.action).order_by(IndexJob.id)
    ).all()
    db.session.connection().execute(delete(IndexJob.__table__))
    db.session.commit()
    return [(comment_id, str(action)) for comment_id, action in rows]


def upserts(*comments) -> list[tuple[int, str]]:
    return [(c if isinstance(c, int) else c.id, "upsert") for c in comments]


@pytest.fixture
def drafter(make_user):
    return make_user(Role.drafter)


@pytest.fixture
def three(add_comment):
    made = [add_comment(f"第{n}条意见：垃圾分类。", target=f"article-{n}") for n in (1, 2, 3)]
    take_jobs()
    return made


# --- one job per change, by every path ---------------------------------------------------


def test_a_new_opinion_through_the_service_has_one_job(app, add_comment):
    comment = add_comment("垃圾分类设施应当就近设置。")
    assert take_jobs() == upserts(comment)
    assert IDS_KEY not in db.session.info  # forgotten with its transaction


def test_a_new_opinion_through_the_form_and_the_api_has_one_job(app, client, draft):
    response = post_comment(client, slug=draft.slug, target="article-2")
    assert response.status_code == 302
    api = client.post(
        f"/api/v1/drafts/{draft.slug}/comments", json={"body": "接口提交的意见。", "article": 3}
    )
    assert api.status_code == 201
    ids = db.session.scalars(select(Comment.id).order_by(Comment.id)).all()
    assert len(ids) == 2
    assert take_jobs() == upserts(*ids)


def test_a_decision_writes_one_job_and_a_reply_alone_none(app, three, drafter):
    first, second, _ = three
    services.record_decision(
        first,
        actor=drafter,
        status=CommentStatus.decided,
        decision=Decision.adopted,
        response="已采纳。",
        publish=False,
    )
    services.set_published(first, True, drafter)
    assert take_jobs() == upserts(first)
    # What the document does not read (the reply's text, publication) writes no job.
    second.response = "谢谢。"
    second.published = True
    assert take_jobs() == []


def test_a_decision_through_the_workbench_writes_one_job(app, client, login, three, drafter):
    login(drafter)
    response = client.post(
        f"/review/comments/{three[1].id}",
        data={"status": "decided", "decision": "adopted", "response": "采纳。"},
    )
    assert response.status_code == 302
    assert take_jobs() == upserts(three[1])


def test_bulk_decide_and_categorize_write_one_job_per_changed_opinion(app, three, draft, drafter):
    category = Category(draft_id=draft.id, name="垃圾分类")
    db.session.add(category)
    three[0].categories.append(category)
    db.session.commit()
    take_jobs()

    result = review.add_category(three, category, drafter)
    assert (result.changed, result.skipped) == (2, 1)
    assert take_jobs() == upserts(three[1], three[2])

    review.decide(
        three, decision=Decision.not_adopted, response="不采纳。", publish=True, actor=drafter
    )
    review.remove_category(three[:2], category, drafter)
    assert take_jobs() == upserts(*three)  # one per opinion, though changed twice


def test_accepting_a_suggested_category_or_article_writes_a_job(app, three, draft, drafter):
    from portal.review import suggest

    category = Category(draft_id=draft.id, name="收费")
    db.session.add(category)
    db.session.commit()
    assert suggest.accept_category(three[0], category, drafter)
    assert suggest.accept_article(three[1], 7, drafter)
    assert take_jobs() == upserts(three[0], three[1])
    assert (three[1].article_number, three[1].chapter.number) == (7, 2)


def test_merging_categories_writes_jobs_for_the_moved_opinions_only(app, three, draft, drafter):
    source = Category(draft_id=draft.id, name="垃圾")
    target = Category(draft_id=draft.id, name="垃圾分类")
    db.session.add_all([source, target])
    three[0].categories.append(source)
    three[1].categories.extend([source, target])
    three[2].categories.append(target)
    db.session.commit()
    take_jobs()

    assert review.merge_categories(source, target, drafter) == 2
    assert take_jobs() == upserts(three[0], three[1])
    assert {c.id for c in target.comments} == {c.id for c in three}


def test_a_deleted_category_rewrites_its_opinions(app, three, draft):
    category = Category(draft_id=draft.id, name="临时")
    db.session.add(category)
    three[2].categories.append(category)
    db.session.commit()
    take_jobs()
    db.session.delete(category)
    assert take_jobs() == upserts(three[2])


def test_deleting_an_opinion_writes_a_delete_job(app, three):
    comment_id = three[1].id
    db.session.delete(three[1])
    assert take_jobs() == [(comment_id, "delete")]


def test_a_liaison_batch_has_jobs_only_once_submitted(app, draft, make_point, make_user):
    point = make_point(code="JZ-T01", district="西湖区")
    staff = make_user(Role.liaison, point=point)
    batch = liaison.create_submission(point, draft, META, staff)
    made = liaison.add_opinions(
        batch, [OpinionData(body="第一条意见"), OpinionData(body="第二条意见")], staff
    )
    liaison.update_opinion(made[1], OpinionData(body="第二条意见，改过。"))
    extra = liaison.add_opinions(batch, [OpinionData(body="多余的意见")], staff)[0]
    liaison.delete_opinion(extra)
    assert take_jobs() == []  # the point's own work in progress: nobody searches it

    liaison.submit(batch, staff)
    assert take_jobs() == upserts(*made)

    # The point's code and district are facets of its opinions.
    point.district = "上城区"
    assert take_jobs() == upserts(*made)
    point.name = "改名的联系点"
    assert take_jobs() == []


def test_a_liaison_batch_submitted_through_the_page_has_its_jobs(
    app, client, login, draft, make_point, make_user
):
    point = make_point(code="JZ-T02")
    staff = make_user(Role.liaison, point=point)
    batch = liaison.create_submission(point, draft, META, staff)
    made = liaison.add_opinions(batch, [OpinionData(body="座谈会意见")], staff)
    db.session.commit()
    take_jobs()
    login(staff)
    response = client.post(f"/liaison/submissions/{batch.id}/submit")
    assert response.status_code == 302
    assert take_jobs() == upserts(*made)


def test_autoflushed_changes_are_not_missed(app, draft, three):
    """microblog's before_commit hook misses objects an autoflush already flushed: a query
    between the change and the commit flushes it, and the session then looks clean."""
    new = Comment(draft=draft, body="自动刷新前的新意见。")
    db.session.add(new)
    three[0].stance = Stance.oppose
    db.session.scalar(select(Comment.id).where(Comment.body == "不存在"))  # autoflush
    assert not db.session.new and not db.session.dirty
    three[0].stance = Stance.support  # changed again after the autoflush: still one job
    db.session.execute(select(Comment.id)).all()
    assert take_jobs() == upserts(three[0], new)


def test_a_rolled_back_transaction_and_savepoint_leave_no_jobs(app, three):
    three[0].body = "改了又撤回。"
    db.session.flush()
    db.session.rollback()
    assert take_jobs() == []
    assert IDS_KEY not in db.session.info

    savepoint = db.session.begin_nested()
    three[1].body = "保存点里的修改。"
    db.session.flush()
    savepoint.rollback()
    three[1].body = "保存点之后的修改。"  # the job from the savepoint went with it
    assert take_jobs() == upserts(three[1])


def test_the_backend_gets_the_transactions_opinions_before_the_commit(app, three, monkeypatch):
    calls = []

    class Recording(search_backend.WhooshBackend):
        def apply_in_transaction(self, session, comment_ids):
            pending = session.scalars(select(IndexJob.comment_id)).all()
            calls.append((set(comment_ids), sorted(pending)))

    monkeypatch.setitem(search_backend.BACKENDS, "recording", Recording)
    monkeypatch.setitem(current_app.config, "SEARCH_BACKEND", "recording")
    three[0].body = "第一次修改。"
    db.session.flush()
    three[2].body = "提交时才刷新的修改。"  # flushed by commit, after before_commit began
    db.session.commit()
    assert calls == [({three[0].id, three[2].id}, sorted([three[0].id, three[2].id]))]
    db.session.commit()  # nothing changed: not called
    assert len(calls) == 1


# --- bulk statements -----------------------------------------------------------------------


def test_a_bulk_update_writes_jobs_for_the_opinions_it_changes(app, three, draft):
    db.session.execute(
        update(Comment).where(Comment.article_number >= 2).values(stance=Stance.amend)
    )
    assert take_jobs() == upserts(three[1], three[2])
    # Columns the document does not read: no jobs.
    db.session.execute(update(Comment).values(published=True))
    assert take_jobs() == []
    # By primary key (ORM bulk UPDATE with a list of rows).
    db.session.execute(update(Comment), [{"id": three[0].id, "body": "整体改写。"}])
    assert take_jobs() == upserts(three[0])


def test_a_bulk_delete_writes_delete_jobs(app, three):
    gone = three[0].id
    db.session.execute(delete(Comment).where(Comment.id == gone))
    assert take_jobs() == [(gone, "delete")]


def test_bulk_statements_on_categories_and_batches_are_followed(app, three, draft, make_point):
    category = Category(draft_id=draft.id, name="批量")
    db.session.add(category)
    db.session.commit()
    db.session.execute(
        insert(comment_categories),
        [{"comment_id": c.id, "category_id": category.id} for c in three[:2]],
    )
    assert take_jobs() == upserts(three[0], three[1])
    db.session.execute(
        delete(comment_categories).where(comment_categories.c.comment_id == three[0].id)
    )
    assert take_jobs() == upserts(three[0])

    point = make_point(code="JZ-B01")
    batch = Submission(liaison_point=point, draft=draft, status=SubmissionStatus.draft)
    inside = Comment(draft=draft, body="批次里的意见。", submission=batch)
    db.session.add_all([batch, inside])
    assert take_jobs() == []
    db.session.execute(
        update(Submission)
        .where(Submission.id == batch.id)
        .values(status=SubmissionStatus.submitted)
    )
    assert take_jobs() == upserts(inside)
    db.session.execute(update(LiaisonPoint).values(district="滨江区"))
    assert take_jobs() == upserts(inside)


def test_statements_the_outbox_cannot_follow_are_refused(app, three, draft):
    with pytest.raises(OutboxError, match="bulk INSERT into comments"):
        db.session.execute(insert(Comment), [{"draft_id": draft.id, "body": "绕过"}])
    category = Category(draft_id=draft.id, name="批量")
    db.session.add(category)
    db.session.flush()
    from_select = insert(comment_categories).from_select(
        ["comment_id", "category_id"], select(Comment.id, category.id)
    )
    with pytest.raises(OutboxError, match="comment_categories"):
        db.session.execute(from_select)
    db.session.rollback()
    assert db.session.scalar(select(Comment.id).where(Comment.body == "绕过")) is None
    assert take_jobs() == []


def test_reclustering_writes_no_jobs(app, draft, add_comment):
    """The cluster is not part of the search document."""
    from portal.review.clustering import recluster_draft

    for _ in range(3):
        add_comment("建议所有小区统一设置垃圾分类投放点，方便居民投放。")
    take_jobs()
    report = recluster_draft(draft.id)
    assert report.clustered == 3
    assert take_jobs() == []


# --- requests never touch the index --------------------------------------------------------


def test_posting_an_opinion_does_not_touch_the_index(app, client, draft, index_now, monkeypatch):
    add = post_comment(client, slug=draft.slug, body="第一条意见，先进入索引。")
    assert add.status_code == 302
    index_now()
    ix = index.open_index()
    generation, documents = ix.latest_generation(), ix.doc_count()

    writers = []
    real_writer = index._writer
    monkeypatch.setattr(index, "_writer", lambda *a, **k: writers.append(a) or real_writer(*a, **k))
    monkeypatch.setattr(index, "_create", lambda *a, **k: writers.append(a))
    monkeypatch.setattr(FileIndex, "writer", lambda *a, **k: writers.append(a))
    response = post_comment(client, slug=draft.slug, body="第二条意见，请求不写索引。")
    assert response.status_code == 302
    api = client.post(f"/api/v1/drafts/{draft.slug}/comments", json={"body": "接口意见。"})
    assert api.status_code == 201
    assert writers == []
    assert (ix.latest_generation(), ix.doc_count()) == (generation, documents)
    assert index.status()["pending"] == 2
    monkeypatch.undo()

    report = index_now()
    assert (report.jobs, report.indexed) == (2, 2)
    assert index.open_index().doc_count() == documents + 2


def test_a_search_page_without_an_index_is_a_503_and_creates_nothing(
    app, client, login, drafter, add_comment
):
    add_comment("垃圾分类")
    shutil.rmtree(current_app.config["INDEX_DIR"])  # before the indexer's first start
    login(drafter)
    response = client.get("/review/search?q=垃圾")
    assert response.status_code == 503
    assert "网站正忙" in response.get_data(as_text=True)
    with pytest.raises(index.IndexMissing):
        search_backend.get_backend().search(SearchParams(q="垃圾"))
    assert not index.index_exists()
