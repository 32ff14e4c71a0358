"""Near-duplicate opinions (雷同意见): the grouping itself, and the clusters stored per draft."""

import random

import pytest
from sqlalchemy import func, select

from portal.comments.services import ClientInfo, CommentInput, CommentRejected, submit_comment
from portal.extensions import db
from portal.models import (
    AuditEntry,
    Comment,
    CommentStatus,
    Decision,
    DuplicateCluster,
    IndexJob,
    Role,
    Submission,
    SubmissionStatus,
)
from portal.review.clustering import (
    apply_decision_to_cluster,
    cluster_counts,
    clusters_for_draft,
    find_groups,
    normalize_text,
    recluster_draft,
)
from tests.drafts.test_views import make_draft

LETTER = (
    "关于第二条，我们认为生活垃圾分类应当循序渐进，不能一刀切。老旧小区没有条件设置四分类投放点，"
    "居民楼下的垃圾桶撤桶并点以后，老人和残疾人投放很不方便。建议在第二条中增加因地制宜的规定，"
    "允许老旧小区保留部分垃圾桶，并由街道统一安排上门收集，费用由财政承担。"
)
DISTINCT = [
    "第二条规定的适用范围过窄，建议把农村地区的生活垃圾也纳入本条例调整，由乡镇人民政府负责组织实施。",
    "建议第二条明确建筑垃圾和装修垃圾的区别，小区装修产生的垃圾应当由物业统一收集清运，不能混入生活垃圾。",
    "我支持生活垃圾分类，但是分类标准太复杂，居民记不住，建议简化为四类，并在投放点张贴图示。",
    "老旧小区的垃圾桶撤桶并点以后，投放距离太远，建议保留楼道垃圾桶，由保洁员定时收集后再分类。",
    "第二条中的“相关监督管理活动”表述不清，建议明确由城市管理部门牵头，其他部门按照职责分工配合。",
    "建议增加对餐饮企业餐厨垃圾的专门规定，餐厨垃圾数量大，应当由有资质的单位收运处理，并建立台账。",
    "定时定点投放对上班族很不友好，早晚各两个小时太短，建议延长投放时间或者设置误时投放点。",
    "希望政府加大宣传力度，在学校开展垃圾分类教育，让孩子带动家长，比单纯罚款效果更好。",
    "第二条把医疗废物排除在外是对的，但是家庭产生的过期药品怎么处理没有规定，建议在药店设置回收箱。",
    "对不按规定分类投放的个人罚款五十元到二百元太高了，建议第一次先劝导教育，屡教不改的再处罚。",
]
NAMES = ["王伟", "李娜", "张敏", "刘洋", "陈静", "杨磊"]


def _edit(rng: random.Random, text: str) -> str:
    kind = rng.randrange(6)
    if kind == 0:  # a few characters changed
        chars = list(text)
        for _ in range(rng.randint(1, 3)):
            chars[rng.randrange(len(chars))] = rng.choice("的了是在有我们这个")
        return "".join(chars)
    if kind == 1:  # a sentence added
        return text + "希望立法机关认真听取群众的意见。"
    if kind == 2:  # half-width punctuation
        return text.replace("，", ",").replace("。", ".")
    if kind == 3:  # a name inserted
        return f"我是城东街道居民{rng.choice(NAMES)}，" + text
    if kind == 4:  # spacing and line breaks
        middle = len(text) // 2
        return text[:middle] + "\n\n" + text[middle:].replace("，", "， ")
    return text + f"——{rng.choice(NAMES)}"


def campaign(size: int, seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    copies = [LETTER]
    while len(copies) < size:
        text = LETTER
        for _ in range(rng.randint(1, 2)):
            text = _edit(rng, text)
        copies.append(text)
    return copies


def _submit(draft, texts, start=0):
    comments = []
    for n, body in enumerate(texts, start=start):
        result = submit_comment(
            draft,
            CommentInput(body=body, target="article-2"),
            client=ClientInfo(address=f"10.0.{n // 250}.{n % 250}"),
        )
        assert result.created
        comments.append(result.comment)
    db.session.commit()
    return comments


@pytest.fixture
def draft(app):
    return make_draft()


@pytest.fixture
def opinions(draft):
    """30 copies of a form letter, then 10 distinct opinions on the same article."""
    copies = _submit(draft, campaign(30))
    distinct = _submit(draft, DISTINCT, start=100)
    return copies, distinct


def _jobs() -> int:
    return db.session.scalar(select(func.count(IndexJob.id)))


# --- the grouping ------------------------------------------------------------------------


def test_campaign_is_one_group_and_distinct_opinions_stay_apart():
    texts = campaign(30) + DISTINCT
    groups = find_groups(list(enumerate(texts)))
    assert groups == [list(range(30))]


def test_punctuation_width_and_whitespace_variants_group():
    text = "第12条规定的罚款标准ABC公司认为过高，建议降低到200元以下，并给予整改期限。"
    variants = [
        text,
        "第１２条规定的罚款标准ＡＢＣ公司认为过高，建议降低到２００元以下，并给予整改期限。",
        "第十二条规定的罚款标准abc公司认为过高, 建议降低到200元以下; 并给予整改期限!",
        "第 12 条 规定的罚款标准 ABC 公司认为过高，\n建议降低到200元以下，\u3000并给予整改期限。",
    ]
    assert len({normalize_text(v) for v in variants}) == 1
    assert find_groups(list(enumerate(variants))) == [[0, 1, 2, 3]]


def test_short_texts_group_only_when_identical():
    texts = ["同意", "同意。", " 同 意！", "不同意", "同意本条", "赞成", "同意本条规定"]
    assert find_groups(list(enumerate(texts))) == [[0, 1, 2]]


def test_short_texts_differing_in_one_word_stay_apart():
    texts = [
        "我们小区停车难问题严重，物业长期不解决，建议在第二条中明确责任。",
        "我们小区噪音扰民问题严重，物业长期不解决，建议在第二条中明确责任。",
    ]
    assert find_groups(list(enumerate(texts))) == []


def test_letters_about_different_articles_or_amounts_stay_apart():
    letter = "建议删除第十五条，这一条规定在执行中难以操作，老百姓反映强烈，请认真研究。"
    amounts = "罚款数额偏低，建议将第三十条规定的罚款调整为100元至200元，以增强威慑力。"
    texts = [
        letter,
        letter.replace("第十五条", "第十六条"),
        letter.replace("第十五条", "第15条"),
        amounts,
        amounts.replace("100元至200元", "1000元至2000元"),
    ]
    assert find_groups(list(enumerate(texts))) == [[0, 2]]


def test_groups_come_largest_first_with_ids_in_input_order():
    small = ["这是另一封格式信件，内容涉及垃圾分类投放点的设置和管理，要求增加投放点。"] * 2
    items = [(50, small[0]), *[(i, t) for i, t in enumerate(campaign(5), start=10)]]
    items.append((60, small[1]))
    assert find_groups(items) == [[10, 11, 12, 13, 14], [50, 60]]


# --- stored clusters ---------------------------------------------------------------------


def test_recluster_stores_one_cluster_and_indexes_its_members(draft, opinions):
    copies, distinct = opinions
    before = _jobs()
    report = recluster_draft(draft.id)
    db.session.commit()

    assert (report.comments, report.clusters, report.clustered, report.largest) == (40, 1, 30, 30)
    assert report.changed == 30
    assert report.seconds >= 0
    cluster = db.session.scalars(select(DuplicateCluster)).one()
    assert (cluster.draft_id, cluster.size) == (draft.id, 30)
    assert cluster.signature == recluster_signature(copies[0].body)
    assert {c.cluster_id for c in copies} == {cluster.id}
    assert all(c.cluster_id is None for c in distinct)
    # The cluster is not part of the search document: no index jobs.
    assert _jobs() == before


def recluster_signature(body: str) -> str:
    from portal.review.clustering import signature

    return signature(normalize_text(body))


def test_reclustering_again_changes_nothing(draft, opinions):
    recluster_draft(draft.id)
    db.session.commit()
    first = {c.id: c.cluster_id for c in db.session.scalars(select(Comment))}
    jobs = _jobs()

    report = recluster_draft(draft.id)
    db.session.commit()
    assert report.changed == 0
    assert {c.id: c.cluster_id for c in db.session.scalars(select(Comment))} == first
    assert _jobs() == jobs
    assert db.session.scalar(select(func.count(DuplicateCluster.id))) == 1


def _unrelated(comment: Comment) -> str:
    rng = random.Random(comment.id)
    return "".join(rng.sample("春夏秋冬东南西北山川河海日月星辰风雨雷电花草树木鸟兽虫鱼", 24))


def test_reclustering_keeps_the_cluster_and_removes_orphans(draft, opinions):
    copies, distinct = opinions
    recluster_draft(draft.id)
    db.session.commit()
    kept = copies[0].cluster_id

    # Ten copies are rewritten, and a second, small campaign appears.
    for comment in copies[20:]:
        comment.body = _unrelated(comment)
    second = _submit(draft, [DISTINCT[3]] * 3, start=200)
    report = recluster_draft(draft.id)
    db.session.commit()

    assert (report.clusters, report.clustered, report.changed) == (2, 24, 14)
    assert {c.cluster_id for c in copies[:20]} == {kept}
    assert db.session.get(DuplicateCluster, kept).size == 20
    assert all(c.cluster_id is None for c in copies[20:])
    assert {c.cluster_id for c in [distinct[3], *second]} == {second[0].cluster_id}
    assert second[0].cluster_id not in (None, kept)

    # Nothing left to cluster: the rows go, and no opinion points at a deleted cluster.
    for comment in [*copies, distinct[3], *second]:
        comment.body = _unrelated(comment)
    recluster_draft(draft.id)
    db.session.commit()
    assert db.session.scalar(select(func.count(DuplicateCluster.id))) == 0
    assert db.session.scalar(select(func.count()).where(Comment.cluster_id.is_not(None))) == 0


def test_merging_clusters_keeps_the_larger_one(draft, opinions):
    copies, distinct = opinions
    small = _submit(draft, [DISTINCT[5]] * 4, start=200)
    recluster_draft(draft.id)
    db.session.commit()
    large_id, small_cluster = (
        copies[0].cluster_id,
        db.session.get(DuplicateCluster, small[0].cluster_id),
    )
    assert len(small_cluster.comments) == 5  # loaded in this session: must not go stale

    for comment in [distinct[5], *small]:
        comment.body = LETTER
    report = recluster_draft(draft.id)
    db.session.commit()

    assert (report.clusters, report.largest, report.changed) == (1, 35, 5)
    assert {c.cluster_id for c in [*copies, distinct[5], *small]} == {large_id}
    assert db.session.scalars(select(DuplicateCluster.id)).all() == [large_id]


def test_opinions_the_team_cannot_see_are_not_clustered(draft, opinions, make_point):
    copies, _ = opinions
    batch = Submission(liaison_point=make_point(), draft=draft, status=SubmissionStatus.draft)
    hidden = Comment(draft=draft, submission=batch, body=LETTER, participant_key="p")
    db.session.add_all([batch, hidden])
    db.session.commit()

    report = recluster_draft(draft.id)
    db.session.commit()
    assert report.comments == 40
    assert hidden.cluster_id is None

    # A batch that was clustered and is then out of sight again loses its cluster.
    batch.status = SubmissionStatus.submitted
    recluster_draft(draft.id)
    db.session.commit()
    assert hidden.cluster_id == copies[0].cluster_id
    batch.status = SubmissionStatus.draft
    recluster_draft(draft.id)
    db.session.commit()
    assert hidden.cluster_id is None


def test_cluster_counts(draft, opinions):
    assert cluster_counts(draft.id) == (40, 40)
    recluster_draft(draft.id)
    db.session.commit()
    assert cluster_counts(draft.id) == (40, 11)


def test_clusters_for_draft_lists_largest_first_with_earliest_opinion(draft, opinions):
    copies, distinct = opinions
    second = _submit(draft, [DISTINCT[0]] * 2, start=200)
    recluster_draft(draft.id)
    db.session.commit()
    copies[5].decision = Decision.adopted
    db.session.commit()

    views = clusters_for_draft(draft.id)
    assert [v.size for v in views] == [30, 3]
    assert views[0].representative == copies[0]
    assert views[0].decided == 1
    assert views[1].representative == distinct[0]
    assert views[1].cluster.id == second[0].cluster_id
    assert [v.size for v in clusters_for_draft(draft.id, limit=1)] == [30]
    assert clusters_for_draft(draft.id + 1) == []


def test_apply_decision_to_cluster(draft, opinions, make_user):
    copies, distinct = opinions
    drafter = make_user(Role.drafter)
    recluster_draft(draft.id)
    db.session.commit()
    cluster = db.session.get(DuplicateCluster, copies[0].cluster_id)
    jobs = _jobs()

    changed = apply_decision_to_cluster(
        cluster,
        actor=drafter,
        decision=Decision.partly_adopted,
        response="已研究采纳，草案修改稿增加了因地制宜的规定。",
        publish=True,
    )
    db.session.commit()

    assert changed == 30
    for comment in copies:
        assert comment.decision == Decision.partly_adopted
        assert comment.status == CommentStatus.decided
        assert comment.response_published_at is not None
    assert all(c.decision is None for c in distinct)
    entries = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "comment.decided")
    ).all()
    assert sorted(e.object_id for e in entries) == sorted(c.id for c in copies)
    assert all(e.actor_id == drafter.id for e in entries)
    assert _jobs() - jobs == 30

    # The same decision again changes nothing and writes nothing.
    again = apply_decision_to_cluster(
        cluster,
        actor=drafter,
        decision=Decision.partly_adopted,
        response="已研究采纳，草案修改稿增加了因地制宜的规定。",
        publish=True,
    )
    assert again == 0
    assert _jobs() - jobs == 30


def test_apply_decision_to_cluster_refuses_to_publish_without_response(draft, opinions, make_user):
    copies, _ = opinions
    recluster_draft(draft.id)
    db.session.commit()
    cluster = db.session.get(DuplicateCluster, copies[0].cluster_id)
    with pytest.raises(CommentRejected):
        apply_decision_to_cluster(
            cluster,
            actor=make_user(Role.drafter),
            decision=Decision.adopted,
            response="  ",
            publish=True,
        )
    assert all(c.decision is None for c in copies)
