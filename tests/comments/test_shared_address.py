"""Many people behind one address (a household's Wi-Fi, an office, a carrier's NAT): one opinion
per person, never fewer, and limits that let them all take part (issue 11)."""

import re
import time

from portal.extensions import db
from portal.models import Comment, Role
from tests.comments.test_views import code_from, count, form_token, post_comment
from tests.drafts.test_views import make_draft

CAMPAIGN = (
    "关于第二条，我们认为生活垃圾分类应当循序渐进，不能一刀切。老旧小区没有条件设置四分类投放点，"
    "建议在第二条中增加因地制宜的规定，允许老旧小区保留部分垃圾桶。"
)
ADDRESS = "203.0.113.77"


def browser(app, address=ADDRESS):
    """A new browser (its own session cookie) behind the shared address, same User-Agent."""
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    client.environ_base["HTTP_USER_AGENT"] = "Mozilla/5.0 (Linux; Android 14) Mobile"
    return client


def receipt_page(client, response) -> str:
    return client.get(response.headers["Location"]).get_data(as_text=True)


def test_two_people_on_one_address_sending_the_same_text_get_their_own_receipts(app):
    make_draft()
    first, second = browser(app), browser(app)
    mine = post_comment(first, body=CAMPAIGN, name="张晓明", contact="13800000001", consent="y")
    theirs = post_comment(second, body=CAMPAIGN, name="李建国", contact="13900000002", consent="y")
    assert mine.status_code == theirs.status_code == 302
    assert "again" not in theirs.headers["Location"]
    assert code_from(mine) != code_from(theirs)
    assert count() == 2
    rows = db.session.scalars(db.select(Comment).order_by(Comment.id)).all()
    assert [(c.name, c.contact) for c in rows] == [
        ("张晓明", "13800000001"),
        ("李建国", "13900000002"),
    ]
    assert rows[0].participant_key != rows[1].participant_key

    my_receipt = receipt_page(first, mine)
    their_receipt = receipt_page(second, theirs)
    assert "张**" in my_receipt and "138****0001" in my_receipt
    assert "李**" not in my_receipt and "139****0002" not in my_receipt
    assert "李**" in their_receipt and "139****0002" in their_receipt
    assert "张**" not in their_receipt and "138****0001" not in their_receipt
    assert "没有重复提交" not in their_receipt


def test_the_same_browser_repeating_itself_is_still_one_opinion(app):
    make_draft()
    client = browser(app)
    first = post_comment(client, body=CAMPAIGN, idempotency_key="first-showing")
    again = post_comment(client, body=CAMPAIGN, idempotency_key="second-showing")
    assert code_from(first) == code_from(again)
    assert "again=1" in again.headers["Location"]
    assert "没有重复提交" in receipt_page(client, again)
    assert count() == 1


def test_a_logged_in_citizens_opinion_always_reaches_my_comments(app, make_user):
    make_draft()
    neighbour = browser(app)
    post_comment(neighbour, body=CAMPAIGN, name="王小红", contact="13700000003", consent="y")
    citizen = make_user(Role.citizen)
    client = browser(app)
    client.post("/login", data={"login": citizen.email, "password": "correct-horse-battery"})
    response = post_comment(client, body=CAMPAIGN)
    assert response.status_code == 302 and "again" not in response.headers["Location"]
    mine = client.get("/my/comments").get_data(as_text=True)
    assert code_from(response) in mine
    assert count() == 2
    receipt = receipt_page(client, response)
    assert "王**" not in receipt and "137****0003" not in receipt


def test_an_anonymous_opinion_is_not_returned_to_the_same_browser_after_login(app, make_user):
    """Sent anonymously, then the same form (same key) again after logging in: the citizen's
    logged-in opinion is their own and is listed under "my comments"."""
    make_draft()
    client = browser(app)
    anonymous = post_comment(client, idempotency_key="kept-key-0001")
    citizen = make_user(Role.citizen)
    client.post("/login", data={"login": citizen.email, "password": "correct-horse-battery"})
    logged_in = post_comment(client, idempotency_key="kept-key-0001")
    assert code_from(logged_in) != code_from(anonymous)
    mine = client.get("/my/comments").get_data(as_text=True)
    assert code_from(logged_in) in mine and code_from(anonymous) not in mine


def test_a_key_posted_from_another_session_never_returns_someone_elses_opinion(app):
    make_draft()
    victim, guesser = browser(app), browser(app)
    form = victim.get("/drafts/test-draft/comment").get_data(as_text=True)
    key = re.search(r'name="idempotency_key" type="hidden" value="([^"]+)"', form).group(1)
    original = post_comment(
        victim, idempotency_key=key, name="张晓明", contact="13800000001", consent="y"
    )
    # The same key and the same text from another browser on the same address.
    stolen = post_comment(guesser, idempotency_key=key)
    assert stolen.status_code == 302
    assert code_from(stolen) != code_from(original)
    assert "again" not in stolen.headers["Location"]
    page = receipt_page(guesser, stolen)
    assert "张**" not in page and "138****0001" not in page
    assert count() == 2
    # The stored key is bound to the session: the raw key is not what the database holds.
    assert db.session.scalar(db.select(Comment.idempotency_key).where(Comment.id == 1)) != key


def test_already_received_notice_only_in_the_browser_that_sent_it(app):
    make_draft()
    sender, other = browser(app), browser(app)
    post_comment(sender)
    again = post_comment(sender)
    assert "again=1" in again.headers["Location"]
    assert "没有重复提交" not in other.get(again.headers["Location"]).get_data(as_text=True)


def test_comment_limits_are_per_browser_and_an_address_holds_many(app_factory, app):
    app = app_factory(
        RATELIMIT_ENABLED=True,
        COMMENT_SESSION_RATE_LIMIT="2 per minute",
        COMMENT_RATE_LIMIT="5 per minute",
    )
    make_draft()
    busy = browser(app)
    codes = [post_comment(busy, body=f"第{n}条意见").status_code for n in range(3)]
    assert codes == [302, 302, 429]
    # Another browser on the same address still has its own allowance, up to the address's.
    others = [post_comment(browser(app), body=f"他人意见{n}").status_code for n in range(4)]
    assert others == [302, 302, 302, 429]
    assert count() == 5


def test_failed_validations_do_not_use_up_the_limits(app_factory, app):
    app = app_factory(
        RATELIMIT_ENABLED=True,
        COMMENT_SESSION_RATE_LIMIT="2 per minute",
        COMMENT_RATE_LIMIT="2 per minute",
    )
    make_draft()
    client = browser(app)
    mistakes = [
        post_comment(client, body=" "),  # empty: the form's validation
        post_comment(client, body="长" * 5001),
        post_comment(client, contact="13812341234"),  # no consent: the service's rule
        post_comment(client, target="article-99"),
    ]
    assert [r.status_code for r in mistakes] == [422, 422, 422, 422]
    codes = [post_comment(client, body=f"改正后的意见{n}").status_code for n in range(3)]
    assert codes == [302, 302, 429]
    # A bot's honeypot is an attempt, not a mistake to correct: it counts.
    bot = browser(app, "198.51.100.1")
    assert post_comment(bot, website="http://spam.example").status_code == 422
    assert post_comment(bot).status_code == 302
    assert post_comment(bot).status_code == 429


def _wait_on_page(page: str) -> int:
    match = re.search(r'class="retry-after"><strong>[^<]*?(\d+)', page)
    assert match, "the 429 page does not say how long to wait"
    return int(match.group(1))


def test_the_429_page_says_truthfully_how_long_to_wait(app_factory, app):
    app = app_factory(RATELIMIT_ENABLED=True, COMMENT_SESSION_RATE_LIMIT="1 per minute")
    make_draft()
    client = browser(app)
    assert post_comment(client, body="第一条意见").status_code == 302
    refused = post_comment(client, body="第二条意见")
    assert refused.status_code == 429
    page = refused.get_data(as_text=True)
    retry_after = int(refused.headers["Retry-After"])
    assert 0 < retry_after <= 60
    assert "秒" in page
    assert abs(_wait_on_page(page) - retry_after) <= 1
    assert re.search(r"\d\d:\d\d:\d\d", page)  # the clock time it allows again

    client.get("/?lang=en")
    english = post_comment(client, body="third")
    assert english.status_code == 429
    text = english.get_data(as_text=True)
    assert "second" in text  # Babel's English unit
    assert abs(_wait_on_page(text) - int(english.headers["Retry-After"])) <= 1


def test_an_exhausted_hourly_limit_is_not_hidden_behind_the_minute(app_factory, app):
    app = app_factory(RATELIMIT_ENABLED=True, COMMENT_SESSION_RATE_LIMIT="5 per minute; 1 per hour")
    make_draft()
    client = browser(app)
    assert post_comment(client, body="第一条意见").status_code == 302
    refused = post_comment(client, body="第二条意见")
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) > 60
    assert "分钟" in refused.get_data(as_text=True)


def test_receipt_lookups_are_limited_per_browser_not_per_address(app_factory, app):
    app = app_factory(RATELIMIT_ENABLED=True, LOOKUP_SESSION_RATE_LIMIT="3 per minute")
    one = browser(app)
    codes = [one.get(f"/receipts/0000-0000-0000-000{n}").status_code for n in range(4)]
    assert codes == [404, 404, 404, 429]
    assert browser(app).get("/receipts/0000-0000-0000-0009").status_code == 404


def test_registration_limits_are_per_browser_and_mistakes_are_free(app_factory, app):
    app = app_factory(RATELIMIT_ENABLED=True, REGISTER_SESSION_RATE_LIMIT="1 per hour")
    client = browser(app)
    mismatch = {"login": "a@example.org", "password": "long-password", "confirm": "other-pass"}
    assert client.post("/register", data=mismatch).status_code == 200  # the form says why
    assert client.post("/register", data=mismatch).status_code == 200
    good = {"login": "a@example.org", "password": "long-password", "confirm": "long-password"}
    assert client.post("/register", data=good).status_code == 302
    client.post("/logout")
    again = {**good, "login": "b@example.org"}
    assert client.post("/register", data=again).status_code == 429
    # A colleague on the same address registers.
    assert browser(app).post("/register", data=again).status_code == 302


def test_two_hundred_people_on_one_address_with_one_campaign_text(app_factory, app):
    """An office or a carrier NAT: 200 browsers send the same forwarded text within a minute,
    under the documented default limits. Every one is stored and counted, and the drafting team
    sees them as one duplicate cluster."""
    from portal.drafts.services import participation_by_draft
    from portal.review.clustering import recluster_draft

    app = app_factory(RATELIMIT_ENABLED=True)
    draft = make_draft()
    started = form_token(browser(app))  # a signed time, not tied to a browser
    began = time.monotonic()
    statuses, codes = [], set()
    for _ in range(200):
        response = post_comment(browser(app), body=CAMPAIGN, started=started)
        statuses.append(response.status_code)
        if response.status_code == 302:
            assert "again" not in response.headers["Location"]
            codes.add(code_from(response))
    elapsed = time.monotonic() - began
    assert "X-RateLimit-Remaining" in response.headers  # the limits were in force
    assert statuses == [302] * 200, f"refused after {elapsed:.0f} s"
    assert len(codes) == 200 and count() == 200
    figures = participation_by_draft([draft.id])[draft.id]
    assert (figures.comments, figures.participants) == (200, 200)

    report = recluster_draft(draft.id)
    db.session.commit()
    assert (report.clusters, report.clustered, report.largest) == (1, 200, 200)
    assert len(set(db.session.scalars(db.select(Comment.cluster_id)))) == 1
