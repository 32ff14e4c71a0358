"""Jobs: started in a transaction, queued after its commit, claimed once, progress, failure,
the sweep, and who may see a job."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, text

from portal.extensions import db
from portal.jobs import services as jobs
from portal.jobs.queue import get_queue
from portal.models import Job, JobState, Role, utcnow
from tests.conftest import PASSWORD

SEEN: list[dict] = []


@pytest.fixture(autouse=True, scope="module")
def test_kinds():
    """Two kinds of the tests' own: one that counts with progress, one that fails."""

    @jobs.job_kind(
        "test.count",
        title="Count",
        roles=(Role.drafter, Role.admin),
        summary=lambda job: f"counted {job.result['n']}",
    )
    def count(job, progress):
        n = job.params["n"]
        for _ in progress.iterate(range(n), n):
            pass
        # What the page would show in the middle of the run, read on another connection.
        with db.engine.connect() as other:
            row = other.execute(
                text("SELECT state, done, total FROM jobs WHERE id = :id"), {"id": job.id}
            ).one()
        SEEN.append({"state": row[0], "done": row[1], "total": row[2]})
        if job.params.get("file"):
            return jobs.Outcome(b"a,b\r\n", "count.csv", "text/csv", {"n": n})
        return jobs.Outcome(result={"n": n})

    @jobs.job_kind(
        "test.fail",
        title="Fail",
        roles=(Role.drafter,),
        errors={"too_big": "Too big: %(n)d"},
    )
    def fail(job, progress):
        if job.params.get("code"):
            raise jobs.JobFailed("too_big", n=job.params["n"])
        raise RuntimeError("boom")

    yield
    jobs.KINDS.pop("test.count")
    jobs.KINDS.pop("test.fail")


@pytest.fixture
def drafter(make_user):
    return make_user(Role.drafter)


def client_for(app, user):
    client = app.test_client()
    assert (
        client.post("/login", data={"login": user.email, "password": PASSWORD}).status_code == 302
    )
    return client


def test_a_job_runs_when_its_transaction_commits_and_reports_progress(app, drafter):
    SEEN.clear()
    job = jobs.start("test.count", drafter, n=5, file=True)
    assert job.state is JobState.queued and not SEEN  # nothing runs before the commit
    db.session.commit()
    db.session.refresh(job)
    assert job.state is JobState.done
    assert SEEN == [{"state": "running", "done": 5, "total": 5}]
    assert (job.done, job.total, job.percent, job.result) == (5, 5, 100, {"n": 5})
    client = client_for(app, drafter)
    page = client.get(f"/jobs/{job.id}").get_data(as_text=True)
    assert "counted 5" in page and f"/jobs/{job.id}/download" in page
    with client.get(f"/jobs/{job.id}/download") as download:
        assert download.data == b"a,b\r\n"
        assert "attachment" in download.headers["Content-Disposition"]
        assert download.headers["Cache-Control"] == "private, no-store"


def test_a_rolled_back_transaction_queues_nothing(app, drafter):
    SEEN.clear()
    jobs.start("test.count", drafter, n=1)
    db.session.rollback()
    db.session.commit()  # a later commit must not send the forgotten job
    assert SEEN == []
    assert db.session.scalar(select(Job.id)) is None


def test_a_job_waits_in_the_queue_until_a_worker_takes_it(app_factory, make_user):
    """Queued for real (the embedded SQLite queue): the page says so until the worker runs it,
    and a second delivery of the same message finds it claimed."""
    app = app_factory(JOBS_IMMEDIATE=False)
    # The test's own context is another app on the same queue: requests must not share it.
    with app_factory(JOBS_IMMEDIATE=False).app_context():
        user = make_user(Role.drafter)
        job = jobs.start("test.count", user, n=3)
        db.session.commit()
        huey = get_queue().huey
        assert huey.pending_count() == 1
        client = client_for(app, user)
        page = client.get(f"/jobs/{job.id}").get_data(as_text=True)
        assert "排队等候处理" in page and f'data-job-status="/jobs/{job.id}/status"' in page
        status = client.get(f"/jobs/{job.id}/status").get_json()
        assert status["state"] == "queued" and status["finished"] is False
        huey.execute(huey.dequeue())
        assert jobs.execute(job.id) is None  # the same message delivered again
        db.session.expire_all()
        assert db.session.get(Job, job.id).state is JobState.done
        assert db.session.get(Job, job.id).attempts == 1
        status = client.get(f"/jobs/{job.id}/status").get_json()
        assert status["finished"] is True and status["percent"] == 100


def test_a_failing_job_says_so_in_the_readers_language(app, drafter):
    crash = jobs.start("test.fail", drafter)
    refused = jobs.start("test.fail", drafter, code=True, n=7)
    db.session.commit()
    db.session.refresh(crash)
    db.session.refresh(refused)
    assert crash.state is JobState.failed and crash.error == "failed"
    assert refused.state is JobState.failed and refused.error == "too_big"
    client = client_for(app, drafter)
    assert "处理时出现错误" in client.get(f"/jobs/{crash.id}").get_data(as_text=True)
    english = client.get(f"/jobs/{crash.id}?lang=en").get_data(as_text=True)
    assert "Something went wrong" in english
    assert "Too big: 7" in client.get(f"/jobs/{refused.id}").get_data(as_text=True)


def test_only_the_person_who_started_a_job_sees_it(app, drafter, make_user):
    job = jobs.start("test.count", drafter, n=1, file=True)
    db.session.commit()
    other = client_for(app, make_user(Role.drafter))
    for suffix in ("", "/status", "/download"):
        assert other.get(f"/jobs/{job.id}{suffix}").status_code == 404, suffix
        assert app.test_client().get(f"/jobs/{job.id}{suffix}").status_code == 302  # log in
    assert f'href="/jobs/{job.id}"' not in other.get("/jobs/").get_data(as_text=True)
    assert f'href="/jobs/{job.id}"' in client_for(app, drafter).get("/jobs/").get_data(as_text=True)
    # The owner, once no longer on the drafting team, loses it too.
    owner = client_for(app, drafter)
    assert owner.get(f"/jobs/{job.id}").status_code == 200
    drafter.role = Role.citizen
    db.session.commit()
    assert owner.get(f"/jobs/{job.id}/download").status_code == 404
    assert owner.get("/jobs/999999").status_code == 404


def test_the_sweep_resends_lost_messages_requeues_lost_runs_and_forgets_old_jobs(
    app_factory, make_user
):
    app = app_factory(JOBS_IMMEDIATE=False)
    with app.app_context():
        user = make_user(Role.drafter)
        now = utcnow()
        lost_message = Job(
            kind="test.count",
            owner_id=user.id,
            params={"n": 1},
            created_at=now - timedelta(minutes=10),
        )
        lost_run = Job(
            kind="test.count",
            owner_id=user.id,
            params={"n": 1},
            state=JobState.running,
            attempts=1,
            heartbeat_at=now - timedelta(hours=1),
        )
        hopeless = Job(
            kind="test.count",
            owner_id=user.id,
            params={"n": 1},
            state=JobState.running,
            attempts=jobs.MAX_ATTEMPTS,
            heartbeat_at=now - timedelta(hours=1),
        )
        old = Job(
            kind="test.count",
            owner_id=user.id,
            state=JobState.done,
            finished_at=now - timedelta(days=8),
            result_file="x/old.csv",
        )
        fresh = Job(kind="test.count", owner_id=user.id, params={"n": 1})
        db.session.add_all([lost_message, lost_run, hopeless, old, fresh])
        db.session.commit()
        folder = jobs.job_dir() / str(old.id)
        folder.mkdir(parents=True)
        (folder / "old.csv").write_text("x")
        report = jobs.sweep()
        assert report == {"resent": 1, "lost": 2, "removed": 1}
        huey = get_queue().huey
        assert huey.pending_count() == 2  # the lost message and the lost run
        assert db.session.get(Job, lost_run.id).state is JobState.queued
        assert db.session.get(Job, hopeless.id).state is JobState.failed
        assert db.session.get(Job, hopeless.id).error == "lost"
        assert db.session.get(Job, old.id) is None and not folder.exists()
        while huey.pending_count():
            huey.execute(huey.dequeue())
        db.session.expire_all()
        assert db.session.get(Job, lost_run.id).state is JobState.done
        assert db.session.get(Job, lost_message.id).state is JobState.done
        assert db.session.get(Job, fresh.id).state is JobState.queued  # its message is still due
