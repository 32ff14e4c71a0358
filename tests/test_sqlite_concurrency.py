"""SQLite with several worker processes: the per-connection settings, BEGIN IMMEDIATE for the
units of work that write, and several processes writing and reading one file at once with no
"database is locked" error and no opinion lost."""

from __future__ import annotations

import multiprocessing
import sqlite3
import time
import traceback
from pathlib import Path

import pytest
from sqlalchemy import func, select

from portal import create_app
from portal.database import writing
from portal.extensions import db
from tests.conftest import make_config

WRITERS = 3
READERS = 1
OPINIONS_PER_WRITER = 30


@pytest.fixture
def sqlite_app(app, app_factory, tmp_path):
    """An app on a fresh, migrated SQLite file of its own (also when the suite runs on
    PostgreSQL: these are SQLite's settings)."""
    from flask_migrate import upgrade

    made = app_factory(SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'shared.db'}")
    with made.app_context():
        upgrade()
        db.engine.dispose()
    return made


def _raw(path: Path) -> sqlite3.Connection:
    """A second connection that waits for nothing: any lock shows at once."""
    return sqlite3.connect(path, timeout=0, isolation_level=None)


def test_every_connection_gets_the_settings(sqlite_app):
    with sqlite_app.app_context():
        pragmas = {
            name: db.session.execute(db.text(f"PRAGMA {name}")).scalar()
            for name in ("journal_mode", "busy_timeout", "foreign_keys", "synchronous")
        }
        db.session.rollback()
    # synchronous 1 is NORMAL.
    assert pragmas == {
        "journal_mode": "wal",
        "busy_timeout": 10_000,
        "foreign_keys": 1,
        "synchronous": 1,
    }


def test_settings_come_from_the_configuration(app_factory, app, tmp_path):
    configured = app_factory(
        SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'c.db'}",
        SQLITE_BUSY_TIMEOUT_MS=2500,
        SQLITE_SYNCHRONOUS="full",
    )
    with configured.app_context():
        assert db.session.execute(db.text("PRAGMA busy_timeout")).scalar() == 2500
        assert db.session.execute(db.text("PRAGMA synchronous")).scalar() == 2
        db.session.rollback()
    with pytest.raises(ValueError, match="SQLITE_SYNCHRONOUS"):
        app_factory(
            SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'd.db'}", SQLITE_SYNCHRONOUS="sometimes"
        )


def _holds_write_lock(path: Path) -> bool:
    other = _raw(path)
    try:
        other.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError as error:
        assert "locked" in str(error)
        return True
    else:
        other.execute("ROLLBACK")
        return False
    finally:
        other.close()


def test_writers_begin_immediate_readers_do_not(sqlite_app, tmp_path):
    path = tmp_path / "shared.db"
    with sqlite_app.app_context():
        # A reader: a deferred BEGIN, no lock taken by a SELECT.
        db.session.execute(select(func.count()).select_from(db.metadata.tables["comments"]))
        assert db.session().in_transaction()
        assert not _holds_write_lock(path)
        db.session.rollback()

        # A CLI command or a job inside writing(): the write lock from the first statement on.
        with writing():
            db.session.execute(select(1))
            assert _holds_write_lock(path)
            db.session.rollback()
        assert not _holds_write_lock(path)

    for method, expected in (("POST", True), ("DELETE", True), ("GET", False), ("HEAD", False)):
        with sqlite_app.test_request_context("/", method=method):
            db.session.execute(select(1))
            assert _holds_write_lock(path) is expected, method
            db.session.rollback()


def test_a_reader_that_writes_after_another_commit_waits_instead_of_failing(sqlite_app, tmp_path):
    """A unit of work that is not marked as a writer (a GET that records a token's use) reads,
    another process commits, then it writes: it must not fail with "database is locked"
    (a held read snapshot would make SQLite refuse the write at once)."""
    from portal.models import LiaisonPoint, PointLevel

    path = tmp_path / "shared.db"
    with sqlite_app.app_context():
        count = select(func.count()).select_from(db.metadata.tables["liaison_points"])
        before = db.session.scalar(count)
        other = _raw(path)
        other.execute(
            "INSERT INTO liaison_points (code, name, name_en, level, district, district_en,"
            " address, contact_name, contact_phone, active, created_at)"
            " VALUES ('X-1', 'x', '', 'municipal', '', '', '', '', '', 1, '2026-01-01')"
        )
        other.close()
        assert not _holds_write_lock(path)  # the reader took no lock
        db.session.add(LiaisonPoint(code="X-2", name="y", level=PointLevel.municipal))
        db.session.commit()
        assert db.session.scalar(count) == before + 2
        db.session.rollback()


# --- several processes -----------------------------------------------------------------------


def _app_for(url: str, instance: str):
    import os

    overrides = {}
    if os.environ.get("CONTROL_BUSY_TIMEOUT_MS"):  # manual check that the test can fail
        overrides["SQLITE_BUSY_TIMEOUT_MS"] = int(os.environ["CONTROL_BUSY_TIMEOUT_MS"])
    return create_app(make_config(url, instance, **overrides))


def _writer(url: str, instance: str, n: int, barrier, results) -> None:
    """Submit opinions through the service, as a request would (POST) or a job (writing())."""
    codes, errors, started = [], [], time.perf_counter()
    try:
        from portal.comments.services import ClientInfo, CommentInput, submit_comment
        from portal.models import Draft

        app = _app_for(url, instance)
        barrier.wait(timeout=120)
        started = time.perf_counter()  # from the moment all processes are ready
        for i in range(OPINIONS_PER_WRITER):
            context = (
                app.test_request_context("/drafts/d/comment", method="POST")
                if i % 2
                else app.app_context()
            )
            try:
                with context, writing():
                    draft = db.session.scalar(select(Draft))
                    client = ClientInfo("203.0.113.5", "UA", browser_id=f"writer-{n}-{i:04d}")
                    body = f"第{n}号进程的第{i}条意见：建议明确责任。"
                    result = submit_comment(draft, CommentInput(body=body), client=client)
                    db.session.commit()
                    codes.append(result.comment.tracking_code)
            except Exception as error:  # every failure is reported, none stops the others
                errors.append(f"writer {n} #{i}: {type(error).__name__}: {error}")
        elapsed = time.perf_counter() - started
    except Exception:
        errors.append(traceback.format_exc())
        elapsed = 0.0
    results.put(("writer", n, codes, errors, elapsed))


def _reader(url: str, instance: str, n: int, barrier, stop, results) -> None:
    """Read what the writers write, all along, as the public pages do."""
    reads, errors = 0, []
    try:
        from portal.models import Comment

        app = _app_for(url, instance)
        barrier.wait(timeout=120)
        while not stop.is_set():
            try:
                with app.app_context():
                    db.session.scalar(select(func.count(Comment.id)))
                    db.session.scalars(select(Comment).order_by(Comment.id.desc()).limit(20)).all()
                    reads += 1
            except Exception as error:
                errors.append(f"reader {n}: {type(error).__name__}: {error}")
            time.sleep(0.005)
    except Exception:
        errors.append(traceback.format_exc())
    results.put(("reader", n, reads, errors, 0.0))


def test_several_processes_write_and_read_without_lock_errors(sqlite_app, tmp_path):
    from tests.drafts.test_views import make_draft

    url = sqlite_app.config["SQLALCHEMY_DATABASE_URI"]
    with sqlite_app.app_context():
        make_draft()
        db.engine.dispose()

    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(WRITERS + READERS)
    stop = ctx.Event()
    results = ctx.Queue()
    instance = str(tmp_path / "instance")
    writers = [
        ctx.Process(target=_writer, args=(url, instance, n, barrier, results))
        for n in range(WRITERS)
    ]
    readers = [
        ctx.Process(target=_reader, args=(url, instance, n, barrier, stop, results))
        for n in range(READERS)
    ]
    for process in writers + readers:
        process.start()
    outcomes = [results.get(timeout=300) for _ in writers]
    stop.set()
    outcomes += [results.get(timeout=60) for _ in readers]
    for process in writers + readers:
        process.join(timeout=60)

    errors = [e for outcome in outcomes for e in outcome[3]]
    assert errors == [], "\n".join(errors)
    codes = [c for kind, _, found, _, _ in outcomes if kind == "writer" for c in found]
    assert len(codes) == WRITERS * OPINIONS_PER_WRITER
    assert all(reads > 0 for kind, _, reads, _, _ in outcomes if kind == "reader")
    seconds = max(outcome[4] for outcome in outcomes)
    print(f"{len(codes)} opinions from {WRITERS} processes in {seconds:.1f} s")

    check = sqlite3.connect(tmp_path / "shared.db")
    try:
        stored = {row[0] for row in check.execute("SELECT tracking_code FROM comments")}
        assert stored == set(codes)  # every acknowledged opinion is there, nothing else
        assert check.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert check.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    finally:
        check.close()
