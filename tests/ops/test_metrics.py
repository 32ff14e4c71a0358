"""/metrics: closed to the public, open to the configured networks or the bearer token; the
figures it shows, in one process and added up over several."""

import os
import subprocess
import sys
import textwrap
from datetime import timedelta

from prometheus_client import REGISTRY

from portal.comments import services as comments
from portal.comments.services import ClientInfo, CommentInput
from portal.extensions import db
from portal.liaison import services as liaison
from portal.liaison.services import OpinionData
from portal.models import IndexAction, IndexJob, utcnow
from portal.ops import metrics
from tests.drafts.test_views import make_draft
from tests.liaison.test_services import new_batch

PUBLIC = {"REMOTE_ADDR": "203.0.113.9"}
LOOPBACK = {"REMOTE_ADDR": "127.0.0.1"}


def sample(name: str, **labels) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_refused_from_a_public_address(client):
    response = client.get("/metrics", environ_base=PUBLIC)
    assert response.status_code == 403
    assert b"portal_" not in response.data


def test_allowed_from_loopback_by_default(client):
    client.get("/track")
    response = client.get("/metrics", environ_base=LOOPBACK)
    assert response.status_code == 200
    assert response.content_type.startswith("text/plain")
    text = response.get_data(as_text=True)
    for name in (
        "portal_http_requests_total",
        "portal_http_request_duration_seconds_bucket",
        "portal_opinions_accepted_total",
        "portal_jobs_queued_total",
        "portal_jobs_failed_total",
        "portal_outbox_lag_seconds",
        "portal_database_up 1.0",
    ):
        assert name in text


def test_the_token_admits_a_public_address(app_factory, app):
    client = app_factory(METRICS_TOKEN="s3cret-scrape-token").test_client()
    good = {"Authorization": "Bearer s3cret-scrape-token"}
    assert client.get("/metrics", environ_base=PUBLIC, headers=good).status_code == 200
    wrong = {"Authorization": "Bearer s3cret-scrape-tokem"}
    assert client.get("/metrics", environ_base=PUBLIC, headers=wrong).status_code == 403
    assert client.get("/metrics", environ_base=PUBLIC).status_code == 403


def test_configured_networks(app_factory, app):
    client = app_factory(METRICS_ALLOWED_NETWORKS=("10.0.0.0/8",)).test_client()
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "10.1.2.3"}).status_code == 200
    assert client.get("/metrics", environ_base=LOOPBACK).status_code == 403


def test_a_request_through_a_proxy_is_not_taken_for_loopback(client):
    """Behind nginx without PROXY_FIX_X_FOR every visitor seems to come from 127.0.0.1."""
    forwarded = {"X-Forwarded-For": "198.51.100.7"}
    response = client.get("/metrics", environ_base=LOOPBACK, headers=forwarded)
    assert response.status_code == 403


def test_requests_are_counted_and_timed(client):
    before = sample(
        "portal_http_requests_total", endpoint="comments.track", method="GET", status="200"
    )
    timed = sample(
        "portal_http_request_duration_seconds_count", endpoint="comments.track", method="GET"
    )
    assert client.get("/track").status_code == 200
    after = sample(
        "portal_http_requests_total", endpoint="comments.track", method="GET", status="200"
    )
    assert after == before + 1
    assert (
        sample(
            "portal_http_request_duration_seconds_count", endpoint="comments.track", method="GET"
        )
        == timed + 1
    )
    unmatched = sample(
        "portal_http_requests_total", endpoint="unmatched", method="GET", status="404"
    )
    assert client.get("/no-such-page").status_code == 404
    assert (
        sample("portal_http_requests_total", endpoint="unmatched", method="GET", status="404")
        == unmatched + 1
    )


def test_online_opinions_count_once_committed(app):
    draft = make_draft()
    before = sample("portal_opinions_accepted_total", channel="online")
    client = ClientInfo("203.0.113.5", "UA", browser_id="metrics-browser-01")
    comments.submit_comment(draft, CommentInput(body="第一条意见的内容。"), client=client)
    db.session.rollback()
    assert sample("portal_opinions_accepted_total", channel="online") == before
    comments.submit_comment(draft, CommentInput(body="第二条意见的内容。"), client=client)
    db.session.commit()
    assert sample("portal_opinions_accepted_total", channel="online") == before + 1
    # A repeat returns the existing opinion: nothing new accepted.
    comments.submit_comment(draft, CommentInput(body="第二条意见的内容。"), client=client)
    db.session.commit()
    assert sample("portal_opinions_accepted_total", channel="online") == before + 1


def test_a_submitted_batch_counts_its_opinions(two_points, open_draft):
    before = sample("portal_opinions_accepted_total", channel="liaison")
    batch = new_batch(two_points, open_draft)
    staff = two_points["east_staff"]
    liaison.add_opinions(batch, [OpinionData(body="意见一"), OpinionData(body="意见二")], staff)
    db.session.commit()
    assert sample("portal_opinions_accepted_total", channel="liaison") == before  # not sent yet
    liaison.submit(batch, staff)
    db.session.commit()
    assert sample("portal_opinions_accepted_total", channel="liaison") == before + 2


def test_outbox_lag_is_read_at_scrape_time(client):
    db.session.add(
        IndexJob(comment_id=7, action=IndexAction.upsert, created_at=utcnow() - timedelta(hours=1))
    )
    db.session.commit()
    text = client.get("/metrics", environ_base=LOOPBACK).get_data(as_text=True)
    lines = dict(
        line.rsplit(" ", 1) for line in text.splitlines() if line.startswith("portal_outbox")
    )
    assert 3599 <= float(lines["portal_outbox_lag_seconds"]) < 3700
    assert float(lines["portal_outbox_pending"]) == 1


def test_job_counters_exist_for_the_job_code():
    before = sample("portal_jobs_failed_total")
    metrics.JOBS_FAILED.inc()
    assert sample("portal_jobs_failed_total") == before + 1
    metrics.JOBS_QUEUED.inc()  # unlabelled: the job code calls .inc()


# Several gunicorn workers: each process writes its values to PROMETHEUS_MULTIPROC_DIR and the
# one answering the scrape adds them up.
WORKER = textwrap.dedent(
    """
    import sys
    from portal.ops import metrics
    metrics.OPINIONS_ACCEPTED.labels("online").inc(int(sys.argv[1]))
    metrics.REQUESTS.labels("comments.new", "POST", "201").inc()
    """
)
SCRAPER = textwrap.dedent(
    """
    import sys
    from portal import create_app
    url, instance = sys.argv[1], sys.argv[2]
    config = {"TESTING": True, "SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": url,
              "INDEX_DIR": instance, "UPLOAD_DIR": instance}
    app = create_app(config, instance_path=instance)
    response = app.test_client().get("/metrics")
    assert response.status_code == 200, response.status_code
    sys.stdout.write(response.get_data(as_text=True))
    """
)


def test_multiprocess_mode_adds_up_every_worker(tmp_path):
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "prom")}
    for count in (3, 4):
        subprocess.run([sys.executable, "-c", WORKER, str(count)], env=env, check=True)
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    out = subprocess.run(
        [sys.executable, "-c", SCRAPER, url, str(tmp_path / "instance")],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    assert 'portal_opinions_accepted_total{channel="online"} 7.0' in out
    assert 'endpoint="comments.new",method="POST",status="201"} 2.0' in out
    # An unmigrated database: the scrape still answers, and says so.
    assert "portal_database_up 0.0" in out
