"""Loading the demo data; running it again changes nothing."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from portal.auth.services import create_user, find_by_login
from portal.drafts import services as drafts
from portal.drafts.parser import parse_draft_text
from portal.extensions import db
from portal.models import Draft, DraftStatus, LiaisonPoint, PointLevel, Role, utcnow

DATA = Path(__file__).parent

# Local-use credentials, printed by the command and listed in the README; never for production.
DEMO_ACCOUNTS = (
    (Role.citizen, "citizen@example.org", "citizen-demo-2026", None, "张市民"),
    (Role.liaison, "liaison@example.org", "liaison-demo-2026", "JZ-M01", "王联络员"),
    (Role.drafter, "drafter@example.org", "drafter-demo-2026", None, "李起草"),
    (Role.admin, "admin@example.org", "admin-demo-2026", None, "赵管理员"),
)

# Each demo draft's place in time, relative to the day the demo is loaded:
# one open for comment, one opening soon, one closed.
WINDOWS = {
    "laji-fenlei": (DraftStatus.consulting, -12, 18),
    "shanti-baohu": (DraftStatus.consulting, 6, 36),
    "wuye-guanli": (DraftStatus.closed, -75, -45),
}


@dataclass
class SeedReport:
    points_created: int = 0
    drafts_created: list[str] = field(default_factory=list)
    accounts_created: list[tuple[str, str, str]] = field(default_factory=list)
    accounts: list[tuple[str, str, str]] = field(default_factory=list)
    opinions_created: int = 0

    @property
    def changed(self) -> bool:
        return bool(
            self.points_created
            or self.drafts_created
            or self.accounts_created
            or self.opinions_created
        )


def seed_points() -> int:
    created = 0
    for item in json.loads((DATA / "points.json").read_text(encoding="utf-8")):
        exists = db.session.scalar(select(LiaisonPoint).where(LiaisonPoint.code == item["code"]))
        if exists is not None:
            continue
        db.session.add(
            LiaisonPoint(
                code=item["code"],
                name=item["name_zh"],
                name_en=item["name_en"],
                level=PointLevel(item["level"]),
                district=item["district_zh"],
                district_en=item["district_en"],
                address=item["address_zh"],
                contact_name=item["contact_name"],
                contact_phone=item["contact_phone"],
            )
        )
        created += 1
    db.session.flush()
    return created


def seed_drafts() -> list[str]:
    created = []
    now = utcnow().replace(minute=0, second=0, microsecond=0)
    for item in json.loads((DATA / "drafts" / "meta.json").read_text(encoding="utf-8")):
        if db.session.scalar(select(Draft).where(Draft.slug == item["slug"])) is not None:
            continue
        status, opens, closes = WINDOWS[item["slug"]]
        draft = drafts.create_draft(
            {
                "slug": item["slug"],
                "title": item["title_zh"],
                "title_en": item["title_en"],
                "summary": item["summary_zh"],
                "summary_en": item["summary_en"],
                "drafting_body": item["drafting_body_zh"],
                "drafting_body_en": item["drafting_body_en"],
                "status": status,
                "opens_at": now + timedelta(days=opens),
                "closes_at": now + timedelta(days=closes),
            },
            actor=None,
        )
        text = (DATA / "drafts" / item["file"]).read_text(encoding="utf-8")
        drafts.replace_text(draft, parse_draft_text(text), actor=None)
        created.append(item["slug"])
    return created


ONLINE_OPINIONS = {
    "laji-fenlei": [
        (5, "amend", "resident", "建议明确城市管理部门对各部门分类工作的考核职责，避免多头管理。"),
        (
            21,
            "amend",
            "resident",
            ("定时定点投放对上夜班的居民不方便，建议保留一个全天开放的投放点。"),
        ),
        (21, "oppose", "resident", "小区只设一个定时投放点，老人走得太远，建议按楼栋设置。"),
        (35, "add", "business", "建议对外卖平台一次性餐具设定逐年减量目标，并公开完成情况。"),
        (None, "support", "expert", "总体赞成。建议在附则中对“管理责任人”作出更清楚的定义。"),
        (44, "amend", "deputy", "个人违规投放的罚款幅度偏高，建议首次违规先教育后处罚。"),
    ],
    "wuye-guanli": [
        (12, "amend", "resident", "业主大会表决可以采用电子投票，建议写明电子投票的效力和程序。"),
        (30, "add", "resident", "建议规定物业服务费调整前必须公示成本构成，并经业主大会同意。"),
        (
            41,
            "amend",
            "organization",
            ("专项维修资金使用审批时间过长，电梯维修等紧急情况应当简化程序。"),
        ),
    ],
}

# A small letter-writing campaign: the same text, lightly edited, from several people.
CAMPAIGN = (
    "我们小区居民一致认为，第四十四条对个人违规投放的罚款过重，"
    "建议改为首次违规给予劝导，拒不改正的再处以罚款。"
)
CAMPAIGN_VARIANTS = ("", "请采纳。", "谢谢！", "望认真考虑。", "恳请修改。", "")

LIAISON_OPINIONS = [
    (14, "amend", "resident", 6, "座谈中多位居民提出，快递包装回收点应设在小区出入口附近。"),
    (21, "amend", "resident", 11, "建议定时定点投放的时间段由业主大会结合小区实际确定。"),
    (26, "add", "business", 3, "餐饮企业希望明确厨余垃圾收运的频次和收费标准。"),
    (None, "support", "deputy", 2, "代表们认为草案总体可行，建议加强对农村地区的分类指导。"),
]

DECISIONS = [
    ("partly_adopted", "感谢您的意见。修改稿已在相关条款中吸收您的建议，并作了文字调整。"),
    ("not_adopted", "感谢您的意见。经研究，相关内容由其他法律法规规定，本条例不再重复。"),
    ("adopted", "感谢您的意见，修改稿已采纳。"),
]


def seed_activity() -> int:
    """Assignments, a few online opinions and one submitted liaison batch, with answers."""
    from portal.comments.services import ClientInfo, CommentInput, record_decision, submit_comment
    from portal.liaison import services as liaison
    from portal.models import (
        Assignment,
        Comment,
        CommentStatus,
        Decision,
        Identity,
        Stance,
    )

    if db.session.scalar(select(Comment.id).limit(1)) is not None:
        return 0
    drafter = find_by_login("drafter@example.org")
    open_draft = db.session.scalar(select(Draft).where(Draft.slug == "laji-fenlei"))
    closed = db.session.scalar(select(Draft).where(Draft.slug == "wuye-guanli"))
    if drafter is None or open_draft is None or closed is None:
        return 0
    points = list(db.session.scalars(select(LiaisonPoint).order_by(LiaisonPoint.code)))
    if db.session.scalar(select(Assignment.id).limit(1)) is None:
        liaison.assign_draft(
            open_draft,
            points,
            due_on=(open_draft.closes_at - timedelta(days=5)).date(),
            focus_questions="1. 定时定点投放的时间和地点如何确定更合理？\n"
            "2. 对个人违规投放的处罚幅度是否适当？",
            actor=drafter,
        )
    created = 0
    # The closed draft's opinions arrived while it was under consultation: replay that time.
    closed.status = DraftStatus.consulting
    for slug, items in ONLINE_OPINIONS.items():
        draft = open_draft if slug == "laji-fenlei" else closed
        for n, (article, stance, identity, body) in enumerate(items):
            data = CommentInput(
                body=body,
                stance=Stance(stance),
                identity=Identity(identity),
                target=f"article-{article}" if article else "draft",
            )
            client = ClientInfo(f"198.51.100.{n + 10}", "demo")
            # The closed draft's opinions arrived while its window was open.
            when = draft.opens_at + timedelta(days=n + 1)
            comment = submit_comment(draft, data, client=client, now=when).comment
            created += 1
            if slug == "wuye-guanli":
                decision, response = DECISIONS[n % len(DECISIONS)]
                record_decision(
                    comment,
                    actor=drafter,
                    status=CommentStatus.decided,
                    decision=Decision(decision),
                    response=response,
                    publish=True,
                )
    for n, suffix in enumerate(CAMPAIGN_VARIANTS):
        data = CommentInput(
            body=CAMPAIGN + suffix,
            stance=Stance.amend,
            target="article-44",
            identity=Identity.resident,
        )
        when = open_draft.opens_at + timedelta(days=2, hours=n)
        submit_comment(open_draft, data, client=ClientInfo(f"203.0.113.{n + 20}", "demo"), now=when)
        created += 1
    closed.status = DraftStatus.closed
    point = next(p for p in points if p.code == "JZ-M02")
    staff = drafter  # the demo batch is recorded as entered by the drafting team's import
    batch = liaison.create_submission(
        point,
        open_draft,
        {
            "method": "forum",
            "held_on": (open_draft.opens_at + timedelta(days=3)).date(),
            "place": "街道党群服务中心会议室",
            "participants": 22,
            "participants_residents": 15,
            "participants_businesses": 4,
            "participants_deputies": 2,
            "participants_other": 1,
            "summary": "召开居民和商户座谈会，围绕分类投放和收运问题征求意见。",
        },
        staff,
    )
    opinions = liaison.add_opinions(
        batch,
        [
            liaison.OpinionData(
                body=body,
                article=article,
                article_fixed=True,
                stance=Stance(stance),
                identity=Identity(identity),
                raised_by=raised,
            )
            for article, stance, identity, raised, body in LIAISON_OPINIONS
        ],
        staff,
    )
    liaison.submit(batch, staff)
    record_decision(
        opinions[1],
        actor=drafter,
        status=CommentStatus.decided,
        decision=Decision.partly_adopted,
        response=DECISIONS[0][1],
        publish=True,
    )
    from portal.review.clustering import recluster_draft

    recluster_draft(open_draft.id)
    return created + len(opinions)


def seed_demo() -> SeedReport:
    """Create whatever of the demo data is missing; the caller commits."""
    report = SeedReport()
    report.points_created = seed_points()
    report.drafts_created = seed_drafts()
    for role, email, password, point, name in DEMO_ACCOUNTS:
        report.accounts.append((role.value, email, password))
        if find_by_login(email) is None:
            create_user(
                role=role, email=email, password=password, point_code=point, display_name=name
            )
            report.accounts_created.append((role.value, email, password))
    report.opinions_created = seed_activity()
    return report
