"""Public page cost at 100, 10,000 and 100,000 opinions: CPU ms per request, kept tallies.

The home page, the reading page of the draft with the most opinions and GET /api/v1/drafts,
through the Flask test client (no server, no network), warm, timed with time.process_time()
(the whole process: Flask, Jinja and SQLite's work, which runs in-process). The opinions are
bench/corpus.py's synthetic corpus, loaded with bulk Core inserts (which bypass the session
hooks; an online participant gives about three opinions, a liaison opinion is raised by 1-5
people) and then tallied with portal.tallies.rebuild(), as `flask portal rebuild-tallies`
would. For comparison, the same pages are timed again counting participants over every opinion
on each request, the way they did before the tallies (figures.compute()).

    python -m bench pages
    python -m bench.pages --sizes 100,10000,100000 --requests 50

Target (issue 12): the home page costs at most 5 ms of CPU at 100,000 opinions.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from contextlib import contextmanager
from datetime import UTC

from bench.corpus import make_corpus

SIZES = (100, 10_000, 100_000)
REQUESTS = 50
WARM = 5
ROUNDS = 3
TARGET_MS = 5.0  # home page, CPU per request, at 100,000 opinions


def _load(docs: list[dict]) -> None:
    """The corpus as Comment rows, inserted on the connection (no session hooks, no outbox:
    nothing is indexed, and the tallies are rebuilt afterwards), in the demo drafts and an
    air-pollution draft, liaison opinions in submitted batches of the demo points. Online
    opinions get participant keys (about three opinions each), liaison ones the people who
    raised them (1-5)."""
    from sqlalchemy import select

    from bench.corpus import TOPIC_FILES
    from portal.demo.seed import seed_drafts, seed_points
    from portal.extensions import db
    from portal.models import (
        Article,
        Channel,
        Comment,
        CommentStatus,
        Draft,
        DraftStatus,
        LiaisonPoint,
        Stance,
        Submission,
        SubmissionStatus,
    )

    seed_points()
    seed_drafts()
    by_slug = {d.slug: d for d in db.session.scalars(select(Draft))}
    slugs = [name.replace(".txt", "").replace("_", "-") for name in TOPIC_FILES.values()]
    drafts = {str(i): by_slug[slug] for i, slug in enumerate(slugs, start=1)}
    drafts["4"] = Draft(
        slug="daqi-wuran", title="江州市大气污染防治条例（草案）", status=DraftStatus.consulting
    )
    db.session.add(drafts["4"])
    points = list(db.session.scalars(select(LiaisonPoint).order_by(LiaisonPoint.code)))
    batches = {}
    for key, draft in drafts.items():
        for point in points:
            batches[key, point.code] = Submission(
                liaison_point=point, draft=draft, status=SubmissionStatus.submitted
            )
    db.session.add_all(batches.values())
    db.session.flush()
    articles = {(a.draft_id, a.number): a.id for a in db.session.scalars(select(Article))}
    people = max(1, len(docs) // 3)
    rows = []
    for doc in docs:
        draft, i = drafts[doc["draft"]], int(doc["id"])
        channel = Channel(doc["channel"])
        batch = None
        if channel == Channel.liaison:
            code = points[int(doc["liaison_point"][2:]) % len(points)].code
            batch = batches[doc["draft"], code]
        rows.append(
            {
                "id": i,
                "draft_id": draft.id,
                "article_id": articles.get((draft.id, doc["article"] or None)),
                "article_number": doc["article"] or None,
                "body": doc["body"],
                "stance": Stance(doc["stance"]),
                "channel": channel,
                "submission_id": batch.id if batch else None,
                "raised_by": 1 + i % 5 if batch else 1,
                "participant_key": "" if batch else f"b:{i * 7919 % people}",
                "status": CommentStatus.received,
                "created_at": doc["created_at"].replace(tzinfo=UTC),
                "updated_at": doc["created_at"].replace(tzinfo=UTC),
            }
        )
    connection = db.session.connection()
    for start in range(0, len(rows), 5000):
        connection.execute(Comment.__table__.insert(), rows[start : start + 5000])
    db.session.commit()


@contextmanager
def _counting_on_each_request():
    """The pages as they were: participation counted over the opinions on every request."""
    from portal.drafts import services
    from portal.figures import Scope, compute

    saved = services.participation_by_draft, services.participation_by_article

    def by_draft(draft_ids):
        found = compute(Scope.public, by="draft", draft_ids=draft_ids)
        return services._participation(found)

    def by_article(draft_id):
        found = compute(Scope.public, by="article", draft_id=draft_id)
        return services._participation({k: f for k, f in found.items() if k is not None})

    services.participation_by_draft, services.participation_by_article = by_draft, by_article
    try:
        yield
    finally:
        services.participation_by_draft, services.participation_by_article = saved


def _cpu_ms(client, url: str, requests: int) -> float:
    """CPU ms per request, warm: the best of ROUNDS rounds (the machine is shared; other
    processes only ever make a round slower)."""
    for _ in range(WARM):
        assert client.get(url).status_code == 200, url
    best = float("inf")
    for _ in range(ROUNDS):
        started = time.process_time()
        for _ in range(requests):
            client.get(url)
        best = min(best, (time.process_time() - started) * 1000 / requests)
    return best


def measure(n: int, docs: list[dict], requests: int) -> dict:
    from flask_migrate import upgrade
    from sqlalchemy import func, select

    from portal import create_app
    from portal.extensions import db
    from portal.models import Comment, Draft
    from portal.tallies import rebuild

    with tempfile.TemporaryDirectory(prefix="bench-pages-") as tmp:
        app = create_app(
            {
                "SECRET_KEY": "bench",
                "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp}/bench.db",
                "INDEX_DIR": f"{tmp}/index",
                "UPLOAD_DIR": f"{tmp}/uploads",
                "RATELIMIT_ENABLED": False,
                "RATELIMIT_STORAGE_URI": "memory://",
            },
            instance_path=f"{tmp}/instance",
        )
        with app.app_context():
            upgrade()
            started = time.perf_counter()
            _load(docs[:n])
            loaded = time.perf_counter() - started
            started = time.perf_counter()
            report = rebuild()
            db.session.commit()
            tallied = time.perf_counter() - started
            busiest = db.session.execute(
                select(Draft.slug, func.count(Comment.id))
                .join(Comment, Comment.draft_id == Draft.id)
                .group_by(Draft.slug)
                .order_by(func.count(Comment.id).desc())
            ).first()
            print(
                f"  {n:,} opinions loaded in {loaded:.1f} s; rebuild-tallies {tallied:.2f} s "
                f"({report.drafts} drafts, {report.articles} articles, "
                f"{report.participants:,} participant rows); draft page: {busiest[0]} "
                f"({busiest[1]:,} opinions)",
                flush=True,
            )
            db.session.remove()
        urls = {
            "home": "/",
            "draft": f"/drafts/{busiest[0]}",
            "api": "/api/v1/drafts",
            "privacy": "/privacy",  # the layout alone, no figures: the floor
        }
        client = app.test_client()
        kept = {name: _cpu_ms(client, url, requests) for name, url in urls.items()}
        with _counting_on_each_request():
            counted = {
                name: _cpu_ms(client, url, requests)
                for name, url in urls.items()
                if name != "privacy"
            }
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
    return {"n": n, "kept": kept, "counted": counted}


def run(sizes: tuple[int, ...] = SIZES, requests: int = REQUESTS) -> list[dict]:
    load = os.getloadavg()
    print(f"  {os.cpu_count()} CPUs; load average {load[0]:.2f}; {requests} warm requests each")
    started = time.perf_counter()
    docs, _ = make_corpus(max(sizes))
    print(f"  corpus of {max(sizes):,} generated in {time.perf_counter() - started:.1f} s")
    results = [measure(n, docs, requests) for n in sorted(sizes)]
    print("\n  CPU ms per request: kept tallies (counting on each request, as before)")
    print(
        f"  {'opinions':>9}  {'home page':>18}  {'draft page':>18}  {'GET /api/v1/drafts':>18}"
        f"  {'/privacy (floor)':>16}"
    )
    for r in results:
        cells = [f"{r['kept'][k]:6.1f} ({r['counted'][k]:6.1f})" for k in ("home", "draft", "api")]
        print(
            f"  {r['n']:9,}  "
            + "  ".join(f"{c:>18}" for c in cells)
            + f"  {r['kept']['privacy']:16.1f}"
        )
    smallest, largest = results[0], results[-1]
    home = largest["kept"]["home"]
    verdict = "met" if home <= TARGET_MS else "NOT met"
    print(
        f"\n  target: home page <= {TARGET_MS:.0f} ms CPU at 100,000 opinions; "
        f"at {largest['n']:,}: {home:.1f} ms, {verdict}"
    )
    growth = ", ".join(
        f"{name} x{largest['kept'][key] / smallest['kept'][key]:.2f}"
        for key, name in (("home", "home page"), ("draft", "draft page"), ("api", "API list"))
    )
    print(f"  cost at {largest['n']:,} opinions / cost at {smallest['n']:,}: {growth}")
    return results


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.pages", description=__doc__)
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)))
    parser.add_argument("--requests", type=int, default=REQUESTS)
    args = parser.parse_args(argv)
    run(tuple(int(s) for s in args.sizes.split(",")), args.requests)


if __name__ == "__main__":
    main()
