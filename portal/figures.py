"""The portal's figures, defined once: opinions, people, decisions, decided, undecided, rate.

Every page, export, report, API answer and dashboard that shows a count of opinions or an
adoption rate gets it from `compute()` (or `total()`, which is `compute()` without grouping).
docs/figures.md defines each figure in words; this module is the definition in code.

Which opinions count: those the drafting team can see (`comments.services.staff_visible`):
every online or API opinion, and a liaison point's opinions once their batch is submitted.

Two scopes decide which decisions count:

- `Scope.staff`: every decision the drafting team has recorded. The workbench's statistics
  and the adoption report the team downloads use it.
- `Scope.public`: a decision counts only once its response is published
  (`response_published_at`); until then the opinion is undecided, exactly as the commenter
  sees it (`comments.services.public_status`). The public results page, the API, the
  published adoption report and the liaison points' dashboard use it.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from enum import StrEnum

from flask_babel import format_percent, ngettext
from sqlalchemy import case, func, select

from portal.extensions import db
from portal.i18n import is_english
from portal.models import Channel, Comment, Decision, Submission


class Scope(StrEnum):
    staff = "staff"
    public = "public"


# The decisions that count as adopted in the adoption rate; merged counts as decided, not adopted.
ADOPTING = (Decision.adopted, Decision.partly_adopted)
RATE_FORMAT = "#,##0.0%"


@dataclass(frozen=True)
class Figures:
    """What became of a set of opinions, as compute() counts them; Figures() is "none yet"."""

    opinions: int = 0
    people: int = 0
    adopted: int = 0
    partly_adopted: int = 0
    not_adopted: int = 0
    merged: int = 0

    @property
    def decided(self) -> int:
        """Opinions with a decision (in the scope): adopted, partly, not adopted or merged."""
        return self.adopted + self.partly_adopted + self.not_adopted + self.merged

    @property
    def undecided(self) -> int:
        return self.opinions - self.decided

    @property
    def adoption_rate(self) -> float | None:
        """(adopted + partly adopted) ÷ decided; None while nothing is decided."""
        if not self.decided:
            return None
        return (self.adopted + self.partly_adopted) / self.decided

    def count(self, decision: Decision | None) -> int:
        """Opinions with this decision; None: the undecided ones."""
        return self.undecided if decision is None else getattr(self, decision.value)

    def by_decision(self) -> dict[Decision | None, int]:
        """Every decision in the glossary's order, then None for the undecided ones."""
        return {decision: self.count(decision) for decision in (*Decision, None)}

    def rate_text(self) -> str:
        """The adoption rate as shown everywhere: a percentage and the number still undecided."""
        return rate_text(self)


def percent(rate: float | None) -> str:
    return "—" if rate is None else format_percent(rate, RATE_FORMAT)


def undecided_text(n: int) -> str:
    return ngettext("%(num)d 条尚未处理", "%(num)d 条尚未处理", n)


def rate_text(figures: Figures) -> str:
    """ "66.7%（36 条尚未处理）": the glossary says a rate is never shown without the undecided."""
    rate, rest = percent(figures.adoption_rate), undecided_text(figures.undecided)
    return f"{rate} ({rest})" if is_english() else f"{rate}（{rest}）"


# --- the one query -------------------------------------------------------------------------

# What compute() may group by. "point" counts only liaison opinions (it joins their batch).
GROUPS = {
    "draft": Comment.draft_id,
    "article": Comment.article_id,  # None: on the whole draft or a chapter
    "channel": Comment.channel,
    "stance": Comment.stance,
    "identity": Comment.identity,
    "point": Submission.liaison_point_id,
}


def _decided(decision: Decision, scope: Scope):
    condition = Comment.decision == decision
    if scope is Scope.public:
        condition = condition & Comment.response_published_at.is_not(None)
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def counted():
    """Which opinions count (a WHERE clause): those the drafting team can see."""
    from portal.comments.services import staff_visible

    return staff_visible()


# Who the people are. Online (and API) opinions count distinct participant keys
# (comments.services.participant_key); a liaison opinion counts the people who raised it
# (合并意见, N 人提出). portal/tallies.py keeps the same two per draft and article.


def participant():
    """An online or API opinion's participant key, counted once per group; None for liaison."""
    return case((Comment.submission_id.is_(None), Comment.participant_key))


def raised_by():
    """The people a liaison opinion was raised by; 0 for an online or API opinion."""
    return case((Comment.submission_id.is_not(None), Comment.raised_by), else_=0)


def _people():
    online = func.count(func.distinct(participant()))
    liaison = func.coalesce(func.sum(raised_by()), 0)
    return online + liaison


def compute(
    scope: Scope,
    *,
    by: str | Sequence[str] = (),
    draft_id: int | None = None,
    draft_ids: Collection[int] | None = None,
    article_id: int | None = None,
    channel: Channel | None = None,
    point_id: int | None = None,
) -> dict:
    """The figures of the counted opinions, filtered, grouped by the named GROUPS.

    Returns {key: Figures}, only for groups with opinions; a key is the group's value with
    one group name (an id, an enum member, None) and a tuple with several; with no group the
    only key is (). Grouping by "point" or filtering by point_id counts liaison opinions only.
    People are counted within each group, so they do not add up across groups (one person
    may comment on several articles).
    """
    names = (by,) if isinstance(by, str) else tuple(by)
    unknown = [name for name in names if name not in GROUPS]
    if unknown:
        raise ValueError(f"cannot group figures by {unknown}")
    columns = [GROUPS[name] for name in names]
    query = select(
        *columns,
        func.count(Comment.id),
        _people(),
        *(_decided(decision, scope) for decision in Decision),
    ).where(counted())
    if "point" in names or point_id is not None:
        query = query.join(Submission, Comment.submission_id == Submission.id)
    if draft_id is not None:
        query = query.where(Comment.draft_id == draft_id)
    if draft_ids is not None:
        if not draft_ids:
            return {}
        query = query.where(Comment.draft_id.in_(list(draft_ids)))
    if article_id is not None:
        query = query.where(Comment.article_id == article_id)
    if channel is not None:
        query = query.where(Comment.channel == channel)
    if point_id is not None:
        query = query.where(Submission.liaison_point_id == point_id)
    if columns:
        query = query.group_by(*columns)
    result: dict = {}
    width = len(columns)
    for row in db.session.execute(query):
        key = row[0] if width == 1 else tuple(row[:width])
        opinions, people, *decided = (int(v or 0) for v in row[width:])
        if not opinions:  # an aggregate without groups always returns one row
            continue
        counts = {decision.value: n for decision, n in zip(Decision, decided, strict=True)}
        result[key] = Figures(opinions=opinions, people=people, **counts)
    return result


def total(scope: Scope, **filters) -> Figures:
    """The figures of all counted opinions matching the filters (see compute)."""
    return compute(scope, **filters).get((), Figures())
