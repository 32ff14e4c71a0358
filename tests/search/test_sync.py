"""The outbox: comments reach the index after their transaction, through locks and crashes.

Which jobs each change writes is tested in test_outbox.py; the indexer in test_indexer.py."""

import shutil
import time

import pytest
from sqlalchemy import delete, func, select
from whoosh.writing import SegmentWriter

from portal.comments import services
from portal.extensions import db
from portal.models import (
    Comment,
    CommentStatus,
    Decision,
    IndexJob,
    Role,
    SubmissionStatus,
)
from portal.search import index
from portal.search.index import (
    IndexMissing,
    apply_pending,
    document_for,
    open_index,
    rebuild,
    status,
)
from portal.search.query import SearchParams, search


def found(q: str = "", **filters) -> list[int]:
    return search(SearchParams(q=q, **filters), per_page=100).ids


def pending() -> int:
    db.session.commit()  # a fresh snapshot: the indexer commits in its own session
    return db.session.scalar(select(func.count(IndexJob.id)))


def test_a_comment_is_searchable_after_the_sync_and_its_job_is_gone(app, add_comment):
    open_index()  # the indexer has started: an empty index
    comment = add_comment("垃圾分类设施应当就近设置。", target="article-3")
    assert pending() == 1
    assert found("垃圾分类") == []  # committed, not yet applied

    report = apply_pending()
    assert (report.status, report.jobs, report.indexed, report.deleted) == ("applied", 1, 1, 0)
    assert found("垃圾分类") == [comment.id]
    assert pending() == 0
    assert apply_pending().status == "idle"


def test_the_document_carries_the_facets(app, add_comment, draft):
    comment = add_comment("电梯", target="article-8", district="西湖区", consent=False)
    doc = document_for(comment)
    assert doc["id"] == str(comment.id)
    assert doc["draft"] == str(draft.id)
    assert (doc["article"], doc["chapter"]) == (8, 2)
    assert (doc["stance"], doc["identity"], doc["channel"]) == ("other", "none", "online")
    assert (doc["decision"], doc["status"], doc["district"]) == ("none", "received", "西湖区")
    assert "liaison_point" not in doc
    assert doc["created_at"].tzinfo is None


def test_a_decision_reindexes_the_comment(app, add_comment, make_user):
    comment = add_comment("物业服务费标准应当公示。")
    apply_pending()
    assert found(decision="none") == [comment.id]

    services.record_decision(
        comment,
        actor=make_user(Role.drafter),
        status=CommentStatus.decided,
        decision=Decision.adopted,
        response="已采纳。",
        publish=False,
    )
    db.session.commit()
    assert found(decision="adopted") == []
    apply_pending()
    assert found(decision="adopted") == [comment.id]
    assert found("decision:adopted 物业") == [comment.id]
    assert found(decision="none") == []


def test_the_searcher_is_reused_until_a_commit_and_never_serves_stale_copies(app, add_comment):
    comment = add_comment("小区电梯维修资金使用困难。")
    apply_pending()
    with index.using_searcher() as first:
        pass
    with index.using_searcher() as second:
        assert second is first
    for n in range(3):
        comment.body = f"小区电梯维修资金使用困难，第{n}次修改。"
        db.session.commit()
        apply_pending()
        # Whoosh-Reloaded's Searcher.refresh() would return the old copies as well.
        assert found("电梯") == [comment.id]
        assert found(f"第{n}次") == [comment.id]
    with index.using_searcher() as third:
        assert third is not first


def test_jobs_for_one_comment_collapse_into_one_write(app, add_comment):
    comment = add_comment("停车位应当优先出售给业主。")
    for n in range(2):  # two more transactions, one job each
        comment.body = f"停车位应当优先出售给业主（{n}）。"
        db.session.commit()
    report = apply_pending()
    assert (report.jobs, report.indexed) == (3, 1)
    assert found("停车位") == [comment.id]


def test_a_deleted_comment_leaves_the_index(app, add_comment):
    comment = add_comment("山体保护线范围应当公开。")
    apply_pending()
    assert found("山体") == [comment.id]
    db.session.delete(comment)
    db.session.commit()
    report = apply_pending()
    assert (report.jobs, report.deleted) == (1, 1)
    assert found("山体") == []


def test_a_liaison_batch_is_searchable_only_once_submitted(app, add_liaison_comment):
    comment = add_liaison_comment("座谈会上居民建议增设分类垃圾桶。")
    apply_pending()
    assert found("垃圾桶") == []
    assert pending() == 0
    assert status()["expected"] == 0

    comment.submission.status = SubmissionStatus.submitted
    db.session.commit()
    apply_pending()
    assert found("垃圾桶") == [comment.id]
    assert found(liaison_point=comment.submission.liaison_point.code) == [comment.id]
    assert found(channel="liaison", district="西湖区") == [comment.id]

    # Taken back into draft (e.g. returned for correction): invisible again.
    comment.submission.status = SubmissionStatus.draft
    db.session.commit()
    apply_pending()
    assert found("垃圾桶") == []


def test_a_held_lock_returns_at_once_and_keeps_the_jobs(app, add_comment):
    comment = add_comment("物业费每年都在上涨。")
    other = open_index().writer()  # another process or thread writing
    try:
        started = time.perf_counter()
        report = apply_pending(wait=False)
        assert time.perf_counter() - started < 1.0
        assert report.locked and report.status == "locked" and report.jobs == 0
        assert pending() == 1
    finally:
        other.cancel()
    assert apply_pending().jobs == 1
    assert found("物业费") == [comment.id]
    assert pending() == 0


def test_the_cli_sync_waits_for_the_lock(app, add_comment, monkeypatch):
    add_comment("电梯加装应当征得业主同意。")
    monkeypatch.setattr(index, "LOCK_TIMEOUT", 0.3)
    other = open_index().writer()
    try:
        started = time.perf_counter()
        report = apply_pending(wait=True)
        assert time.perf_counter() - started >= 0.3
        assert report.locked
    finally:
        other.cancel()


def test_a_crash_inside_the_index_write_keeps_the_jobs(app, add_comment, monkeypatch):
    first = add_comment("扬尘污染严重，建议加强工地管理。")

    def broken(self, **fields):
        raise OSError("disk full")

    monkeypatch.setattr(SegmentWriter, "update_document", broken)
    with pytest.raises(OSError):
        apply_pending()
    assert pending() == 1

    monkeypatch.undo()
    assert found("扬尘") == []
    assert apply_pending().jobs == 1  # the lock was released by the failed attempt
    assert found("扬尘") == [first.id]


def test_a_crash_during_the_commit_keeps_the_jobs(app, add_comment, monkeypatch):
    comment = add_comment("秸秆焚烧应当禁止。")

    def broken(self, *args, **kwargs):
        raise OSError("power cut")

    monkeypatch.setattr(SegmentWriter, "commit", broken)
    with pytest.raises(OSError):
        apply_pending()
    monkeypatch.undo()
    assert pending() == 1
    apply_pending()
    assert found("秸秆") == [comment.id]


def test_rebuild_after_the_index_directory_is_lost(app, add_comment, add_liaison_comment):
    comments = [add_comment(f"第{n}条的罚款数额过高。", target=f"article-{n}") for n in (1, 2, 3)]
    add_liaison_comment("罚款数额草稿，未报送。")
    apply_pending()
    assert len(found("罚款")) == 3

    shutil.rmtree(app.config["INDEX_DIR"])
    with pytest.raises(IndexMissing):  # a request never recreates it: the indexer does
        found("罚款")
    later = add_comment("罚款应当分档。")
    assert pending() == 1

    assert rebuild() == 4
    assert sorted(found("罚款")) == sorted([c.id for c in comments] + [later.id])
    assert found(article=2) == [comments[1].id]
    assert pending() == 0
    assert status()["in_sync"]


def test_rebuild_keeps_jobs_that_arrive_during_it(app, add_comment, monkeypatch):
    add_comment("第一条意见。")
    real = index.document_for
    arrived = []

    def document_and_new_job(comment):
        if not arrived:
            arrived.append(add_comment("重建期间提交的意见。"))
        return real(comment)

    monkeypatch.setattr(index, "document_for", document_and_new_job)
    rebuild()
    assert pending() == 1  # the new comment's job survives the rebuild
    monkeypatch.undo()
    apply_pending()
    assert found("重建") == [arrived[0].id]


def test_status_counts(app, add_comment, add_liaison_comment):
    assert status() == {
        "documents": 0,
        "expected": 0,
        "pending": 0,
        "schema_current": True,
        "in_sync": True,
    }
    add_comment("一")
    add_comment("二")
    add_liaison_comment("未报送的意见")
    add_liaison_comment("已报送的意见", submitted=True)
    info = status()
    # No job for the batch still being prepared: nobody searches it.
    assert (info["documents"], info["expected"], info["pending"]) == (0, 3, 3)
    assert not info["in_sync"]
    apply_pending()
    info = status()
    assert (info["documents"], info["expected"], info["pending"]) == (3, 3, 0)
    assert info["in_sync"]
    # A row removed behind the outbox's back (raw SQL on the connection) shows up as a
    # difference, with no job pending.
    first = db.session.scalars(select(Comment.id).limit(1)).one()
    db.session.connection().execute(delete(Comment.__table__).where(Comment.id == first))
    db.session.commit()
    info = status()
    assert (info["documents"], info["expected"], info["pending"]) == (3, 2, 0)
    assert not info["in_sync"]


def test_rebuild_reads_every_visible_opinion_once_in_windows_of_ids(
    app, add_comment, add_liaison_comment
):
    """Batches are id windows: gaps (deleted opinions), windows with nothing visible and the
    last partial window are all handled."""
    from sqlalchemy.orm import Session

    from portal.search.index import iter_documents

    visible = [add_comment(f"意见{i}").id for i in range(7)]
    hidden = add_liaison_comment("草稿批次里的意见").id
    visible.append(add_liaison_comment("已报送的意见", submitted=True).id)
    gone = db.session.get(Comment, visible.pop(2))
    db.session.delete(gone)
    db.session.commit()
    with Session(db.engine) as session:
        batches = list(iter_documents(session, batch_size=3))
    ids = [int(doc["id"]) for batch in batches for doc in batch]
    assert ids == sorted(visible) and hidden not in ids
    assert all(0 < len(batch) <= 3 for batch in batches)


def test_an_index_with_an_old_schema_is_rebuilt(app, add_comment):
    add_comment("山体保护")
    apply_pending()
    marker = open_index().storage.folder + "/portal-schema-version"
    with open(marker, "w", encoding="utf-8") as fh:
        fh.write("0\n")
    info = status()
    assert not info["schema_current"] and not info["in_sync"]
    assert rebuild() == 1
    assert status()["in_sync"]
    assert found("山体") != []


def test_the_python_and_sql_visibility_rules_agree(app, draft, add_comment, add_liaison_comment):
    from portal.models import Channel
    from portal.search.index import indexable_clause, is_indexable

    add_comment("网上意见")
    add_liaison_comment("草稿批次")
    add_liaison_comment("已报送", submitted=True)
    odd = Comment(draft=draft, body="没有批次的联系点意见", channel=Channel.liaison)
    db.session.add(odd)
    db.session.commit()
    rows = db.session.scalars(select(Comment)).all()
    in_sql = set(db.session.scalars(select(Comment.id).where(indexable_clause())))
    assert {c.id for c in rows if is_indexable(c)} == in_sql
    assert len(in_sql) == 3


def test_browsing_and_facets_follow_every_commit(app, add_comment):
    """The cached columns belong to one searcher: a commit (an update, a deletion) is seen by
    the next search, with and without text."""
    first = add_comment("电梯加装。", target="article-2")
    second = add_comment("电梯维修。", target="article-3")
    apply_pending()
    result = search(SearchParams(), per_page=100)
    assert (result.total, dict(result.facets["article"])) == (2, {2: 1, 3: 1})

    first_id = first.id
    first.article_number = 3
    db.session.delete(second)
    db.session.commit()
    apply_pending()
    for q in ("", "电梯"):
        result = search(SearchParams(q=q), per_page=100)
        assert (result.total, result.ids) == (1, [first_id])
        assert dict(result.facets["article"]) == {3: 1}
    assert found(article=2) == []
