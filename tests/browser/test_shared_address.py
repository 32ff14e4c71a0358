"""Two people behind one address (a household's Wi-Fi) send the same forwarded text from two
browsers: two opinions, two receipts, each showing only its own sender's details."""

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import LiveServer, open_pages

pytestmark = pytest.mark.browser

CAMPAIGN = "建议第五条保留楼道垃圾桶，由保洁员定时收集后再分类，方便老人投放。"
TEXT = {
    "zh_Hans_CN": {
        "stance": "修改",
        "body": "意见和建议",
        "name": "姓名（可选）",
        "contact": "手机或电子邮箱（可选）",
        "consent": "我同意按隐私说明保存我的姓名和联系方式",
        "send": "提交意见",
        "receipt": "意见回执",
        "again": "没有重复提交",
    },
    "en": {
        "stance": "Amend",
        "body": "Your opinion and suggestions",
        "name": "Name (optional)",
        "contact": "Mobile number or e-mail (optional)",
        "consent": "I agree that my name and contact details are kept as the privacy notice says",
        "send": "Send opinion",
        "receipt": "Receipt",
        "again": "Nothing was sent twice",
    },
}


@pytest.fixture
def limited_server(app_factory, demo) -> Iterator[LiveServer]:
    """The demo served with the rate limits on, at their documented defaults."""
    from portal.search.index import apply_pending

    apply_pending(wait=True)
    server = LiveServer(app_factory(RATELIMIT_ENABLED=True)).start()
    yield server
    server.stop()


@pytest.fixture
def household(browser, limited_server):
    """Two browser contexts (two people, two cookie jars) on the same address and Chromium."""
    yield from open_pages(browser, limited_server.url)


def send(page, t: dict, lang: str, name: str, contact: str) -> str:
    page.goto(f"/drafts/laji-fenlei/comment?article=5&lang={lang}")
    page.get_by_label(t["stance"], exact=True).check()
    page.get_by_label(re.compile(t["body"])).fill(CAMPAIGN)
    page.get_by_label(t["name"]).fill(name)
    page.get_by_label(t["contact"]).fill(contact)
    page.get_by_label(t["consent"]).check()
    page.get_by_role("button", name=t["send"]).click()
    expect(page.get_by_role("heading", name=t["receipt"])).to_be_visible()
    return page.locator("#tracking-code").inner_text().strip()


@pytest.mark.parametrize("lang", ["zh_Hans_CN", "en"])
def test_two_people_on_one_address_get_their_own_receipts(household, artifacts, lang):
    t = TEXT[lang]
    locale = "zh-CN" if lang == "zh_Hans_CN" else "en-GB"
    mother, son = household(locale=locale), household(locale=locale)
    mothers_code = send(mother, t, lang, "王秀英", "13800000001")
    sons_code = send(son, t, lang, "王小明", "13900000002")
    assert mothers_code != sons_code

    receipt = son.locator("main")
    expect(receipt).to_contain_text("139****0002")
    expect(receipt).not_to_contain_text("138****0001")
    expect(receipt).to_contain_text(CAMPAIGN)
    expect(receipt).not_to_contain_text(t["again"])
    son.screenshot(path=str(artifacts / f"shared-address-receipt-{lang}.png"), full_page=True)
    expect(mother.locator("main")).to_contain_text("138****0001")
    expect(mother.locator("main")).not_to_contain_text("139****0002")

    # The mother sends the same text again: that is her repeating herself, and she sees her
    # own receipt, never her son's.
    assert send(mother, t, lang, "王秀英", "13800000001") == mothers_code
    expect(mother.locator("main")).to_contain_text(t["again"])
    expect(mother.locator("main")).to_contain_text("138****0001")
    expect(mother.locator("main")).not_to_contain_text("139****0002")
