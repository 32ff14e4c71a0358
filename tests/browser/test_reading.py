"""A reader's journey through the drafts, on a phone and on a desktop, in both languages."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import DESKTOP, PHONE

pytestmark = pytest.mark.browser


def test_read_a_draft_jump_to_article_switch_language(page_factory, artifacts):
    page = page_factory(viewport=PHONE)
    page.goto("/")
    expect(page.get_by_role("heading", name="正在征求意见")).to_be_visible()
    page.get_by_role("link", name="江州市生活垃圾分类管理条例（草案）").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("江州市生活垃圾分类管理条例（草案）")
    expect(page.get_by_role("status").filter(has_text="正在征求意见")).to_be_visible()

    # Jump to article 12 from the table of contents.
    # On a phone the contents start folded, so the text comes first; open them.
    contents = page.locator("details.toc-box")
    expect(contents).not_to_have_attribute("open", "")
    contents.locator("summary").click()
    page.get_by_role("navigation", name="目录").get_by_role("link", name="第十二条").click()
    expect(page).to_have_url(re.compile(r"#article-12$"))
    article = page.locator("#article-12")
    expect(article).to_be_in_viewport()
    expect(article).to_be_focused()

    # Switch to English: the page stays, its interface changes language.
    page.wait_for_load_state()  # Bootstrap's collapse script is attached
    page.get_by_role("button", name="展开菜单").click()
    expect(page.locator("#nav-main")).to_have_class(re.compile(r"\bshow\b"))  # done opening
    page.get_by_role("link", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", name="Contents")).to_be_visible()
    expect(page.get_by_text("Household Waste Sorting", exact=False).first).to_be_visible()
    page.screenshot(path=str(artifacts / "draft-phone-en.png"), full_page=False)


def test_desktop_layout_and_print_view(page_factory, artifacts):
    page = page_factory(viewport=DESKTOP)
    page.goto("/drafts/wuye-guanli")
    expect(page.get_by_text("本草案的征求意见已经结束")).to_be_visible()
    expect(page.get_by_role("heading", name=re.compile("第一节"))).to_be_visible()
    page.screenshot(path=str(artifacts / "draft-desktop-zh.png"))
    page.get_by_role("link", name="打印版").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("江州市物业管理条例（草案）")
    expect(page.locator("#article-52")).to_be_attached()


def test_keyboard_only_reader(page_factory):
    page = page_factory(viewport=DESKTOP)
    page.goto("/")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="跳到正文")
    expect(skip).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("#main")).to_be_focused()
    # Tab through to the first draft link and open it with Enter.
    for _ in range(30):
        page.keyboard.press("Tab")
        focused = page.evaluate("document.activeElement.textContent")
        if "生活垃圾分类" in focused:
            break
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/drafts/laji-fenlei$"))


def test_draft_list_filter(page_factory):
    page = page_factory(viewport=PHONE)
    page.goto("/drafts")
    page.get_by_label("状态").select_option("closed")
    page.get_by_role("button", name="筛选").click()
    expect(page).to_have_url(re.compile(r"status=closed"))
    expect(page.locator(".draft-card")).to_have_count(1)
