"""portal/figures.py: the definitions, both scopes, grouping and filters, and the rate's text."""

from __future__ import annotations

import flask_babel
import pytest

from portal.extensions import db
from portal.figures import Figures, Scope, compute, rate_text, total
from portal.models import Channel, Decision, Stance, SubmissionStatus
from tests.drafts.test_views import make_draft
from tests.test_figures_agree import _add, _batch, build_known


def test_definitions():
    f = Figures(opinions=10, people=7, adopted=2, partly_adopted=1, not_adopted=3, merged=2)
    assert (f.decided, f.undecided) == (8, 2)
    # Merged is decided, not adopted: it lowers the rate.
    assert f.adoption_rate == pytest.approx(3 / 8)
    assert f.by_decision() == {
        Decision.adopted: 2,
        Decision.partly_adopted: 1,
        Decision.not_adopted: 3,
        Decision.merged: 2,
        None: 2,
    }
    assert Figures().adoption_rate is None and Figures().undecided == 0


def test_the_rate_is_never_shown_without_the_undecided(app):
    # The case of issue 11: nothing adopted, 8 partly adopted, 36 not decided yet.
    f = Figures(opinions=44, people=44, partly_adopted=8)
    assert f.adoption_rate == 1.0 and f.undecided == 36
    with app.test_request_context("/?lang=zh_Hans_CN"):
        flask_babel.refresh()
        assert rate_text(f) == "100.0%（36 条尚未处理）"
        assert f.rate_text() == rate_text(f)
        assert rate_text(Figures(opinions=3)) == "—（3 条尚未处理）"
    with app.test_request_context("/?lang=en"):
        flask_babel.refresh()
        text = rate_text(f)
        assert text.startswith("100.0% (36 ") and "条" not in text.split("(")[0]


def test_eight_partly_adopted_and_36_undecided_from_the_database(app):
    draft = make_draft()
    for n in range(44):
        _add(
            draft,
            2,
            channel=Channel.online,
            key=f"b:{n % 40}",  # 40 people, four of them twice
            decision=Decision.partly_adopted if n < 8 else None,
            published=n < 5,  # three partly adopted decisions not published yet
        )
    db.session.commit()
    staff = total(Scope.staff, draft_id=draft.id)
    assert (staff.opinions, staff.people, staff.partly_adopted) == (44, 40, 8)
    assert (staff.decided, staff.undecided, staff.adoption_rate) == (8, 36, 1.0)
    public = total(Scope.public, draft_id=draft.id)
    assert (public.decided, public.undecided, public.adoption_rate) == (5, 39, 1.0)


def test_scopes_groups_and_filters(app, make_user, make_point):
    known = build_known(make_user, make_point)
    draft_id = known.draft.id
    staff = total(Scope.staff, draft_id=draft_id)
    assert (staff.opinions, staff.people, staff.decided, staff.undecided) == (11, 31, 9, 2)
    public = total(Scope.public, draft_id=draft_id)
    assert (public.opinions, public.people, public.decided, public.undecided) == (11, 31, 5, 6)

    per_channel = compute(Scope.staff, by="channel", draft_id=draft_id)
    assert {c: (f.opinions, f.people) for c, f in per_channel.items()} == {
        Channel.online: (5, 4),
        Channel.api: (1, 1),
        Channel.liaison: (5, 26),
    }
    # People are counted within a group: the same person on two articles counts in each.
    per_article = compute(Scope.staff, by="article", draft_id=draft_id)
    assert sum(f.opinions for f in per_article.values()) == 11
    assert None in per_article and per_article[None].opinions == 2

    per_point = compute(Scope.public, by="point")
    assert set(per_point) == {known.east.id, known.west.id}
    assert per_point[known.east.id].opinions == 3  # the unsubmitted batch is not counted
    assert total(Scope.public, point_id=known.east.id) == per_point[known.east.id]
    both = compute(Scope.staff, by=("point", "draft"))
    assert both[(known.west.id, draft_id)] == total(Scope.staff, point_id=known.west.id)

    per_stance = compute(Scope.staff, by=("article", "stance"), draft_id=draft_id)
    assert all(stance == Stance.amend for _article, stance in per_stance)

    liaison = total(Scope.staff, channel=Channel.liaison)
    assert liaison.opinions == sum(f.opinions for f in per_point.values())
    article = next(a for a in known.draft.articles if a.number == 3)
    assert total(Scope.staff, article_id=article.id).opinions == 3
    assert compute(Scope.staff, draft_ids=[]) == {}
    assert total(Scope.staff, draft_id=draft_id + 1) == Figures()
    with pytest.raises(ValueError):
        compute(Scope.staff, by="name")


def test_a_submitted_batch_counts_and_a_draft_batch_never(app, make_point):
    draft = make_draft()
    point = make_point()
    waiting = _batch(draft, point, SubmissionStatus.draft)
    _add(draft, 1, channel=Channel.liaison, key="p", raised_by=5, batch=waiting)
    db.session.commit()
    assert total(Scope.staff, draft_id=draft.id) == Figures()
    waiting.status = SubmissionStatus.submitted
    db.session.commit()
    assert total(Scope.staff, draft_id=draft.id) == Figures(opinions=1, people=5)
