"""The adoption report and the opinion exports (.xlsx, .csv) for a draft with 30,000 opinions."""

from __future__ import annotations

import random
import resource
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import func, insert, select

from portal.numerals import int_to_chinese

OPINIONS = 30_000
SEED = 20261123
SLUG = "laji-fenlei"

_OPENINGS = ["建议", "希望", "我们认为", "座谈会上居民提出", "有企业反映", "经过讨论，大家认为"]
_TOPICS = [
    "定时定点投放的时间应当结合小区实际确定",
    "厨余垃圾收运的频次和收费标准需要明确",
    "对个人违规投放的罚款幅度偏高，应当先教育后处罚",
    "快递包装回收点应设在小区出入口附近",
    "外卖平台的一次性餐具应当逐年减量",
    "农村地区的分类指导和设施建设需要加强",
    "管理责任人的定义需要更清楚",
    "分类投放点的设置应当征求周边居民意见",
    "老旧小区的垃圾分类设施改造资金如何保障",
    "志愿者参与垃圾分类督导的激励措施可以写进条文",
]
_REASONS = ["，否则执行中容易产生纠纷", "，这样更便于群众监督", "，并配套出台实施细则", ""]
_RESPONSES = {
    "adopted": [
        "感谢您的意见，修改稿已采纳。",
        "已采纳。修改稿对相关条款作了补充，明确了具体要求。",
    ],
    "partly_adopted": [
        "感谢您的意见。修改稿已在相关条款中吸收您的建议，并作了文字调整。",
        "部分采纳。具体标准将在实施细则中规定。",
    ],
    "not_adopted": [
        "感谢您的意见。经研究，相关内容由其他法律法规规定，本条例不再重复。",
        "经研究，该建议涉及面较广，暂不在本条例中规定。",
    ],
    "merged": ["已与其他同类意见合并处理。"],
}


def _body(rng: random.Random, number: int | None) -> str:
    parts = [rng.choice(_OPENINGS)]
    if number is not None and rng.random() < 0.5:
        parts.append(f"第{int_to_chinese(number)}条")
    target = rng.randint(20, 400)
    while sum(map(len, parts)) < target:
        parts.append(rng.choice(_TOPICS) + rng.choice(_REASONS) + "；")
    return "".join(parts)[:400].rstrip("；") + "。"


def _opinions(rng: random.Random, draft, articles, submissions, now) -> list[dict]:
    from portal.models import Channel, CommentStatus, Decision, Identity, Stance

    stances, identities, decisions = list(Stance), list(Identity), list(Decision)
    rows = []
    for n in range(OPINIONS):
        article = rng.choice(articles) if rng.random() < 0.85 else None
        roll = rng.random()
        channel = Channel.online if roll < 0.7 else Channel.liaison if roll < 0.95 else Channel.api
        submission = rng.choice(submissions) if channel == Channel.liaison else None
        decided = rng.random() < 0.6
        decision = rng.choice(decisions) if decided else None
        published = decided and rng.random() < 0.8
        created = now - timedelta(minutes=rng.randint(0, 60 * 24 * 12))
        named = channel == Channel.online and rng.random() < 0.3
        rows.append(
            {
                "draft_id": draft.id,
                "article_id": article.id if article else None,
                "chapter_id": article.chapter_id if article else None,
                "article_number": article.number if article else None,
                "quote": "",
                "body": _body(rng, article.number if article else None),
                "stance": rng.choice(stances),
                "identity": rng.choice(identities),
                "channel": channel,
                "submission_id": submission.id if submission else None,
                "name": f"市民{n}" if named else "",
                "contact": f"139{n:08d}" if named else "",
                "consent_at": created if named else None,
                "district": rng.choice(["东城区", "西城区", "南湖区", ""]),
                "raised_by": rng.choice([1, 1, 1, 2, 5, 12]) if submission else 1,
                "participant_key": f"p:{submission.liaison_point_id}"
                if submission
                else f"h:{rng.randint(0, OPINIONS // 2)}",
                "submitter_hash": "",
                "tracking_code": None if submission else f"BENCH{n:08d}",
                "status": CommentStatus.decided if decided else CommentStatus.received,
                "decision": decision,
                "response": rng.choice(_RESPONSES[decision.value]) if decided else "",
                "decided_at": created if decided else None,
                "response_published_at": created if published else None,
                "published": False,
                "created_at": created,
                "updated_at": created,
            }
        )
    return rows


def _seed(rng: random.Random):
    from portal.demo.seed import seed_demo
    from portal.extensions import db
    from portal.models import (
        Category,
        Comment,
        Draft,
        LiaisonPoint,
        Method,
        Submission,
        SubmissionStatus,
        comment_categories,
        utcnow,
    )

    seed_demo()
    db.session.commit()
    draft = db.session.scalar(select(Draft).where(Draft.slug == SLUG))
    now = utcnow()
    points = list(db.session.scalars(select(LiaisonPoint).order_by(LiaisonPoint.code)))
    submissions = []
    for n, point in enumerate(points):
        submission = Submission(
            liaison_point=point,
            draft=draft,
            method=Method.forum,
            held_on=date.today(),
            status=SubmissionStatus.submitted,
            submitted_at=now,
            receipt_code=f"BENCHR{n:04d}",
        )
        db.session.add(submission)
        submissions.append(submission)
    categories = [
        Category(draft_id=draft.id, name=name, position=i)
        for i, name in enumerate(["投放", "收运", "处罚", "设施", "宣传", "农村"])
    ]
    db.session.add_all(categories)
    db.session.flush()
    rows = _opinions(rng, draft, list(draft.articles), submissions, now)
    db.session.connection().execute(
        insert(Comment.__table__), rows
    )  # on the connection: behind the session hooks (outbox, tallies); the index is rebuilt
    ids = list(db.session.scalars(select(Comment.id).where(Comment.draft_id == draft.id)))
    links = [
        {"comment_id": i, "category_id": rng.choice(categories).id, "created_at": now}
        for i in ids
        if rng.random() < 0.4
    ]
    db.session.connection().execute(insert(comment_categories), links)
    db.session.commit()
    return draft


def _timed(label: str, work):
    started = time.perf_counter()
    result = work()
    seconds = time.perf_counter() - started
    size = f"{len(result) / 1024:>8.0f} KB" if isinstance(result, bytes) else ""
    print(f"  {label:42} {seconds:6.2f} s {size}")
    return result


def _peak() -> None:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"  {'(peak resident memory so far)':42} {peak:6.0f} MB")


def _exports_loaded(ids: list[int]) -> None:
    """The way the view calls it: load the list once, then write the file."""
    from portal.review import exports

    items = _timed(f"load_for_export ({len(ids):,})", lambda: exports.load_for_export(ids))
    _timed(
        "export_xlsx (loaded list, with contact)",
        lambda: exports.export_xlsx(items, include_contact=True),
    )
    _timed(
        "export_csv (loaded list, with contact)",
        lambda: exports.export_csv(items, include_contact=True),
    )


def _exports_streamed(ids: list[int]) -> None:
    """Loading a chunk at a time while writing: memory stays bounded."""
    from portal.extensions import db
    from portal.review import exports

    _timed(
        "iter_for_export + export_xlsx (streamed)",
        lambda: exports.export_xlsx(exports.iter_for_export(ids), include_contact=False),
    )
    db.session.expunge_all()
    _timed(
        "iter_for_export + export_csv (streamed)",
        lambda: exports.export_csv(exports.iter_for_export(ids), include_contact=False),
    )


def run() -> None:
    from flask_migrate import upgrade

    from portal import create_app
    from portal.comments.services import staff_visible
    from portal.extensions import db
    from portal.models import Comment
    from portal.review.report import build_adoption_report

    rng = random.Random(SEED)  # noqa: S311  (repeatable test data)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        app = create_app(
            {
                "TESTING": True,
                "SECRET_KEY": "bench",
                "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'bench.db'}",
                "INDEX_DIR": str(folder / "index"),
                "UPLOAD_DIR": str(folder / "uploads"),
                "RATELIMIT_STORAGE_URI": "memory://",
                "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
            },
            instance_path=str(folder / "instance"),
        )
        with app.app_context():
            upgrade()
            draft = _timed(f"seed demo + insert {OPINIONS:,} opinions", lambda: _seed(rng))
            ids = list(
                db.session.scalars(
                    select(Comment.id)
                    .where(Comment.draft_id == draft.id, staff_visible())
                    .order_by(Comment.id)
                )
            )
            count = db.session.scalar(select(func.count(Comment.id)))
            print(f"  {count:,} opinions in the database, {len(ids):,} on {SLUG}")

            _timed("build_adoption_report", lambda: build_adoption_report(draft))
            _peak()
            db.session.expunge_all()
            _exports_streamed(ids)
            _peak()
            db.session.expunge_all()
            _exports_loaded(ids)
            _peak()
            db.session.remove()
            db.engine.dispose()


if __name__ == "__main__":
    run()
