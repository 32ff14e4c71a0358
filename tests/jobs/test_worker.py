"""`flask portal worker` for real: a separate process on the test database runs queued jobs,
keeps the search index up to date, and stops cleanly on Ctrl-C (SIGINT) and SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from portal.comments.services import ClientInfo, CommentInput, submit_comment
from portal.extensions import db
from portal.jobs import services as jobs
from portal.models import Job, JobState, Role
from portal.search import SearchParams, get_backend
from tests.drafts.test_views import make_draft

WAIT = 60  # seconds: generous for a loaded CI machine; a healthy run takes one or two


def wait_for(condition, what: str, process: subprocess.Popen, log_path) -> None:
    deadline = time.monotonic() + WAIT
    while not condition():
        if process.poll() is not None or time.monotonic() > deadline:
            log = log_path.read_text(errors="replace")[-3000:]
            pytest.fail(f"worker did not {what} (exit {process.poll()}):\n{log}")
        time.sleep(0.2)


@pytest.fixture
def worker(migrated, tmp_path, search_backend):
    """The worker in its own process, configured like the tests' apps (same database, index,
    job folder and queue), from an empty instance folder of its own."""
    log_path = tmp_path / "worker.log"
    env = {
        **os.environ,
        "FLASK_APP": f"portal:create_app(instance_path={str(tmp_path / 'worker-instance')!r})",
        "PORTAL_DATABASE_URL": migrated,
        "PORTAL_INDEX_DIR": str(tmp_path / "index"),
        "PORTAL_UPLOAD_DIR": str(tmp_path / "uploads"),
        "PORTAL_JOB_DIR": str(tmp_path / "jobs"),
        "PORTAL_SECRET_KEY": "test-secret",
        "PORTAL_SEARCH_BACKEND": search_backend,  # the tests' apps' engine
    }
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "flask", "portal", "worker", "--threads", "1"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        yield process, log_path
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)


@pytest.mark.parametrize("stop_signal", [signal.SIGINT, signal.SIGTERM])
def test_the_worker_runs_jobs_indexes_opinions_and_stops(
    app_factory, make_user, worker, stop_signal
):
    process, log_path = worker
    with app_factory(JOBS_IMMEDIATE=False).app_context():
        draft = make_draft()
        submit_comment(
            draft,
            CommentInput(body="建议增设垃圾分类指导员。", target="draft"),
            client=ClientInfo("192.0.2.7", "t"),
        )
        db.session.commit()
        user = make_user(Role.drafter)
        job = jobs.start(
            "review.export", user, draft_id=draft.id, slug=draft.slug, fmt="csv", args=[]
        )
        db.session.commit()

        def finished() -> bool:
            db.session.rollback()
            return db.session.get(Job, job.id).state in (JobState.done, JobState.failed)

        wait_for(finished, "finish the export", process, log_path)
        done = db.session.get(Job, job.id)
        assert done.state is JobState.done, done.error
        assert done.result == {"opinions": 1}
        assert "指导员" in (jobs.job_dir() / done.result_file).read_text(encoding="utf-8-sig")

        def searchable() -> bool:
            db.session.rollback()
            return get_backend().count(SearchParams(q="指导员")) == 1

        # The web never wrote the index: the worker's indexer did.
        wait_for(searchable, "index the opinion", process, log_path)

    process.send_signal(stop_signal)
    assert process.wait(timeout=WAIT) == 0, log_path.read_text(errors="replace")[-3000:]
