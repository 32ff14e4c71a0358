"""The kept tallies equal portal.figures.compute() after every kind of change, a rebuild fixes
them, and the public pages show them (portal/tallies.py)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import date

import pytest
from sqlalchemy import delete, func, select, update

from portal import tallies
from portal.drafts import services as drafts
from portal.drafts.parser import parse_draft_text
from portal.extensions import db
from portal.figures import Scope, compute
from portal.liaison import services as liaison
from portal.liaison.services import OpinionData
from portal.models import (
    ArticleParticipant,
    ArticleTally,
    Comment,
    Decision,
    Draft,
    DraftParticipant,
    DraftTally,
    Role,
    Submission,
    SubmissionStatus,
)
from portal.review import services as review
from tests.comments.test_views import post_comment
from tests.conftest import _postgres_database
from tests.drafts.test_views import SMALL_DRAFT, make_draft

META = {"method": "forum", "held_on": date(2026, 11, 20), "place": "社区会议室"}
API = "/api/v1/drafts/{slug}/comments"


def kept_by_draft() -> dict[int, tallies.Tally]:
    ids = list(db.session.scalars(select(Draft.id)))
    return {k: t for k, t in tallies.by_draft(ids).items() if t != tallies.Tally()}


def kept_by_article() -> dict[int, tallies.Tally]:
    found = {}
    for draft_id in db.session.scalars(select(Draft.id)):
        found.update(tallies.by_article(draft_id))
    return {k: t for k, t in found.items() if t != tallies.Tally()}


def computed(by: str) -> dict[int, tallies.Tally]:
    found = {}
    for scope in Scope:  # opinions and people do not depend on the scope
        found[scope] = {
            key: tallies.Tally(f.opinions, f.people)
            for key, f in compute(scope, by=by).items()
            if key is not None
        }
    assert found[Scope.staff] == found[Scope.public]
    return found[Scope.public]


def assert_agree() -> dict[int, tallies.Tally]:
    """The tallies are what figures.compute() says, and a rebuild finds nothing to fix (so the
    participant rows are right too). Returns the tallies per draft."""
    db.session.commit()
    assert kept_by_draft() == computed("draft")
    assert kept_by_article() == computed("article")
    report = tallies.rebuild()
    db.session.commit()
    assert report.fixed == []
    return kept_by_draft()


def article_id(draft: Draft, number: int) -> int:
    return next(a.id for a in draft.articles if a.number == number)


def comment_ids() -> list[int]:
    return list(db.session.scalars(select(Comment.id).order_by(Comment.id)))


def test_every_path_keeps_the_tallies_equal_to_the_figures(
    app, client, login, make_user, make_point
):
    draft = make_draft()
    other = make_draft(slug="other-draft")
    draft_id, art2, art3 = draft.id, article_id(draft, 2), article_id(draft, 3)
    assert assert_agree() == {}

    # Online: one browser twice on article 2 (one person), another on article 2 and the draft.
    assert post_comment(client, body="第二条意见一。").status_code == 302
    assert post_comment(client, body="第二条意见二。").status_code == 302
    neighbour = app.test_client()
    assert post_comment(neighbour, body="邻居对第二条的意见。").status_code == 302
    assert post_comment(neighbour, target="draft", body="对整部草案的意见。").status_code == 302
    kept = assert_agree()
    assert kept[draft_id] == tallies.Tally(4, 2)
    assert kept_by_article()[art2] == tallies.Tally(3, 2)

    # A signed-in citizen on articles 2 and 3, and on the other draft: one person each place.
    citizen_client = app.test_client()
    citizen = make_user(Role.citizen)
    citizen_client.post(
        "/login", data={"login": citizen.email, "password": "correct-horse-battery"}
    )
    for target, body in (("article-2", "公民对第二条。"), ("article-3", "公民对第三条。")):
        assert post_comment(citizen_client, target=target, body=body).status_code == 302
    assert post_comment(citizen_client, slug="other-draft", body="另一部草案。").status_code == 302
    # The API: anonymous, and the same opinion again with its key (not counted twice).
    response = client.post(
        API.format(slug="test-draft"),
        json={"body": "接口意见。", "article": 3, "stance": "amend"},
        headers={"Idempotency-Key": "tally-key-1"},
    )
    assert response.status_code == 201
    again = client.post(
        API.format(slug="test-draft"),
        json={"body": "接口意见。", "article": 3, "stance": "amend"},
        headers={"Idempotency-Key": "tally-key-1"},
    )
    assert again.status_code == 200
    kept = assert_agree()
    assert kept[draft_id] == tallies.Tally(7, 4)
    assert kept[other.id] == tallies.Tally(1, 1)

    # A liaison batch counts only once submitted, with the people who raised each opinion.
    east = make_point(code="JZ-E01")
    east_staff = make_user(Role.liaison, point=east)
    batch = liaison.create_submission(east, draft, META, east_staff)
    liaison.add_opinions(
        batch,
        [
            OpinionData(body="第二条：居民意见。", article=2, article_fixed=True, raised_by=5),
            OpinionData(body="总体赞成。", article_fixed=True, raised_by=3),
            OpinionData(body="第三条：意见。", article=3, article_fixed=True, raised_by=2),
            OpinionData(body="写错了，要删。", article=3, article_fixed=True, raised_by=9),
        ],
        east_staff,
    )
    db.session.commit()
    assert assert_agree()[draft_id] == tallies.Tally(7, 4)  # still being written
    # Corrected and trimmed while a draft, then sent.
    liaison.delete_opinion(batch.comments[3])
    liaison.update_opinion(
        batch.comments[2], OpinionData(body="第二条：改。", article=2, raised_by=4)
    )
    db.session.commit()
    liaison.submit(batch, east_staff)
    kept = assert_agree()
    assert kept[draft_id] == tallies.Tally(10, 4 + 5 + 3 + 4)
    assert kept_by_article()[art2] == tallies.Tally(6, 3 + 5 + 4)

    # The drafting team moves an opinion to another article, decides and publishes: the
    # person leaves article 2 only with their last opinion there.
    drafter = make_user(Role.drafter)
    first, second = (
        db.session.get(Comment, cid)
        for cid in comment_ids()[:2]  # the first browser's two opinions on article 2
    )
    review.set_article([first], draft, 3, drafter)
    assert_agree()
    review.set_article([second], draft, 3, drafter)
    assert_agree()
    review.decide(
        [first, second], decision=Decision.adopted, response="采纳。", publish=True, actor=drafter
    )
    assert_agree()

    # Deleting an opinion through the ORM, and ORM bulk statements.
    db.session.delete(db.session.get(Comment, comment_ids()[2]))
    assert_agree()
    db.session.execute(
        update(Comment).where(Comment.id == comment_ids()[2]).values(article_id=None)
    )
    assert_agree()
    db.session.execute(update(Comment).where(Comment.submission_id == batch.id).values(raised_by=7))
    assert_agree()
    db.session.execute(delete(Comment).where(Comment.id == comment_ids()[-1]))
    assert_agree()

    # A batch that stops counting (status changed by any path) takes its people with it.
    db.session.get(Submission, batch.id).status = SubmissionStatus.draft
    assert_agree()
    db.session.execute(
        update(Submission).where(Submission.id == batch.id).values(status="submitted")
    )
    assert_agree()

    # New text without article 3: its tallies go with it, the draft's stay (SET NULL).
    before = kept_by_draft()[draft_id]
    text = SMALL_DRAFT.split("第二章")[0]
    drafts.replace_text(db.session.get(Draft, draft_id), parse_draft_text(text), None)
    assert art3 not in assert_agree() and kept_by_draft()[draft_id] == before
    assert db.session.get(ArticleTally, art3) is None

    # A whole draft deleted: its tallies go too.
    db.session.delete(db.session.get(Draft, other.id))
    assert other.id not in assert_agree()
    assert db.session.scalar(select(func.count()).select_from(DraftParticipant)) > 0


def test_rebuild_fixes_corrupted_tallies(app, client, runner, make_user):
    draft = make_draft()
    for n, target in enumerate(("article-2", "article-2", "draft")):
        browser = app.test_client()
        assert post_comment(browser, target=target, body=f"意见{n}。").status_code == 302
    expected = assert_agree()
    art2 = article_id(draft, 2)

    db.session.execute(update(DraftTally).values(opinions=999, participants=0))
    db.session.execute(delete(ArticleParticipant).where(ArticleParticipant.article_id == art2))
    db.session.commit()
    assert kept_by_draft() != computed("draft")

    report = tallies.rebuild()
    db.session.commit()
    assert any(line.startswith(f"draft {draft.id}: opinions 999 → 3") for line in report.fixed)
    assert "article participants: 2 rows differed" in report.fixed
    assert assert_agree() == expected

    # The command does the same and says what it fixed.
    db.session.execute(update(ArticleTally).values(opinions=0))
    db.session.commit()
    result = runner.invoke(args=["portal", "rebuild-tallies"])
    assert result.exit_code == 0, result.output
    assert f"fixed: article {art2}: opinions 0 → 2" in result.output
    assert "1 differences fixed" in result.output
    db.session.expire_all()
    assert assert_agree() == expected

    # With nothing wrong the participant rows of a removed opinion do not matter: a new
    # opinion from the same person after a rebuild still counts them once.
    assert post_comment(client, target="article-2", body="再来一条。").status_code == 302
    assert post_comment(client, target="article-2", body="又一条。").status_code == 302
    assert assert_agree()[draft.id] == tallies.Tally(5, 4)


def test_pages_show_the_kept_tallies(client):
    """Set the tallies to numbers no count could give: the pages must show exactly them."""
    draft = make_draft()
    assert post_comment(client, body="第二条意见。").status_code == 302
    art2 = article_id(draft, 2)
    db.session.execute(update(DraftTally).values(opinions=4321, participants=765, raised_by=1))
    db.session.execute(
        update(ArticleTally)
        .where(ArticleTally.article_id == art2)
        .values(opinions=321, participants=54, raised_by=0)
    )
    db.session.commit()

    home = client.get("/").get_data(as_text=True)
    assert "<dd>4321</dd>" in home and "<dd>766</dd>" in home
    page = client.get("/drafts/test-draft").get_data(as_text=True)
    assert "<dd>4321</dd>" in page and "<dd>766</dd>" in page
    assert "321 条意见" in page and "54 人参与" in page
    listed = client.get("/api/v1/drafts").get_json()
    (item,) = [d for d in listed["items"] if d["slug"] == "test-draft"]
    assert (item["comment_count"], item["participant_count"]) == (4321, 766)
    one = client.get("/api/v1/drafts/test-draft").get_json()
    assert (one["comment_count"], one["participant_count"]) == (4321, 766)


@pytest.fixture
def fresh_database(tmp_path) -> Iterator[str]:
    """An empty database of the session's kind (PostgreSQL when DATABASE_URL is set)."""
    server = os.environ.get("DATABASE_URL")
    if server:
        yield from _postgres_database(server)
    else:
        yield f"sqlite:///{tmp_path / 'backfill.db'}"


def test_the_migration_backfills_existing_opinions(fresh_database, app_factory):
    """Down to 0004 (no tallies) and up again: the backfill gives the figures' numbers."""
    from flask_migrate import downgrade, upgrade

    uri = fresh_database
    fresh, web = app_factory(SQLALCHEMY_DATABASE_URI=uri), app_factory(SQLALCHEMY_DATABASE_URI=uri)
    with fresh.app_context():
        upgrade()
        draft = make_draft()
        browser = web.test_client()
        for n, target in enumerate(("article-2", "article-2", "article-3", "draft")):
            assert post_comment(browser, target=target, body=f"意见{n}。").status_code == 302
        assert post_comment(web.test_client(), body="另一人。").status_code == 302
        expected_drafts, expected_articles = computed("draft"), computed("article")
        assert expected_drafts[draft.id] == tallies.Tally(5, 2)
        db.session.remove()
        downgrade(revision="0004")
        upgrade()
        assert kept_by_draft() == expected_drafts
        assert kept_by_article() == expected_articles
        assert tallies.rebuild().fixed == []
        db.session.remove()
        db.engine.dispose()


def test_concurrent_opinions_lose_no_count(app, make_user):
    """Four threads post at once, two of them as the same account on the same article: the
    counters move by atomic upserts, so nothing is lost and the shared person counts once."""
    from concurrent.futures import ThreadPoolExecutor

    from portal.auth.tokens import create_token

    draft = make_draft()
    citizen = make_user(Role.citizen)
    _, secret = create_token(citizen, "tallies")
    db.session.commit()
    url = API.format(slug="test-draft")

    def post(worker: int) -> list[int]:
        client = app.test_client()
        headers = {"Authorization": f"Bearer {secret}"} if worker < 2 else {}
        return [
            client.post(
                url,
                json={"body": f"并发意见 {worker}-{n}。", "article": 2, "stance": "amend"},
                headers=headers,
            ).status_code
            for n in range(8)
        ]

    with ThreadPoolExecutor(max_workers=4) as pool:
        codes = [code for codes in pool.map(post, range(4)) for code in codes]
    assert codes == [201] * 32
    # 16 from the account (one person), 16 anonymous API opinions (each its own person).
    assert assert_agree()[draft.id] == tallies.Tally(32, 17)
    assert kept_by_article()[article_id(draft, 2)] == tallies.Tally(32, 17)
