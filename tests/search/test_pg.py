"""The PostgreSQL search backend (portal/search/pg.py): its documents, its query compiler, and
the outbox's promises checked against every engine the database offers.

On PostgreSQL (DATABASE_URL) the tests that take an app run once per engine (tests/conftest.py
parametrizes search_backend); on SQLite they run against Whoosh alone.
"""

from __future__ import annotations

import pytest
from sqlalchemy import func, insert, select, text
from sqlalchemy.dialects import postgresql

from portal.comments import services
from portal.extensions import db
from portal.models import CommentStatus, Decision, IndexAction, IndexJob, Role, SubmissionStatus
from portal.search import SearchParams, get_backend
from portal.search.backend import backend_name
from portal.search.pg import compile_query, tsquery_phrase, tsvector_text
from portal.search.query import parse_query

# -- documents and queries, no database -----------------------------------------------------


def test_the_tsvector_holds_the_analyzers_tokens_and_positions():
    assert tsvector_text("垃圾分类") == "'垃':1 '垃圾':1 '圾':2 '圾分':2 '分':3 '分类':3 '类':4"
    # Article references are one token too; a quote in a lexeme is doubled.
    assert tsvector_text("Don't 第12条").startswith("'don''t':1 '第十二条':2 '第':2 '第十':2")


def test_the_quote_follows_the_body_after_a_gap():
    # 梯 at 2, 加 at 5: no phrase can run from the opinion into its quote.
    assert tsvector_text("电梯", "加装") == "'电':1 '电梯':1 '梯':2 '加':5 '加装':5 '装':6"
    assert tsvector_text("", "加装") == "'加':1 '加装':1 '装':2"
    assert tsvector_text("", "") == ""


def _sql(compiled) -> str:
    return str(
        compiled.condition.compile(
            dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True}
        )
    )


def _tsqueries(compiled) -> list[str]:
    params = compiled.condition.compile(dialect=postgresql.dialect()).params
    return [value for value in params.values() if isinstance(value, str)]


def test_text_compiles_into_one_tsquery_with_phrases():
    compiled = compile_query(parse_query("垃圾分类 -座谈会"))
    assert _sql(compiled).count("@@") == 1
    assert _tsqueries(compiled) == ["(('垃圾' <-> '圾分' <-> '分类')) & !(('座谈' <-> '谈会'))"]
    # Only words that are not negated rank.
    assert compiled.rank == "('垃圾' <-> '圾分' <-> '分类')"
    assert tsquery_phrase(["don't", "x"]) == "'don''t' <-> 'x'"


def test_synonyms_and_facet_terms_compile_to_sql():
    compiled = compile_query(parse_query("物业费 stance:oppose OR article:12"))
    sql = _sql(compiled)
    (tsquery,) = [q for q in _tsqueries(compiled) if "<->" in q]
    for fragment in ("'物业' <-> '业费'", "'服务' <-> '务费'", "'管理' <-> '理费'"):
        assert fragment in tsquery
    assert "comment_search.stance = 'oppose'" in sql
    assert "comment_search.article >= 12 AND comment_search.article <= 12" in sql
    assert _sql(compile_query(parse_query("draft:abc"))) == "false"
    assert _sql(compile_query(None)) == "true"


def test_the_database_chooses_the_engine_unless_configured():
    assert backend_name({"SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://u@h/db"}) == "postgres"
    assert backend_name({"SQLALCHEMY_DATABASE_URI": "sqlite:///x.db"}) == "whoosh"
    assert (
        backend_name({"SQLALCHEMY_DATABASE_URI": "postgresql://h/db", "SEARCH_BACKEND": "whoosh"})
        == "whoosh"
    )
    assert backend_name({"SEARCH_BACKEND": "", "SQLALCHEMY_DATABASE_URI": ""}) == "whoosh"


def test_the_environment_sets_the_engine(monkeypatch):
    from portal.config import apply_environment

    config: dict = {}
    apply_environment(config, {"PORTAL_SEARCH_BACKEND": "postgres"})
    assert config["SEARCH_BACKEND"] == "postgres"


# -- against every engine -------------------------------------------------------------------


def found(q: str = "", **filters) -> list[int]:
    return get_backend().search(SearchParams(q=q, **filters), per_page=100).ids


def pending() -> int:
    return db.session.scalar(select(func.count(IndexJob.id)))


def documents() -> int:
    return db.session.scalar(text("SELECT count(*) FROM comment_search"))


def test_an_opinion_is_searchable_when_its_transaction_commits(app, add_comment, search_backend):
    comment = add_comment("垃圾分类设施应当就近设置。", target="article-3")
    if search_backend == "postgres":
        # Written with the opinion, in its transaction: nothing left for an indexer.
        assert (found("垃圾分类"), pending(), documents()) == ([comment.id], 0, 1)
    else:
        assert pending() == 1  # the indexer's job, after the commit
    get_backend().apply_pending()
    assert found("垃圾分类") == [comment.id]
    assert found("设施", article=3) == [comment.id]
    assert pending() == 0


def test_a_rolled_back_opinion_leaves_no_trace(app, draft, search_backend):
    from portal.comments.services import ClientInfo, CommentInput

    services.submit_comment(draft, CommentInput(body="撤回的意见"), client=ClientInfo("192.0.2.1"))
    db.session.flush()
    db.session.rollback()
    get_backend().apply_pending()
    assert (found("撤回"), pending(), documents()) == ([], 0, 0)


def test_changes_and_deletions_follow(app, add_comment, make_user, search_backend):
    comment = add_comment("物业服务费标准应当公示。")
    other = add_comment("小区电梯维修。")
    services.record_decision(
        comment,
        actor=make_user(Role.drafter),
        status=CommentStatus.decided,
        decision=Decision.adopted,
        response="已采纳。",
        publish=False,
    )
    db.session.delete(other)
    db.session.commit()
    get_backend().apply_pending()
    assert found(decision="adopted") == [comment.id]
    assert found("decision:adopted 物业") == [comment.id]
    assert found(decision="none") == []
    assert found("电梯") == []
    assert get_backend().status()["in_sync"]


def test_a_liaison_batch_is_searchable_once_submitted(app, add_liaison_comment, search_backend):
    comment = add_liaison_comment("座谈会上居民建议增设分类垃圾桶。")
    get_backend().apply_pending()
    assert found("垃圾桶") == []
    comment.submission.status = SubmissionStatus.submitted
    db.session.commit()
    get_backend().apply_pending()
    assert found("垃圾桶") == [comment.id]
    assert found(liaison_point=comment.submission.liaison_point.code, district="西湖区") == [
        comment.id
    ]
    comment.submission.status = SubmissionStatus.draft
    db.session.commit()
    get_backend().apply_pending()
    assert found("垃圾桶") == []


def test_leftover_jobs_are_applied_and_deleted(app, add_comment, search_backend):
    """Jobs no transaction applied (written by hand, or before a switch of engine) wait for
    apply_pending, which writes the documents and deletes the jobs."""
    comment = add_comment("秸秆焚烧应当禁止。")
    get_backend().apply_pending()
    db.session.execute(text("DELETE FROM comment_search"))
    db.session.execute(
        insert(IndexJob), [{"comment_id": comment.id, "action": IndexAction.upsert}] * 2
    )
    db.session.commit()
    report = get_backend().apply_pending()
    assert (report.jobs, report.indexed, report.deleted) == (2, 1, 0)
    assert found("秸秆") == [comment.id]
    assert pending() == 0


def test_rebuild_and_status(app, add_comment, add_liaison_comment, search_backend):
    first = add_comment("第1条的罚款数额过高。", target="article-1")
    second = add_comment("罚款应当分档。")
    add_liaison_comment("罚款数额草稿，未报送。")
    get_backend().apply_pending()
    if search_backend == "postgres":
        db.session.execute(text("DELETE FROM comment_search"))
        db.session.commit()
        info = get_backend().status()
        assert (info["documents"], info["expected"], info["in_sync"]) == (0, 2, False)
    assert get_backend().rebuild() == 2
    assert sorted(found("罚款")) == sorted([first.id, second.id])
    assert found(article=1) == [first.id]
    assert get_backend().status() == {
        "documents": 2,
        "expected": 2,
        "pending": 0,
        "schema_current": True,
        "in_sync": True,
    }


def test_a_phrase_never_spans_the_opinion_and_its_quote(app, add_comment, search_backend):
    comment = add_comment("建议增设电", quote="梯间的照明")
    get_backend().apply_pending()
    assert found("增设电") == [comment.id]
    assert found("梯间") == [comment.id]
    assert found("电梯") == []


def test_count_and_matching_ids_agree_with_the_page(app, add_comment, search_backend):
    for n in range(5):
        add_comment(f"第{n}号关于分类的意见")
    get_backend().apply_pending()
    backend = get_backend()
    params = SearchParams(q="分类", sort="oldest")
    page = backend.search(params, per_page=3)
    assert page.total == backend.count(params) == 5
    assert backend.matching_ids(params)[:3] == page.ids
    assert backend.matching_ids(params, limit=2) == page.ids[:2]
    assert backend.search(params, page=2, per_page=3).ids == backend.matching_ids(params)[3:]


@pytest.mark.parametrize("q", ["'", "\\", "''", "a'b", "!", "<->", "&|", ":*", "(("])
def test_tsquery_syntax_in_the_query_is_only_text(app, add_comment, search_backend, q):
    add_comment("a'b 与 ! 以及 <-> 和 &| :*")
    get_backend().apply_pending()
    assert get_backend().search(SearchParams(q=q)).total >= 0
