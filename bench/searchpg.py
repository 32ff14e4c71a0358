"""Search in PostgreSQL beside the Whoosh backend, on one database, in one run.

The corpus of bench/corpus.py (bench/searchperf.py's loader: real Comment rows with chapters,
categories, liaison points and submissions) goes into a throw-away database on a PostgreSQL
server; the PostgreSQL backend's documents are built by its rebuild (docs/s), the Whoosh index
by its own rebuild from the same rows. Then the same 200 queries as bench/searchperf.py run
on each engine, interleaved query by query (the machine is shared): plain (no facets), the
search page (exact total, ten facets, 20 snippets) and within one draft. With the RUM
extension installed (apt-get install postgresql-15-rum), a copy of the documents with a RUM
index is searched too (top 20 ordered by the index, ``<=>``). Last, new opinions are
committed and searched for: with PostgreSQL the document is written in the opinion's
transaction.

    python -m bench searchpg                             # needs DATABASE_URL (a server)
    python -m bench.searchpg --size 100000 --queries 200 --url postgresql+psycopg://...
"""

from __future__ import annotations

import argparse
import functools
import os
import secrets
import statistics
import tempfile
import time
from contextlib import contextmanager

from bench.corpus import make_corpus, make_queries, percentile
from bench.searchperf import load_database

SIZE = 100_000
QUERIES = 200
REPEAT = 2


def _load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f}"


@contextmanager
def _database(server_url: str):
    """A throw-away database on the server, dropped afterwards."""
    import psycopg
    from sqlalchemy.engine import make_url

    url = make_url(server_url).set(drivername="postgresql+psycopg")
    name = f"bench_searchpg_{secrets.token_hex(4)}"
    admin = url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _ms(function) -> float:
    started = time.perf_counter()
    function()
    return (time.perf_counter() - started) * 1000


def _rum_setup(session) -> bool:
    """A copy of the documents with a RUM index, when the extension is installed."""
    from sqlalchemy import text

    available = session.scalar(
        text("SELECT count(*) FROM pg_available_extensions WHERE name = 'rum'")
    )
    if not available:
        print("  RUM: extension not installed (apt-get install postgresql-15-rum); skipped")
        return False
    try:
        session.execute(text("CREATE EXTENSION IF NOT EXISTS rum"))
    except Exception as error:  # installed but not loadable (a package for another minor)
        session.rollback()
        print(f"  RUM: extension cannot be loaded ({str(error).splitlines()[0][:120]}); skipped")
        return False
    started = time.perf_counter()
    session.execute(text("CREATE TABLE bench_rum AS SELECT * FROM comment_search"))
    session.execute(
        text("CREATE INDEX bench_rum_tsv ON bench_rum USING rum (tsv rum_tsvector_ops)")
    )
    session.execute(text("CREATE INDEX bench_rum_draft ON bench_rum (draft_id)"))
    session.execute(text("ANALYZE bench_rum"))
    session.commit()
    size = session.scalar(text("SELECT pg_relation_size('bench_rum_tsv')")) / 1e6
    print(f"  RUM: copy and index built in {time.perf_counter() - started:.1f} s, {size:.0f} MB")
    return True


def _rum_search(session, params, *, facets: bool) -> None:
    """The page on the RUM copy: top 20 ordered by the index, total and facets over matches.
    The SQL is the portal's own compiled condition with literal values (S608 below)."""
    from sqlalchemy import text

    from portal.search.pg import compile_query
    from portal.search.query import _parse

    query, _ = _parse(params.q)
    compiled = compile_query(query)
    sql = compiled.condition.compile(
        dialect=session.bind.dialect, compile_kwargs={"literal_binds": True}
    )
    where = str(sql).replace("comment_search.", "r.")
    if params.draft_id is not None:
        where += f" AND r.draft_id = {int(params.draft_id)}"
    rank = compiled.rank or "''"
    order = f"r.tsv <=> CAST({_quote(rank)} AS tsquery)" if compiled.rank else "r.comment_id"
    session.execute(
        text(f"SELECT r.comment_id FROM bench_rum r WHERE {where} ORDER BY {order} LIMIT 20")  # noqa: S608
    ).all()
    if facets:
        columns = "draft_id, article, chapter, stance, identity, channel, decision, district"
        sets = ", ".join(f"({c})" for c in columns.split(", "))
        session.execute(
            text(
                f"WITH m AS MATERIALIZED (SELECT {columns} FROM bench_rum r WHERE {where}) "  # noqa: S608
                f"SELECT {columns}, count(*) FROM m GROUP BY GROUPING SETS ((), {sets})"
            )
        ).all()
    else:
        session.execute(text(f"SELECT count(*) FROM bench_rum r WHERE {where}")).all()  # noqa: S608


def _quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def measure(server_url: str, n: int, queries_n: int, repeat: int, rum: bool) -> dict:
    from flask_migrate import upgrade
    from sqlalchemy import text
    from sqlalchemy.orm import Session

    from portal import create_app
    from portal.extensions import db
    from portal.search import index, pg
    from portal.search.index import close_all, using_searcher
    from portal.search.query import SearchParams, run_search

    figures: dict = {"n": n}
    print(f"\n  == {n:,} opinions ({_load()})", flush=True)
    docs, topics = make_corpus(n)
    queries = make_queries(topics, QUERIES)[:: max(1, QUERIES // queries_n)][:queries_n]
    with _database(server_url) as url, tempfile.TemporaryDirectory(prefix="bench-pg-") as tmp:
        config = {
            "SECRET_KEY": "bench",
            "SQLALCHEMY_DATABASE_URI": url,
            "INDEX_DIR": f"{tmp}/index",
            "UPLOAD_DIR": f"{tmp}/uploads",
            "JOB_DIR": f"{tmp}/jobs",
            "LOG_LEVEL": "WARNING",
        }
        whoosh_app = create_app({**config, "SEARCH_BACKEND": "whoosh"})
        app = create_app({**config, "SEARCH_BACKEND": "postgres"})
        with app.app_context():
            upgrade()
            started = time.perf_counter()
            drafts = load_database(docs)  # behind the outbox: both engines are rebuilt
            # The corpus carries its own ids: move the sequence past them.
            db.session.execute(
                text(
                    "SELECT setval(pg_get_serial_sequence('comments', 'id'), max(id)) FROM comments"
                )
            )
            db.session.commit()
            print(f"  loaded in {time.perf_counter() - started:.1f} s", flush=True)
            del docs

            started = time.perf_counter()
            with Session(db.engine) as session:
                count = pg.rebuild_documents(session)
            seconds = time.perf_counter() - started
            figures["pg_rate"] = count / seconds
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text("VACUUM ANALYZE comment_search"))
            sizes = db.session.execute(
                text(
                    "SELECT pg_total_relation_size('comment_search'),"
                    " pg_relation_size('ix_comment_search_tsv')"
                )
            ).one()
            print(
                f"  PostgreSQL rebuild: {count:,} documents in {seconds:.1f} s,"
                f" {count / seconds:.0f} docs/s; table {sizes[0] / 1e6:.0f} MB"
                f" (GIN {sizes[1] / 1e6:.0f} MB)",
                flush=True,
            )
            has_rum = rum and _rum_setup(db.session)
        with whoosh_app.app_context():
            started = time.perf_counter()
            count = index.rebuild()
            seconds = time.perf_counter() - started
            print(
                f"  Whoosh rebuild: {count:,} documents in {seconds:.1f} s,"
                f" {count / seconds:.0f} docs/s",
                flush=True,
            )
            close_all()

        draft = drafts["2"]
        engines = {}

        def pg_run(params, facets):
            with app.app_context():
                pg.run_search(db.session, params, facets=facets)
                db.session.rollback()

        def whoosh_run(params, facets):
            with whoosh_app.app_context(), using_searcher() as searcher:
                run_search(searcher, params, facets=facets)

        engines["PostgreSQL GIN ts_rank"] = pg_run
        engines["Whoosh backend"] = whoosh_run
        if has_rum:

            def rum_run(params, facets):
                with app.app_context():
                    _rum_search(db.session, params, facets=facets)
                    db.session.rollback()

            engines["PostgreSQL RUM <=>"] = rum_run
        kinds = {
            "plain": lambda q: (SearchParams(q=q), False),
            "facets": lambda q: (SearchParams(q=q), True),
            "one draft": lambda q: (SearchParams(q=q, draft_id=draft), True),
        }
        for run in engines.values():  # warm up: first connection, facet columns, caches
            run(SearchParams(q="物业"), True)
        times = {(e, k): [] for e in engines for k in kinds}
        print(f"  {len(queries)} queries, interleaved, fastest of {repeat} each ({_load()})")
        for q in queries:
            for kind, make in kinds.items():
                params, facets = make(q)
                for engine, run in engines.items():
                    call = functools.partial(run, params, facets)
                    best = min(_ms(call) for _ in range(repeat))
                    times[engine, kind].append(best)
        print(f"  {'engine':26} {'plain p50/p95':>16} {'facets p50/p95':>16} {'one draft':>16}")
        for engine in engines:
            cells = []
            for kind in kinds:
                values = times[engine, kind]
                p50, p95 = percentile(values, 50), percentile(values, 95)
                figures[engine, kind] = (p50, p95)
                cells.append(f"{p50:7.1f} /{p95:6.1f}")
            print(f"  {engine:26} {cells[0]:>16} {cells[1]:>16} {cells[2]:>16}", flush=True)

        with app.app_context():
            figures["new"] = _new_rows(drafts["3"])
            db.session.remove()
            db.engine.dispose()
        with whoosh_app.app_context():
            close_all()
            db.engine.dispose()
    print(f"  ({_load()})", flush=True)
    return figures


def _new_rows(draft_id: int, rounds: int = 20) -> tuple[float, float]:
    """Commit a new opinion (the outbox writes its document in the same transaction) and
    search for it at once: the time from the start of the commit to the result."""
    from portal.extensions import db
    from portal.models import Comment
    from portal.search import SearchParams, get_backend

    times = []
    for n in range(1, rounds + 1):
        marker = f"xyzzy{n}"
        db.session.add(Comment(draft_id=draft_id, body=f"新提交的意见应当马上可以检索 {marker}。"))
        db.session.flush()
        started = time.perf_counter()
        db.session.commit()
        result = get_backend().search(SearchParams(q=marker))
        times.append((time.perf_counter() - started) * 1000)
        assert result.total == 1, result.total
    median, worst = statistics.median(times), max(times)
    print(
        f"  new opinion searchable (commit with its document + search), {rounds} rounds:"
        f" median {median:.1f} ms, max {worst:.1f} ms",
        flush=True,
    )
    return median, worst


def run(
    size: int = SIZE,
    *,
    url: str | None = None,
    queries: int = QUERIES,
    repeat: int = REPEAT,
    rum: bool = True,
) -> dict | None:
    url = url or os.environ.get("DATABASE_URL")
    if not url or not url.startswith("postgres"):
        print("  needs a PostgreSQL server: DATABASE_URL=postgresql+psycopg://... or --url")
        return None
    print(f"  {os.cpu_count()} CPUs; {_load()}")
    return measure(url, size, queries, repeat, rum)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.searchpg", description=__doc__)
    parser.add_argument("--size", type=int, default=SIZE)
    parser.add_argument("--url", default=None, help="a PostgreSQL server (else DATABASE_URL)")
    parser.add_argument("--queries", type=int, default=QUERIES)
    parser.add_argument("--repeat", type=int, default=REPEAT)
    parser.add_argument("--no-rum", action="store_true")
    args = parser.parse_args(argv)
    run(args.size, url=args.url, queries=args.queries, repeat=args.repeat, rum=not args.no_rum)


if __name__ == "__main__":
    main()
