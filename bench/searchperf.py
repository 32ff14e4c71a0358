"""Search performance at 10,000 and 100,000 opinions: rebuild, index size, search page latency.

What a `flask search rebuild` and the search page cost, measured through the portal's own
code: the synthetic opinions of bench/corpus.py (the three demo drafts and an air-pollution
draft) are loaded into a throw-away SQLite database as real Comment rows (with chapters,
categories, liaison points and submissions), the index is built by portal.search.index.rebuild()
and searched with portal.search.query.search() (the exact total, ten facets and 20 snippets
the page shows). Then one new opinion is committed, its outbox job applied as the indexer
does it (apply_pending) and searched for.

    python -m bench searchperf                       # 10,000 and 100,000 opinions
    python -m bench.searchperf --sizes 10000         # other sizes
    python -m bench.searchperf --sizes 100000 --procs 1 --repeat 3
    python -m bench.searchperf --sizes 1000000 --queries 50 --no-clustering   # about 40 min

The machine is shared: the load average is printed before and after each size, each query
runs --repeat times and its fastest time counts.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from datetime import UTC
from itertools import islice

from bench.corpus import TOPIC_FILES, dir_mb, make_corpus, make_queries, percentile

SIZES = (10_000, 100_000)
QUERIES = 200
REPEAT = 2
# bench/clustering.py's figure (README): recluster_draft on 20,000 opinions of one draft.
CLUSTERING_REFERENCE = "7.8 s for 20,000 opinions of one draft (python -m bench clustering)"
STANCES = {"support", "oppose", "amend", "add", "delete", "other"}


def _load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f}"


def _chunks(items, size):
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


def load_database(docs: list[dict]) -> dict[str, int]:
    """Insert the corpus as Comment rows with bulk Core inserts; returns draft ids by the
    corpus's draft key ("1"-"4")."""
    from sqlalchemy import insert, select

    from portal.demo.seed import seed_drafts, seed_points
    from portal.extensions import db
    from portal.models import (
        Article,
        Category,
        Comment,
        CommentStatus,
        Decision,
        Draft,
        DraftStatus,
        Identity,
        LiaisonPoint,
        Stance,
        Submission,
        SubmissionStatus,
        comment_categories,
    )
    from portal.models.enums import Channel

    seed_points()
    seed_drafts()
    by_slug = {d.slug: d for d in db.session.scalars(select(Draft))}
    slugs = [name.replace(".txt", "").replace("_", "-") for name in TOPIC_FILES.values()]
    drafts = {str(i): by_slug[slug] for i, slug in enumerate(slugs, start=1)}
    air = Draft(
        slug="daqi-wuran", title="江州市大气污染防治条例（草案）", status=DraftStatus.consulting
    )
    db.session.add(air)
    categories = [Category(name=f"基准分类{i}", position=i) for i in range(1, 13)]
    db.session.add_all(categories)
    db.session.flush()
    drafts["4"] = air
    articles = {
        (a.draft_id, a.number): (a.id, a.chapter_id) for a in db.session.scalars(select(Article))
    }
    points = list(db.session.scalars(select(LiaisonPoint).order_by(LiaisonPoint.code)))
    submissions = {}
    for key, draft in drafts.items():
        for point in points:
            submission = Submission(
                liaison_point=point, draft=draft, status=SubmissionStatus.submitted
            )
            db.session.add(submission)
            submissions[key, point.code] = submission
    db.session.flush()
    point_codes = [p.code for p in points]
    category_ids = [c.id for c in categories]
    rows, links = [], []
    for doc in docs:
        draft = drafts[doc["draft"]]
        number = doc["article"] or None
        article_id, chapter_id = articles.get((draft.id, number), (None, None))
        channel = Channel(doc["channel"])
        submission_id = None
        if channel == Channel.liaison:
            code = point_codes[int(doc["liaison_point"][2:]) % len(point_codes)]
            submission_id = submissions[doc["draft"], code].id
        created = doc["created_at"].replace(tzinfo=UTC)
        rows.append(
            {
                "id": int(doc["id"]),
                "draft_id": draft.id,
                "article_id": article_id,
                "chapter_id": chapter_id,
                "article_number": number,
                "body": doc["body"],
                "quote": doc["quote"],
                "stance": Stance(doc["stance"]),
                "identity": None if doc["identity"] == "none" else Identity(doc["identity"]),
                "channel": channel,
                "submission_id": submission_id,
                "status": CommentStatus(doc["status"]),
                "decision": None if doc["decision"] == "none" else Decision(doc["decision"]),
                "created_at": created,
                "updated_at": created,
            }
        )
        for c in filter(None, doc["categories"].split(",")):
            links.append({"comment_id": int(doc["id"]), "category_id": category_ids[int(c) - 1]})
    for chunk in _chunks(rows, 5000):
        db.session.connection().execute(
            insert(Comment.__table__), chunk
        )  # on the connection: behind the session hooks (outbox, tallies); the index is rebuilt
    now = rows[0]["created_at"] if rows else None
    for chunk in _chunks(links, 10000):
        db.session.connection().execute(
            insert(comment_categories), [{**link, "created_at": now} for link in chunk]
        )
    db.session.commit()
    return {key: draft.id for key, draft in drafts.items()}


def _timed(function, repeat: int) -> float:
    """The fastest of repeat runs, in ms."""
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        function()
        best = min(best, (time.perf_counter() - started) * 1000)
    return best


def _latencies(label: str, function, items, repeat: int) -> tuple[float, float]:
    times = [_timed(lambda item=item: function(item), repeat) for item in items]
    p50, p95 = percentile(times, 50), percentile(times, 95)
    print(f"    {label:44} p50 {p50:6.1f}  p95 {p95:6.1f}  max {max(times):6.1f} ms", flush=True)
    return p50, p95


def _segments() -> int:
    from portal.search.index import using_searcher

    with using_searcher() as searcher:
        return len(list(searcher.reader().leaf_readers()))


def measure(
    n: int, *, procs: int | None, repeat: int, clustering: bool, queries: int = QUERIES
) -> dict:
    """Everything for one corpus size; returns the headline figures."""
    from flask_migrate import upgrade

    from portal import create_app
    from portal.extensions import db
    from portal.search import index
    from portal.search.index import close_all, rebuild, status, using_searcher
    from portal.search.query import SearchParams, run_search, search

    figures: dict = {"n": n}
    print(f"\n  == {n:,} opinions ({_load()})", flush=True)
    started = time.perf_counter()
    docs, topics = make_corpus(n)
    queries = make_queries(topics, QUERIES)[:: max(1, QUERIES // queries)][:queries]
    print(f"  corpus generated in {time.perf_counter() - started:.1f} s", flush=True)
    with tempfile.TemporaryDirectory(prefix="bench-searchperf-") as tmp:
        config = {
            "SECRET_KEY": "bench",
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp}/bench.db",
            "INDEX_DIR": f"{tmp}/index",
            "UPLOAD_DIR": f"{tmp}/uploads",
        }
        if procs:
            config["SEARCH_REBUILD_PROCS"] = procs
        app = create_app(config)
        with app.app_context():
            upgrade()
            started = time.perf_counter()
            drafts = load_database(docs)
            seconds = time.perf_counter() - started
            print(f"  loaded into SQLite (bulk Core inserts) in {seconds:.1f} s", flush=True)
            del docs

            # Reading the rows and building the documents alone: rebuild()'s share that is not
            # Whoosh.
            from sqlalchemy.orm import Session

            if hasattr(index, "iter_documents"):
                started = time.perf_counter()
                with Session(db.engine) as session:
                    read = sum(len(batch) for batch in index.iter_documents(session))
                reading = time.perf_counter() - started
                print(
                    f"  reading rows and building documents alone: {reading:.1f} s "
                    f"({read / reading:.0f} docs/s)",
                    flush=True,
                )

            started = time.perf_counter()
            count = rebuild()
            seconds = time.perf_counter() - started
            figures["rebuild_s"] = seconds
            figures["rate"] = count / seconds
            figures["mb"] = dir_mb(app.config["INDEX_DIR"])
            print(
                f"  rebuild() of {count:,} opinions: {seconds:.1f} s, {count / seconds:.0f} docs/s"
                f" ({app.config.get('SEARCH_REBUILD_PROCS') or 'default'} procs);"
                f" index {figures['mb']:.1f} MB, {_segments()} segments",
                flush=True,
            )
            assert status()["in_sync"], status()

            close_all()
            started = time.perf_counter()
            search(SearchParams(q="物业"))
            figures["first_ms"] = (time.perf_counter() - started) * 1000
            print(
                f"  opening the index and a first search() (facet columns read): "
                f"{figures['first_ms']:.0f} ms",
                flush=True,
            )

            def page(q: str, **filters):
                return search(SearchParams(q=q, **filters))

            def no_facets(q: str):
                with using_searcher() as searcher:
                    return run_search(searcher, SearchParams(q=q), facets=False)

            print(f"  {len(queries)} queries of 1-3 words, fastest of {repeat} runs each:")
            figures["page"] = _latencies(
                "search(): total, 10 facets, 20 snippets", page, queries, repeat
            )
            figures["nofacets"] = _latencies(
                "  the same without facets", no_facets, queries, repeat
            )
            draft = drafts["2"]
            figures["draft"] = _latencies(
                "  with a draft filter", lambda q: page(q, draft_id=draft), queries, repeat
            )
            figures["newest"] = _latencies(
                "  sorted by date", lambda q: page(q, sort="newest"), queries, repeat
            )
            figures["empty"] = _latencies(
                f"empty query, all {n:,} opinions, facets", page, [""] * 20, repeat
            )
            figures["empty_draft"] = _latencies(
                "  empty query, one draft, facets",
                lambda q: page(q, draft_id=draft),
                [""] * 20,
                repeat,
            )
            figures["stance"] = _latencies(
                "  empty query, stance:oppose",
                lambda q: page(q, stance="oppose"),
                [""] * 20,
                repeat,
            )
            figures["commit"] = _commit_to_searchable(drafts["3"])
            print(f"  after the new opinions: {_segments()} segments", flush=True)
            if clustering:
                figures["clustering"] = _clustering(drafts["2"])
            db.session.remove()
            db.engine.dispose()
            close_all()
    print(f"  ({_load()})", flush=True)
    return figures


def _commit_to_searchable(draft_id: int, rounds: int = 5) -> tuple[float, float]:
    """A new opinion: commit with its outbox job, apply_pending() as the indexer does, then a
    fresh search() that must find it."""
    from portal.extensions import db
    from portal.models import Comment
    from portal.numerals import int_to_chinese
    from portal.search.index import apply_pending
    from portal.search.query import SearchParams, search

    times, syncs = [], []
    for n in range(1, rounds + 1):
        marker = f"xyzzy{n}"
        started = time.perf_counter()
        comment = Comment(
            draft_id=draft_id,
            body=f"第{int_to_chinese(n)}次测试：新提交的意见应当马上可以检索 {marker}。",
        )
        db.session.add(comment)
        db.session.commit()  # the outbox hook writes its job
        synced = time.perf_counter()
        report = apply_pending(wait=True)
        syncs.append((time.perf_counter() - synced) * 1000)
        assert report.indexed == 1, report
        result = search(SearchParams(q=marker))
        assert result.ids == [comment.id], result.ids
        times.append((time.perf_counter() - started) * 1000)
    median, worst = statistics.median(times), max(times)
    print(
        f"  commit to searchable (commit + apply_pending + search()), {rounds} new"
        f" opinions: median {median:.0f} ms, max {worst:.0f} ms (the sync alone: median"
        f" {statistics.median(syncs):.0f} ms)",
        flush=True,
    )
    return median, worst


def _clustering(draft_id: int) -> float:
    from portal.extensions import db
    from portal.review.clustering import recluster_draft

    started = time.perf_counter()
    report = recluster_draft(draft_id)
    db.session.commit()
    seconds = time.perf_counter() - started
    print(
        f"  recluster_draft of the largest draft ({report.comments:,} opinions): {seconds:.1f} s"
        f" ({report.clusters} clusters; synthetic template text, so only the time matters)",
        flush=True,
    )
    return seconds


def run(
    sizes: tuple[int, ...] = SIZES,
    *,
    procs: int | None = None,
    repeat: int = REPEAT,
    clustering: bool = True,
    queries: int = QUERIES,
) -> list[dict]:
    print(f"  {os.cpu_count()} CPUs; {_load()}")
    results = [
        measure(n, procs=procs, repeat=repeat, clustering=clustering, queries=queries)
        for n in sizes
    ]
    print(f"\n  clustering reference: {CLUSTERING_REFERENCE}")
    print("\n  opinions  rebuild s  docs/s   MB   p50/p95 page ms  no facets  empty q  commit ms")
    for f in results:
        print(
            f"  {f['n']:8,}  {f['rebuild_s']:9.1f}  {f['rate']:6.0f}  {f['mb']:4.0f}"
            f"  {f['page'][0]:6.1f}/{f['page'][1]:6.1f}  {f['nofacets'][1]:9.1f}"
            f"  {f['empty'][1]:7.1f}  {f['commit'][1]:9.0f}"
        )
    return results


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.searchperf", description=__doc__)
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)))
    parser.add_argument("--procs", type=int, default=None, help="SEARCH_REBUILD_PROCS")
    parser.add_argument("--repeat", type=int, default=REPEAT)
    parser.add_argument("--queries", type=int, default=QUERIES, help="a sample of the 200")
    parser.add_argument("--no-clustering", action="store_true")
    args = parser.parse_args(argv)
    sizes = tuple(int(size) for size in args.sizes.split(","))
    run(
        sizes,
        procs=args.procs,
        repeat=args.repeat,
        clustering=not args.no_clustering,
        queries=args.queries,
    )


if __name__ == "__main__":
    main()
