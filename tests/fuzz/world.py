"""The seeded world the fuzz walk runs in: every kind of row the routes take an id or slug of.

The demo data gives three drafts (open, upcoming, closed), the liaison points, one account per
role, online and liaison opinions with decisions, assignments and clusters. On top of it: the
closed draft's results published, a closed draft without results, an unpublished draft, the
default categories with one in use, a response template, a draft and a submitted batch of the
liaison account's own point with an attachment, a citizen's own opinion, an API token per role.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import select

from portal.extensions import db
from portal.models import Role, User

DEMO_PASSWORDS = {
    Role.citizen: "citizen-demo-2026",
    Role.liaison: "liaison-demo-2026",
    Role.drafter: "drafter-demo-2026",
    Role.admin: "admin-demo-2026",
}

SHORT_TEXT = """第一章 总则
第一条 为了测试，制定本条例。
第二条 本条例适用于本市。
第二章 附则
第三条 本条例自公布之日起施行。
"""


def tiny_png() -> bytes:
    """A valid 1x1 PNG: passes the attachment check by content."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)
    pixels = zlib.compress(b"\x00\x00")
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


@dataclass
class World:
    """What the walk needs to know: accounts per role, tokens, and real values per path variable."""

    user_ids: dict[Role, int]
    tokens: dict[Role, str]
    # Path variable name -> real values (as they appear in URLs), from the database.
    pools: dict[str, list[str]] = field(default_factory=dict)
    template_xlsx: bytes = b""

    def add(self, name: str, *values) -> None:
        pool = self.pools.setdefault(name, [])
        for value in values:
            text = str(value)
            if text not in pool:
                pool.append(text)


def build_world() -> World:
    """Seed everything through the services, commit, and return what the walk needs."""
    from portal.auth import tokens
    from portal.comments.services import ClientInfo, CommentInput, submit_comment
    from portal.demo.seed import seed_demo
    from portal.drafts import results
    from portal.drafts import services as drafts
    from portal.drafts.parser import parse_draft_text
    from portal.liaison import services as liaison
    from portal.liaison.spreadsheet import build_template
    from portal.models import (
        ApiToken,
        Attachment,
        Category,
        Comment,
        Draft,
        DraftStatus,
        LiaisonPoint,
        Stance,
        Submission,
        utcnow,
    )
    from portal.review import services as review
    from portal.search import get_backend

    seed_demo()
    db.session.flush()
    users = {user.role: user for user in db.session.scalars(select(User).order_by(User.id))}
    drafter, liaison_user, citizen = users[Role.drafter], users[Role.liaison], users[Role.citizen]
    by_slug = {d.slug: d for d in db.session.scalars(select(Draft))}
    open_draft, closed = by_slug["laji-fenlei"], by_slug["wuye-guanli"]
    now = utcnow()

    results.publish_results(closed, drafter)
    for slug, status, opens, closes in (
        ("fuzz-closed", DraftStatus.closed, -40, -10),
        ("fuzz-unpublished", DraftStatus.draft, 10, 40),
    ):
        draft = drafts.create_draft(
            {
                "slug": slug,
                "title": f"测试草案{slug}",
                "status": status,
                "opens_at": now + timedelta(days=opens),
                "closes_at": now + timedelta(days=closes),
            },
            actor=None,
        )
        drafts.replace_text(draft, parse_draft_text(SHORT_TEXT), actor=None)

    for draft in (open_draft, closed):
        review.categories_for(draft)
    first_comment = db.session.scalar(
        select(Comment).where(Comment.draft_id == open_draft.id).order_by(Comment.id)
    )
    category = db.session.scalar(
        select(Category).where(Category.draft_id == open_draft.id).order_by(Category.id)
    )
    review.add_category([first_comment], category, drafter)
    review.save_template(open_draft, title="感谢模板", body="感谢您的意见。", actor=drafter)

    submit_comment(
        open_draft,
        CommentInput(
            body="我的意见：第五条应当写得更清楚。", stance=Stance.amend, target="article-5"
        ),
        author=citizen,
        client=ClientInfo("192.0.2.1", "fuzz"),
    )

    point = liaison_user.liaison_point
    meta = {"method": "visit", "held_on": now.date(), "place": "社区", "participants": 3}
    sent = liaison.create_submission(point, open_draft, meta, liaison_user)
    body = "座谈会上居民提出，第十四条的回收点设置应当考虑老年人的步行距离。"
    liaison.add_opinions(sent, [liaison.OpinionData(body=body, article=14)], liaison_user)
    liaison.submit(sent, liaison_user)
    editable = liaison.create_submission(point, open_draft, meta, liaison_user)
    liaison.add_opinions(
        editable,
        [
            liaison.OpinionData(body="草稿中的意见一，关于第二十一条。", article=21),
            liaison.OpinionData(body="草稿中的意见二。"),
        ],
        liaison_user,
    )
    liaison.save_attachment(editable, "photo.png", tiny_png(), liaison_user)

    secrets = {}
    for role, user in users.items():
        _row, secrets[role] = tokens.create_token(user, f"fuzz-{role.value}")
    db.session.commit()
    get_backend().apply_pending(wait=True)

    world = World(
        user_ids={role: user.id for role, user in users.items()},
        tokens=secrets,
        template_xlsx=build_template(None, None),
    )
    world.add("slug", *sorted(by_slug), "fuzz-closed", "fuzz-unpublished")
    world.add("draft_id", *(d.id for d in db.session.scalars(select(Draft))))
    world.add("user_id", *(u.id for u in users.values()))
    point_ids = list(db.session.scalars(select(LiaisonPoint.id).order_by(LiaisonPoint.id)))
    world.add("point_id", point.id, *point_ids[:2], point_ids[-1])
    world.add("submission_id", *db.session.scalars(select(Submission.id).order_by(Submission.id)))
    world.add("attachment_id", *db.session.scalars(select(Attachment.id)))
    category_ids = list(db.session.scalars(select(Category.id).order_by(Category.id)))
    world.add("category_id", category.id, *category_ids[-2:])
    world.add("token_id", *db.session.scalars(select(ApiToken.id).order_by(ApiToken.id)))
    comment_ids = list(db.session.scalars(select(Comment.id).order_by(Comment.id)))
    world.add("comment_id", *comment_ids[:3], *comment_ids[-6:])
    codes = select(Comment.tracking_code).where(Comment.tracking_code.is_not(None)).limit(2)
    world.add("code", *db.session.scalars(codes), "en", "zh")
    world.add("number", 1, 5, 21, 44)
    world.add("fmt", "xlsx", "csv")
    world.add("filename", "css/portal.css", "js/portal.js", "favicon.svg")
    _add_clusters(world)
    return world


def _add_clusters(world: World) -> None:
    from portal.models import DuplicateCluster

    world.add("cluster_id", *db.session.scalars(select(DuplicateCluster.id)))
