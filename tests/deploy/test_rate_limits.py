"""Rate limits that do not multiply: the warning for a configuration that would, counters kept in
Redis, and what happens while Redis cannot be reached (issue 12)."""

import redis

from portal.config import rate_limit_warnings
from portal.extensions import limiter
from tests.api.test_comments import OPINION, URL
from tests.conftest import _free_port
from tests.drafts.test_views import make_draft

LOOPBACK = [("127.0.0.1", 8000)]
EVERY_INTERFACE = "0.0.0.0"  # noqa: S104 (what a server reachable from other machines binds)


def test_one_process_on_memory_storage_is_exact():
    assert rate_limit_warnings("memory://", 1, LOOPBACK) == []
    assert rate_limit_warnings("memory://", 1, [("::1", 8000), ("localhost", 8001)]) == []
    assert rate_limit_warnings("memory://", 1, ["/run/portal/web.sock"]) == []


def test_several_processes_on_memory_storage_are_reported_with_the_factor():
    (message,) = rate_limit_warnings("memory://", 4, LOOPBACK)
    assert "multiplied by 4" in message and "lets 20 through" in message
    assert "PORTAL_RATELIMIT_STORAGE_URI=redis://" in message


def test_a_server_other_machines_can_reach_is_reported_as_possibly_one_of_several_hosts():
    (message,) = rate_limit_warnings("memory://", 1, [(EVERY_INTERFACE, 8000)])
    assert "several hosts" in message and EVERY_INTERFACE in message
    assert len(rate_limit_warnings("memory://", 2, [("10.0.0.5", 8000)])) == 2


def test_shared_storage_never_warns():
    for uri in ("redis://redis.internal:6379/0", "rediss://r:6380/0", "memcached://m:11211"):
        assert rate_limit_warnings(uri, 8, [(EVERY_INTERFACE, 8000)]) == []


def test_counters_are_kept_in_redis(app_factory, redis_url):
    app = app_factory(
        RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI=redis_url, COMMENT_RATE_LIMIT="2 per minute"
    )
    with app.app_context():
        make_draft()
    client = app.test_client()
    statuses = [
        client.post(URL, json={**OPINION, "body": f"第{n}条意见"}).status_code for n in range(3)
    ]
    assert statuses == [201, 201, 429]
    keys = redis.Redis.from_url(redis_url).keys("LIMITS*")
    assert keys, "no rate-limit counter in Redis"


def test_while_redis_is_unreachable_limits_count_in_memory_and_nothing_fails(app_factory):
    dead = f"redis://127.0.0.1:{_free_port()}/0"  # nothing listens there
    app = app_factory(
        RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI=dead, COMMENT_RATE_LIMIT="2 per minute"
    )
    with app.app_context():
        make_draft()
    client = app.test_client()
    try:
        statuses = [
            client.post(URL, json={**OPINION, "body": f"第{n}条意见"}).status_code for n in range(3)
        ]
        assert statuses == [201, 201, 429]
        assert client.get("/").status_code == 200
    finally:
        # The limiter is one object for every app of this process: the apps of later tests must
        # not start out believing their storage is down.
        limiter._storage_dead = False
