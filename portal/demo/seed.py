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

    @property
    def changed(self) -> bool:
        return bool(self.points_created or self.drafts_created or self.accounts_created)


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
    return report
