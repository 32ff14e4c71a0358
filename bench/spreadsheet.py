"""Validating a liaison point's spreadsheet: 10,000 opinions as .xlsx and as CSV."""

import csv
import io
import random
import statistics
import time

from openpyxl import Workbook

from portal.liaison.spreadsheet import COLUMNS, IDENTITY_VALUES, STANCE_VALUES, read_upload
from portal.numerals import int_to_chinese

ROWS = 10_000
ARTICLES = set(range(1, 121))

_OPENINGS = ["建议", "希望", "我们认为", "座谈会上居民提出", "经过讨论，大家一致认为", "有企业反映"]
_TOPICS = [
    "物业服务企业应当定期公示公共收益的收支情况",
    "业主大会的表决程序过于复杂，老旧小区难以召开",
    "垃圾分类投放点的设置应当征求周边居民意见",
    "罚款数额偏高，对小微企业负担较重",
    "应当明确街道办事处和居民委员会的职责分工",
    "电梯加装的费用分摊办法需要进一步细化",
    "停车位的租售应当优先满足本小区业主的需要",
    "专项维修资金的使用审批时间太长",
    "对违规搭建行为应当规定更明确的处理期限",
    "志愿者参与社区治理的激励措施可以写进条文",
]
_REASONS = [
    "，否则在实际执行中容易产生纠纷",
    "，这样更便于群众监督",
    "，以免给基层工作人员增加不必要的负担",
    "，建议参照其他省市的做法",
    "，并建议配套出台实施细则",
    "",
]


def _opinion(rng: random.Random) -> tuple[str, str | int | None]:
    article = rng.choice(sorted(ARTICLES))
    parts = [rng.choice(_OPENINGS)]
    where = rng.random()
    if where < 0.4:
        parts.append(f"第{int_to_chinese(article)}条")
        column: str | int | None = None  # left to text detection
    elif where < 0.7:
        column = rng.choice([f"第{int_to_chinese(article)}条", f"第{article}条", article])
    else:
        column = rng.choice(["总体", None])
    while sum(map(len, parts)) < rng.randint(30, 300):
        parts.append(rng.choice(_TOPICS) + rng.choice(_REASONS) + "；")
    body = "".join(parts)[:300].rstrip("；") + "。"
    return body, column


def _table(rng: random.Random) -> list[list]:
    stances, identities = list(STANCE_VALUES), list(IDENTITY_VALUES)
    rows = []
    for _ in range(ROWS):
        body, article = _opinion(rng)
        rows.append(
            [
                body,
                article,
                rng.choice(stances),
                rng.choice([*identities, None]),
                rng.choice([None, 1, 2, 3, 15]),
            ]
        )
    return rows


def _xlsx(rows: list[list]) -> bytes:
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("意见")
    ws.append([c.header for c in COLUMNS])
    for row in rows:
        ws.append(row)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _csv(rows: list[list]) -> bytes:
    out = io.StringIO(newline="")
    writer = csv.writer(out)
    writer.writerow([c.header for c in COLUMNS])
    writer.writerows(["" if v is None else v for v in row] for row in rows)
    return out.getvalue().encode("gb18030")


def _time(name: str, data: bytes, repeat: int = 3) -> None:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        result = read_upload(name, data, article_numbers=ARTICLES)
        times.append(time.perf_counter() - started)
    assert result.ok, result.errors[:3]
    seconds = statistics.median(times)
    print(
        f"  {name:20} {len(result.rows):>6} rows {len(data) / 1024:>8.0f} KB"
        f"  {seconds:6.2f} s  {len(result.rows) / seconds:>8.0f} rows/s"
    )


def _import_into_database(data: bytes) -> None:
    """The whole import as the view runs it: validate, save every opinion, commit, submit."""
    import tempfile
    from datetime import date, timedelta
    from pathlib import Path

    from flask_migrate import upgrade

    from portal import create_app
    from portal.extensions import db
    from portal.liaison import services as liaison
    from portal.models import LiaisonPoint, User

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        app = create_app(
            {
                "TESTING": True,
                "SECRET_KEY": "bench",
                "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'bench.db'}",
                "INDEX_DIR": str(folder / "index"),
                "UPLOAD_DIR": str(folder / "uploads"),
                "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
            },
            instance_path=str(folder / "instance"),
        )
        with app.app_context():
            upgrade()
            from portal.demo.seed import seed_points
            from portal.drafts import services as drafts
            from portal.drafts.parser import parse_draft_text
            from portal.models import DraftStatus, utcnow

            seed_points()
            # A draft with every article the generated opinions name (1-120).
            draft = drafts.create_draft(
                {
                    "slug": "bench",
                    "title": "基准测试条例（草案）",
                    "status": DraftStatus.consulting,
                    # Open now: a batch is accepted only inside the consultation window.
                    "opens_at": utcnow() - timedelta(days=10),
                    "closes_at": utcnow() + timedelta(days=20),
                },
                actor=None,
            )
            text = "\n".join(f"第{int_to_chinese(n)}条　条文内容。" for n in sorted(ARTICLES))
            drafts.replace_text(draft, parse_draft_text(text), actor=None)
            point = db.session.scalar(db.select(LiaisonPoint).where(LiaisonPoint.code == "JZ-M01"))
            staff = User(email="bench@example.org", display_name="bench", liaison_point=point)
            staff.set_password("bench-password")
            db.session.add(staff)
            batch = liaison.create_submission(point, draft, {"held_on": date(2026, 11, 1)}, staff)
            db.session.commit()
            numbers = {a.number for a in draft.articles}
            started = time.perf_counter()
            result = read_upload("opinions.xlsx", data, article_numbers=numbers)
            validated = time.perf_counter()
            assert result.ok, result.errors[:3]
            liaison.add_opinions(
                batch,
                [
                    liaison.OpinionData(
                        body=row.body,
                        article=row.article,
                        article_fixed=True,
                        stance=row.stance,
                        identity=row.identity,
                        raised_by=row.raised_by,
                    )
                    for row in result.rows
                ],
                staff,
            )
            db.session.commit()
            saved = time.perf_counter()
            liaison.submit(batch, staff)
            db.session.commit()
            submitted = time.perf_counter()
            print(
                f"  import into the database: {len(result.rows)} rows — validate "
                f"{validated - started:.2f} s, save {saved - validated:.2f} s, submit "
                f"{submitted - saved:.2f} s, total {submitted - started:.2f} s"
            )


def run() -> None:
    rows = _table(random.Random(20240601))  # noqa: S311  (repeatable test data)
    xlsx = _xlsx(rows)
    _time("opinions.xlsx", xlsx)
    _time("opinions.csv (GBK)", _csv(rows))
    _import_into_database(xlsx)


if __name__ == "__main__":
    run()
