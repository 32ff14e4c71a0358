"""Suggestions for the drafting team: articles, keyword rules, learned categories, accepting."""

import random

import pytest
from sqlalchemy import func, select

from portal.comments.services import ClientInfo, CommentInput, submit_comment
from portal.extensions import db
from portal.models import (
    AuditEntry,
    Category,
    Comment,
    IndexJob,
    Role,
    Submission,
    SubmissionStatus,
    comment_categories,
)
from portal.review.services import ReviewError
from portal.review.suggest import (
    Suggestions,
    accept_article,
    accept_category,
    keyword_suggestions,
    learn,
    model_for,
    parse_keywords,
    suggest_article,
    suggestions_for,
    train,
)
from tests.drafts.test_views import make_draft

VOCABULARY = {
    "罚则": ["罚款", "处罚", "责令改正", "违法行为", "行政执法", "罚款数额", "警告", "信用记录"],
    "投放": ["投放点", "定时定点", "垃圾桶", "撤桶并点", "误时投放", "投放时间", "楼道", "桶站"],
    "宣传": ["宣传", "教育", "学校", "志愿者", "培训", "社区活动", "公益广告", "知识普及"],
}
GENERAL = ["生活垃圾", "分类", "居民", "小区", "规定", "管理", "条例", "问题", "政府", "具体"]
TEMPLATES = [
    "建议{a}应当进一步明确，{b}的问题比较突出。",
    "关于{a}，我认为{b}和{c}需要细化。",
    "{a}在实践中很难落实，希望加强{b}。",
    "我们小区{a}做得不好，{b}长期没有解决，{c}也不到位。",
    "{a}、{b}等方面要加强。",
]


def opinion(rng: random.Random, topic: str) -> str:
    def word():
        return rng.choice(GENERAL) if rng.random() < 0.3 else rng.choice(VOCABULARY[topic])

    return "".join(
        rng.choice(TEMPLATES).format(a=word(), b=word(), c=word()) for _ in range(rng.randint(1, 3))
    )


@pytest.fixture
def draft(app):
    return make_draft()


def add_comment(draft, body, **fields) -> Comment:
    comment = Comment(draft=draft, body=body, participant_key="p", **fields)
    db.session.add(comment)
    db.session.flush()
    return comment


def labelled_draft(draft, n=60, seed=11, topics=tuple(VOCABULARY)):
    """n opinions, each in the category of the topic its words come from."""
    rng = random.Random(seed)
    categories = {
        name: Category(draft_id=draft.id, name=name, position=i) for i, name in enumerate(topics)
    }
    db.session.add_all(categories.values())
    for i in range(n):
        topic = topics[i % len(topics)]
        comment = add_comment(draft, opinion(rng, topic))
        comment.categories.append(categories[topic])
    db.session.commit()
    return categories


def _count(model_column) -> int:
    return db.session.scalar(select(func.count(model_column)))


# --- articles -----------------------------------------------------------------------------


def test_article_named_in_the_text_is_suggested(draft):
    comment = submit_comment(
        draft, CommentInput(body="我认为第２条的适用范围太窄。"), client=ClientInfo("1.1.1.1")
    ).comment
    assert suggest_article(comment) == 2
    assert suggest_article(comment, {1, 3}) is None


def test_no_article_suggested_for_unknown_articles_or_when_one_is_set(draft):
    unknown = add_comment(draft, "第九条规定的时间太短。")
    assert suggest_article(unknown) is None
    none = add_comment(draft, "整体上支持本条例。")
    assert suggest_article(none) is None
    targeted = submit_comment(
        draft,
        CommentInput(body="第三条也应当修改。", target="article-2"),
        client=ClientInfo("1.1.1.2"),
    ).comment
    assert suggest_article(targeted) is None


# --- keyword rules --------------------------------------------------------------------------


def test_keywords_are_split_on_commas_of_both_widths_and_enumeration_commas():
    assert parse_keywords("罚款，处罚、责令改正,PM2.5 ；\n信用记录,,") == [
        "罚款",
        "处罚",
        "责令改正",
        "PM2.5",
        "信用记录",
    ]
    assert parse_keywords("") == []


def test_keyword_rules_match_normalised_text_and_skip_assigned_categories(draft):
    fines = Category(draft_id=draft.id, name="罚则", keywords="罚款，处罚、责令改正")
    air = Category(draft_id=draft.id, name="大气", keywords="PM2.5，Dust")
    noise = Category(draft_id=draft.id, name="噪声", keywords="噪音、分贝")
    empty = Category(draft_id=draft.id, name="其他", keywords="")
    categories = [fines, air, noise, empty]
    db.session.add_all(categories)
    comment = add_comment(draft, "今天ＰＭ２．５又超标了，工地DUST很大，应当加大处罚力度。")
    db.session.commit()

    assert keyword_suggestions(comment, categories) == [fines, air]
    comment.categories.append(fines)
    assert keyword_suggestions(comment, categories) == [air]
    # Latin keywords match whole words only: pm2.55 is not pm2.5, dusty is not dust.
    other = add_comment(draft, "pm2.55 的数据和 dusty 的道路")
    assert keyword_suggestions(other, categories) == []


# --- learned suggestions -----------------------------------------------------------------


def test_model_learns_the_teams_categories_and_measures_itself(draft):
    categories = labelled_draft(draft)
    model = train(draft.id)

    assert model is not None
    metrics = model.metrics
    assert metrics["held_out"] > 0
    assert metrics["trained_on"] + metrics["held_out"] == metrics["labelled"] == 60
    assert metrics["precision"] > 0.7
    assert 0 < metrics["recall"] <= 1
    assert sorted(model.category_ids) == sorted(c.id for c in categories.values())

    new = add_comment(draft, "小区的垃圾桶撤桶并点以后，投放点太远，定时定点的投放时间也太短。")
    suggestions = model.suggest(new, top=2)
    assert suggestions[0][0] == categories["投放"].id
    assert all(0 <= score <= 1 for _, score in suggestions)
    assert [s for s, _ in model.suggest("建议提高罚款数额，对违法行为加大处罚。")][:1] == [
        categories["罚则"].id
    ]
    # A category the opinion already has is never suggested again.
    new.categories.append(categories["投放"])
    assert categories["投放"].id not in [s for s, _ in model.suggest(new, top=3, min_score=0)]


def test_too_few_labels_learn_nothing(draft):
    labelled_draft(draft, n=12)
    assert train(draft.id) is None


def test_a_single_category_learns_nothing(draft):
    labelled_draft(draft, n=40, topics=("罚则",))
    assert train(draft.id) is None


def test_learn_is_usable_without_a_database():
    rng = random.Random(3)
    examples = [(i, opinion(rng, list(VOCABULARY)[i % 3]), [i % 3]) for i in range(90)]
    model = learn(examples)
    assert model is not None
    assert model.metrics["precision"] > 0.7
    assert learn(examples[:10]) is None


def test_model_is_kept_until_the_labels_change(draft):
    categories = labelled_draft(draft)
    first = model_for(draft.id)
    assert first is not None
    assert model_for(draft.id) is first
    comment = add_comment(draft, "学校应当开展垃圾分类知识普及。")
    comment.categories.append(categories["宣传"])
    db.session.commit()
    assert model_for(draft.id) is not first


def test_suggestions_for_a_page_bundles_all_three_kinds(draft):
    categories = labelled_draft(draft)
    categories["罚则"].keywords = "罚款、处罚"
    page = [
        add_comment(draft, "第3条应当规定，对不分类投放的居民先教育后罚款。"),
        add_comment(draft, "垃圾桶撤桶并点以后，投放点太远，定时定点的投放时间太短。"),
    ]
    db.session.commit()

    result = suggestions_for(page, draft)
    assert set(result) == {c.id for c in page}
    first, second = result[page[0].id], result[page[1].id]
    assert first.article == 3
    assert first.keyword_categories == [categories["罚则"]]
    # What a keyword rule already suggests is not repeated as a learned suggestion.
    assert categories["罚则"] not in [c for c, _ in first.learned]
    assert second.article is None
    assert second.keyword_categories == []
    assert second.learned[0][0] == categories["投放"]
    assert isinstance(second, Suggestions) and second


def test_suggestions_without_labels_have_no_learned_part(draft):
    comment = add_comment(draft, "第一条写得很好。")
    db.session.commit()
    result = suggestions_for([comment], draft)
    assert result[comment.id] == Suggestions(article=1)


# --- accepting ------------------------------------------------------------------------------


def test_accepting_a_category_links_audits_and_indexes(draft, make_user):
    drafter = make_user(Role.drafter)
    category = Category(draft_id=draft.id, name="罚则")
    db.session.add(category)
    comment = add_comment(draft, "罚款太高。")
    db.session.commit()
    jobs = _count(IndexJob.id)

    assert accept_category(comment, category, drafter) is True
    db.session.commit()
    linked = db.session.execute(select(comment_categories)).all()
    assert [(row.comment_id, row.category_id) for row in linked] == [(comment.id, category.id)]
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.object_type == "Comment")).one()
    assert (entry.action, entry.object_id, entry.actor_id) == (
        "comment.category_added",
        comment.id,
        drafter.id,
    )
    assert entry.data["category"] == category.id
    assert _count(IndexJob.id) == jobs + 1

    assert accept_category(comment, category, drafter) is False
    assert _count(IndexJob.id) == jobs + 1


def test_a_category_of_another_draft_is_refused(draft, make_user):
    other = make_draft(slug="other-draft")
    foreign = Category(draft_id=other.id, name="罚则")
    db.session.add(foreign)
    comment = add_comment(draft, "罚款太高。")
    with pytest.raises(ReviewError):
        accept_category(comment, foreign, make_user(Role.drafter))


def test_accepting_an_article_sets_article_and_chapter(draft, make_user):
    drafter = make_user(Role.drafter)
    comment = add_comment(draft, "第3条的施行日期太早。")
    db.session.commit()
    jobs = _count(IndexJob.id)

    assert accept_article(comment, 3, drafter) is True
    db.session.commit()
    assert comment.article_number == 3
    assert comment.article.number == 3
    assert comment.chapter.number == 2
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.object_type == "Comment")).one()
    assert (entry.action, entry.object_id) == ("comment.article_set", comment.id)
    assert entry.data == {"before": None, "after": 3, "suggested": True}
    assert _count(IndexJob.id) == jobs + 1
    assert suggest_article(comment) is None

    assert accept_article(comment, 3, drafter) is False
    with pytest.raises(ReviewError):
        accept_article(comment, 99, drafter)


def test_opinions_the_team_cannot_see_are_not_learned_from(draft, make_point):
    categories = labelled_draft(draft)
    batch = Submission(liaison_point=make_point(), draft=draft, status=SubmissionStatus.draft)
    db.session.add(batch)
    for _ in range(5):
        hidden = add_comment(draft, "罚款太高。", submission=batch)
        hidden.categories.append(categories["罚则"])
    db.session.commit()
    assert train(draft.id).metrics["labelled"] == 60
