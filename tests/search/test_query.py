"""Searching: the query syntax, every filter, facets, sorting, pages and safe snippets."""

from datetime import timedelta

import pytest

from portal.comments import services
from portal.extensions import db
from portal.models import Category, CommentStatus, Decision, Identity, Role, Stance, utcnow
from portal.search.index import apply_pending
from portal.search.query import SearchParams, parse_query, search
from tests.drafts.test_views import make_draft


@pytest.fixture
def corpus(app, draft, add_comment, add_liaison_comment, make_point, make_user):
    """Seven opinions with different facets; returns them by a short name."""
    c = {}
    c["sorting"] = add_comment(
        "建议加快推进垃圾分类。<script>alert(1)</script>",
        target="article-3",
        stance=Stance.amend,
        identity=Identity.resident,
        district="上城区",
    )
    c["fee"] = add_comment(
        "物业服务费标准应当公开，物业费不应随意上涨。",
        target="article-8",
        stance=Stance.oppose,
        identity=Identity.business,
        quote="第八条的内容。",
    )
    c["fine"] = add_comment(
        "支持第12条关于罚款的规定。",
        target="article-12",
        stance=Stance.support,
        identity=Identity.expert,
    )
    c["lift"] = add_comment("电梯加装应当征得业主同意。", stance=Stance.add)
    c["point"] = add_liaison_comment(
        "座谈会上居民建议垃圾分类设施增加。",
        point=make_point("P-SEARCH", district="西湖区"),
        submitted=True,
        article=3,
    )
    c["air"] = add_comment("ＰＭ２．５浓度高时应当限制露天烧烤。")
    c["old"] = add_comment("一个月前提交的关于垃圾分类的意见。")
    c["old"].created_at = utcnow() - timedelta(days=30)  # the outbox follows the change

    services.record_decision(
        c["air"],
        actor=make_user(Role.drafter),
        status=CommentStatus.decided,
        decision=Decision.adopted,
        response="采纳。",
        publish=False,
    )
    sorting_category = Category(draft_id=draft.id, name="垃圾分类")
    fee_category = Category(draft_id=draft.id, name="收费")
    c["sorting"].categories.append(sorting_category)
    c["point"].categories.append(sorting_category)
    c["fee"].categories.append(fee_category)
    db.session.commit()
    c["categories"] = (sorting_category.id, fee_category.id)

    other = make_draft(slug="other-draft")
    c["elsewhere"] = add_comment("另一部草案的垃圾分类意见。", on=other)
    apply_pending()
    return c


def ids(q="", **kwargs) -> set[int]:
    return set(search(SearchParams(q=q, **kwargs), per_page=100).ids)


def names(corpus, found: set[int]) -> set[str]:
    by_id = {v.id: k for k, v in corpus.items() if hasattr(v, "id")}
    return {by_id[i] for i in found}


def test_words_are_anded(corpus):
    assert names(corpus, ids("垃圾分类 设施")) == {"point"}
    assert names(corpus, ids("垃圾分类 AND 设施")) == {"point"}


def test_or_not_and_parentheses(corpus):
    assert names(corpus, ids("电梯 OR 罚款")) == {"lift", "fine"}
    assert names(corpus, ids("垃圾分类 NOT 座谈会", draft_id=corpus["fee"].draft_id)) == {
        "sorting",
        "old",
    }
    assert ids("垃圾分类 -座谈会") == ids("垃圾分类 NOT 座谈会")
    assert names(corpus, ids("(电梯 OR 罚款) 业主")) == {"lift"}
    assert names(corpus, ids("NOT 垃圾分类")) == {"fee", "fine", "lift", "air"}


def test_phrases_are_exact(corpus):
    assert names(corpus, ids("物业费")) == {"fee"}
    assert names(corpus, ids('"物业费"')) == {"fee"}
    # Chinese has no spaces: one typed inside a quoted phrase is ignored.
    assert names(corpus, ids('"服务费 标准"')) == {"fee"}
    assert ids('"垃圾 设施"') == set()


def test_the_quote_is_searched_too(corpus):
    assert names(corpus, ids("第8条")) == {"fee"}


def test_field_values(corpus):
    sorting_id, _ = corpus["categories"]
    assert names(corpus, ids("stance:oppose")) == {"fee"}
    assert names(corpus, ids("stance:OPPOSE")) == {"fee"}
    assert names(corpus, ids("article:12")) == {"fine"}
    assert names(corpus, ids("article:第十二条")) == {"fine"}
    assert names(corpus, ids("chapter:2")) == {"fee", "fine"}
    assert names(corpus, ids("identity:expert")) == {"fine"}
    assert names(corpus, ids("channel:liaison")) == {"point"}
    assert names(corpus, ids("point:P-SEARCH")) == {"point"}
    assert names(corpus, ids("district:西湖区")) == {"point"}
    assert names(corpus, ids(f"category:{sorting_id}")) == {"sorting", "point"}
    assert names(corpus, ids("decision:adopted")) == {"air"}
    assert names(corpus, ids("垃圾分类 article:3")) == {"sorting", "point"}
    assert ids("article:abc") == set()
    # Not one of ours: plain text.
    assert ids("foo:bar") == set()


def test_full_width_query_syntax(corpus):
    assert names(corpus, ids("“物业费”")) == {"fee"}
    assert names(corpus, ids("（电梯 OR 罚款）")) == {"lift", "fine"}
    assert names(corpus, ids("pm2.5")) == {"air"}


def test_each_filter(corpus):
    draft_id = corpus["fee"].draft_id
    sorting_id, fee_id = corpus["categories"]
    assert "elsewhere" not in names(corpus, ids(draft_id=draft_id))
    assert names(corpus, ids(draft_id=corpus["elsewhere"].draft_id)) == {"elsewhere"}
    assert names(corpus, ids(article=3)) == {"sorting", "point"}
    assert names(corpus, ids(chapter=2)) == {"fee", "fine"}
    assert names(corpus, ids(category_ids=[fee_id])) == {"fee"}
    assert names(corpus, ids(category_ids=[sorting_id, fee_id])) == {"sorting", "point", "fee"}
    assert names(corpus, ids(stance="support")) == {"fine"}
    assert names(corpus, ids(identity="resident")) == {"sorting"}
    assert names(corpus, ids(channel="liaison")) == {"point"}
    assert names(corpus, ids(liaison_point="P-SEARCH")) == {"point"}
    assert names(corpus, ids(district="上城区")) == {"sorting"}
    assert names(corpus, ids(decision="adopted")) == {"air"}
    assert "air" not in names(corpus, ids(decision="none"))
    assert len(ids(decision="none")) == 7
    today = utcnow().date()
    assert names(corpus, ids(date_to=today - timedelta(days=20))) == {"old"}
    assert "old" not in names(corpus, ids(date_from=today - timedelta(days=1)))
    assert len(ids(date_from=today - timedelta(days=40), date_to=today + timedelta(days=1))) == 8
    assert names(corpus, ids("垃圾分类", district="西湖区", channel="liaison")) == {"point"}


def test_facets_count_the_whole_result_not_the_page(corpus):
    draft_id = corpus["fee"].draft_id
    result = search(SearchParams(draft_id=draft_id), per_page=2)
    assert result.total == 7 and len(result.ids) == 2
    facets = result.facets
    assert set(facets) == {
        "draft",
        "article",
        "chapter",
        "categories",
        "stance",
        "identity",
        "channel",
        "liaison_point",
        "district",
        "decision",
    }
    assert facets["draft"] == [(draft_id, 7)]
    assert dict(facets["article"]) == {0: 3, 3: 2, 8: 1, 12: 1}
    # The liaison opinion names article 3 but no chapter.
    assert dict(facets["chapter"]) == {0: 4, 1: 1, 2: 2}
    sorting_id, fee_id = corpus["categories"]
    assert dict(facets["categories"]) == {sorting_id: 2, fee_id: 1}
    assert sum(count for _, count in facets["stance"]) == 7
    assert dict(facets["stance"])["other"] == 3
    assert dict(facets["channel"]) == {"online": 6, "liaison": 1}
    assert facets["liaison_point"] == [("P-SEARCH", 1)]
    assert dict(facets["district"]) == {"上城区": 1, "西湖区": 1}
    assert dict(facets["decision"]) == {"none": 6, "adopted": 1}
    # Most frequent first.
    assert facets["article"][0] == (0, 3)

    narrowed = search(SearchParams(q="垃圾分类", draft_id=draft_id)).facets
    assert dict(narrowed["channel"]) == {"online": 2, "liaison": 1}


def test_sorting(corpus):
    draft_id = corpus["fee"].draft_id
    newest = search(SearchParams(draft_id=draft_id, sort="newest"), per_page=100).ids
    oldest = search(SearchParams(draft_id=draft_id, sort="oldest"), per_page=100).ids
    assert oldest == list(reversed(newest))
    assert newest[-1] == corpus["old"].id
    by_article = search(SearchParams(draft_id=draft_id, sort="article"), per_page=100).ids
    articles = [
        next(c.article_number or 0 for c in corpus.values() if getattr(c, "id", None) == i)
        for i in by_article
    ]
    assert articles == sorted(articles)
    # An empty query has no relevance: newest first.
    assert search(SearchParams(draft_id=draft_id), per_page=100).ids == newest
    # Relevance: the opinion that says 物业 twice ranks above none; unknown sorts fall back.
    assert search(SearchParams(q="垃圾分类", sort="bogus"), per_page=100).total == 4


def test_pagination(corpus):
    pages = [search(SearchParams(sort="oldest"), page=n, per_page=3) for n in (1, 2, 3, 4)]
    assert [p.total for p in pages] == [8, 8, 8, 8]
    assert [len(p.ids) for p in pages] == [3, 3, 2, 0]
    assert pages[0].pages == 3
    everything = [i for p in pages for i in p.ids]
    assert len(set(everything)) == 8
    assert everything == search(SearchParams(sort="oldest"), per_page=100).ids


def test_highlights_are_escaped(corpus):
    result = search(SearchParams(q="垃圾分类"))
    snippet = str(result.highlights[corpus["sorting"].id])
    assert "<mark>垃圾分类</mark>" in snippet
    assert "&lt;script&gt;alert(1)" in snippet
    assert "<script" not in snippet
    # Without a query the snippet is the escaped start of the opinion.
    plain = str(search(SearchParams(stance="amend")).highlights[corpus["sorting"].id])
    assert "<script>" not in plain and "&lt;script&gt;" in plain
    assert set(result.highlights) == set(result.ids)


def test_highlights_mark_the_original_spelling(corpus):
    snippet = str(search(SearchParams(q="第十二条")).highlights[corpus["fine"].id])
    assert "<mark>第12条</mark>" in snippet
    snippet = str(search(SearchParams(q="PM2.5")).highlights[corpus["air"].id])
    assert "<mark>ＰＭ２．５</mark>" in snippet


@pytest.mark.parametrize(
    "q",
    [
        '"垃圾分类',
        "NOT",
        "垃圾分类 AND",
        "OR 电梯",
        "(电梯",
        "电梯)",
        "stance:",
        ":::",
        '""',
        "-",
        "AND OR NOT",
        "article:abc",
        "*?",
        "第十二条)",
        "((((((((((((((((((((((((((((((((((((((((((((((((((((((((电梯",
        "\\",
        "<script>",
    ],
)
def test_malformed_queries_do_not_raise(corpus, q):
    result = search(SearchParams(q=q))
    assert result.total >= 0


def test_malformed_queries_fall_back_to_plain_words(corpus):
    assert names(corpus, ids('"垃圾分类 设施')) == {"point"}
    assert names(corpus, ids("电梯 OR")) == {"lift"}
    assert names(corpus, ids("(电梯")) == {"lift"}
    # Only syntax: like an empty query.
    assert parse_query("NOT") is None
    assert len(ids("NOT")) == 8


def test_matching_ids_lists_the_whole_result_in_order(corpus):
    from portal.search.query import matching_ids

    params = SearchParams(q="垃圾分类", sort="oldest")
    everything = search(params, per_page=100).ids
    assert matching_ids(params) == everything
    assert matching_ids(params, limit=2) == everything[:2]
    assert matching_ids(SearchParams(q="没有这个词")) == []
