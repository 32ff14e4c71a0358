"""Absolute links come from PUBLIC_URL (or SERVER_NAME), never from the request's Host header."""

from __future__ import annotations

import pytest
from defusedxml import ElementTree as ET

from portal import create_app
from portal.config import apply_environment
from portal.drafts import results
from portal.extensions import db
from portal.models import Role
from portal.urls import DEFAULT_PUBLIC_URL, external_url, public_url
from tests.conftest import make_config
from tests.drafts.test_views import make_draft

ATOM = "{http://www.w3.org/2005/Atom}"
EVIL = {"Host": "evil.example"}
OPINION = {"body": "建议第二条增加对小区的适用。", "article": 2, "stance": "amend"}


def feed_links(data: bytes) -> list[str]:
    root = ET.fromstring(data)
    links = [link.get("href") for link in root.iter(f"{ATOM}link")]
    return links + [element.text for element in root.iter(f"{ATOM}id")]


@pytest.fixture
def with_results(app, make_user):
    """One open draft and one closed draft with published results: both kinds of feed entry."""
    make_draft("open-draft")
    closed = make_draft(opens=-20, closes=-1)
    results.publish_results(closed, make_user(Role.drafter))
    db.session.commit()


def test_feed_links_ignore_the_host_header(client, with_results):
    response = client.get("/feed.atom", headers=EVIL)
    assert response.status_code == 200
    links = feed_links(response.data)
    assert len(links) >= 6  # self, alternate, two entries with link and id, the feed id
    assert all(link.startswith(DEFAULT_PUBLIC_URL + "/") for link in links), links
    assert b"evil.example" not in response.data
    assert f"{DEFAULT_PUBLIC_URL}/drafts/test-draft/results" in links


def test_api_receipt_url_ignores_the_host_header(client):
    make_draft()
    created = client.post("/api/v1/drafts/test-draft/comments", json=OPINION, headers=EVIL)
    assert created.status_code == 201
    code = created.get_json()["tracking_code"]
    assert created.get_json()["url"].startswith(DEFAULT_PUBLIC_URL + "/")
    receipt = client.get(f"/api/v1/receipts/{code}", headers=EVIL)
    assert receipt.status_code == 200
    assert receipt.get_json()["url"].startswith(DEFAULT_PUBLIC_URL + "/")
    assert code in receipt.get_json()["url"]
    assert b"evil.example" not in created.data + receipt.data


def test_api_draft_urls_and_problem_types_ignore_the_host_header(client):
    make_draft()
    listing = client.get("/api/v1/drafts", headers=EVIL)
    detail = client.get("/api/v1/drafts/test-draft", headers=EVIL)
    missing = client.get("/api/v1/drafts/no-such-draft", headers=EVIL)
    assert detail.get_json()["url"] == f"{DEFAULT_PUBLIC_URL}/drafts/test-draft"
    assert missing.status_code == 404
    assert missing.get_json()["type"].startswith(DEFAULT_PUBLIC_URL + "/")
    for response in (listing, detail, missing):
        assert b"evil.example" not in response.data


def test_public_url_setting_with_a_path_prefix(app_factory):
    app = app_factory(PUBLIC_URL="https://YiJian.example.gov.cn/consult/")
    with app.test_request_context("/", headers=EVIL):
        make_draft()
        assert external_url("drafts.show", slug="test-draft") == (
            "https://yijian.example.gov.cn/consult/drafts/test-draft"
        )
        assert external_url("main.index", _anchor="a b") == (
            "https://yijian.example.gov.cn/consult/#a%20b"
        )
    client = app.test_client()
    data = client.get("/feed.atom", headers=EVIL).data
    assert all(
        link.startswith("https://yijian.example.gov.cn/consult/") for link in feed_links(data)
    )


def test_derived_from_server_name_without_public_url(app_factory):
    app = app_factory(SERVER_NAME="portal.example.gov.cn", PREFERRED_URL_SCHEME="https")
    with app.app_context():
        assert external_url("main.feed") == "https://portal.example.gov.cn/feed.atom"


def test_outside_a_request(app):
    # No request context at all: a CLI command or a job can build links too.
    assert external_url("main.index") == DEFAULT_PUBLIC_URL + "/"


@pytest.mark.parametrize(
    "value",
    [
        "yijian.example.gov.cn",
        "ftp://example.org",
        "https://",
        "https://a@example.org",
        "https://example.org/?x=1",
        "https://example.org:port",
    ],
)
def test_a_wrong_public_url_stops_the_start_with_a_clear_message(tmp_path, value):
    with pytest.raises(ValueError, match="PUBLIC_URL"):
        create_app(make_config("sqlite://", str(tmp_path), PUBLIC_URL=value))


def test_public_url_from_the_environment():
    config: dict = {}
    apply_environment(config, {"PORTAL_PUBLIC_URL": "https://yijian.example.gov.cn/"})
    assert public_url(config) == "https://yijian.example.gov.cn"
    assert public_url({}) == DEFAULT_PUBLIC_URL
