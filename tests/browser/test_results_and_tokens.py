"""Two journeys of the API issue: the drafting team publishes a closed consultation's results and
a citizen reads them on a phone in English; a liaison worker creates an API token with the
keyboard and their system uses it."""

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import DESKTOP, PHONE
from tests.browser.test_accessibility import assert_no_serious
from tests.browser.test_liaison import log_in

pytestmark = pytest.mark.browser


def test_results_published_and_read_on_a_phone_in_english(page_factory, artifacts):
    drafter = page_factory(viewport=DESKTOP)
    log_in(drafter, "drafter@example.org", "drafter-demo-2026")
    drafter.goto("/review/drafts/wuye-guanli/stats")
    drafter.get_by_role("button", name="公开征求意见结果").click()
    expect(drafter.get_by_role("heading", name="征求意见结果", exact=True)).to_be_visible()
    expect(drafter.get_by_role("status")).to_contain_text("征求意见结果已发布")

    citizen = page_factory(viewport=PHONE, locale="en-US")
    citizen.goto("/drafts/wuye-guanli?lang=en")
    citizen.get_by_role("link", name="See the consultation results").click()
    expect(citizen.get_by_role("heading", name="Consultation results", exact=True)).to_be_visible()
    expect(citizen.get_by_role("heading", name="Opinions by channel")).to_be_visible()
    expect(citizen.get_by_role("heading", name="Opinions by article")).to_be_visible()
    # Nothing wider than the phone: the tables scroll inside their own boxes.
    width = citizen.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"]
    with citizen.expect_download() as download:
        citizen.get_by_role("link", name="Download the adoption report (Word)").click()
    assert download.value.suggested_filename.endswith(".docx")
    citizen.screenshot(path=artifacts / "results-phone-en.png", full_page=True)
    assert_no_serious(citizen, "results page")

    feed = citizen.request.get("/feed.atom?lang=en")
    assert feed.headers["content-type"].startswith("application/atom+xml")
    assert "Consultation results: " in feed.text()


def test_liaison_creates_a_token_with_the_keyboard_and_uses_it(page_factory):
    page = page_factory(viewport=PHONE)
    log_in(page, "liaison@example.org", "liaison-demo-2026")
    page.goto("/account/tokens")
    name = page.get_by_label("用途")
    name.focus()
    page.keyboard.type("街道信息系统")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="新令牌已生成")).to_be_visible()
    secret = page.locator("#new-token").input_value()
    assert secret.startswith("lfp_")

    answer = page.request.get("/api/v1/assignments", headers={"Authorization": f"Bearer {secret}"})
    assert answer.status == 200
    assert any(item["draft"] == "laji-fenlei" for item in answer.json()["items"])

    page.reload()
    expect(page.locator("#new-token")).to_have_count(0)  # shown once only
    row = page.get_by_role("row").filter(has_text="街道信息系统")
    row.get_by_role("button", name="撤销").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_contain_text("已撤销")
    refused = page.request.get("/api/v1/assignments", headers={"Authorization": f"Bearer {secret}"})
    assert refused.status == 401
    assert refused.headers["content-type"].startswith("application/problem+json")
