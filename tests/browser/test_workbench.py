"""The drafting team's journey: search, narrow by a facet, act in bulk, review article by
article with the keyboard, and read the statistics."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import DESKTOP, PHONE

pytestmark = pytest.mark.browser


def log_in(page):
    page.goto("/login")
    page.get_by_label("电子邮箱或手机号码").fill("drafter@example.org")
    page.get_by_label("密码", exact=True).fill("drafter-demo-2026")
    page.get_by_role("button", name="登录").click()


def test_search_bulk_clause_and_stats(page_factory, artifacts):
    page = page_factory(viewport=DESKTOP)
    log_in(page)
    page.get_by_role("link", name="意见处理").click()
    page.get_by_role("row", name=re.compile("生活垃圾分类")).get_by_role(
        "link", name="检索意见"
    ).click()
    page.get_by_label("关键词").fill("投放")
    page.get_by_role("button", name="检索", exact=True).click()
    expect(page.get_by_role("heading", name=re.compile(r"找到 \d+ 条意见"))).to_be_visible()
    expect(page.locator(".snippet mark").first).to_have_text("投放")
    expect(page).to_have_url(re.compile(r"q=%E6%8A%95%E6%94%BE"))  # the query is in the URL

    # Narrow by a facet, then put everything found into a category in one action.
    page.get_by_role("region", name="意见类型").get_by_role("link", name="修改").click()
    expect(page).to_have_url(re.compile(r"stance=amend"))
    found = page.locator("li.result").count()
    assert found >= 1
    page.get_by_label("范围").select_option("all")
    page.get_by_label("批量操作").select_option("add_category")
    page.locator("#bulk-form").get_by_label("分类", exact=True).select_option(label="条款修改")
    page.get_by_role("button", name="执行").click()
    expect(page.locator(".alert-success")).to_contain_text(f"已处理 {found} 条意见")
    expect(page.locator("li.result").first.locator(".badge", has_text="条款修改")).to_be_visible()
    page.screenshot(path=str(artifacts / "workbench-search.png"), full_page=True)

    # The letter-writing campaign is one cluster, decided with one response.
    page.get_by_role("link", name="雷同意见").click()
    cluster = page.locator("section.card").filter(has_text="6 条雷同意见")
    expect(cluster).to_contain_text("第四十四条对个人违规投放的罚款过重")
    cluster.locator("summary").click()
    cluster.get_by_label("处理结果").select_option("partly_adopted")
    cluster.get_by_label("答复", exact=True).fill("修改稿已增加“首次违规先劝导”的规定。")
    cluster.get_by_label("公开答复").check()
    cluster.get_by_role("button", name="对整组作出处理").click()
    expect(page.locator(".alert-success")).to_contain_text("6 条意见")

    # Downloads: the search result as XLSX, and the adoption report.
    page.get_by_role("link", name="检索意见").click()
    # Both run as jobs: the button leads to the job's page, which offers the file when ready.
    page.get_by_role("button", name="导出 Excel").click()
    expect(page.get_by_role("heading", name="已完成")).to_be_visible()
    with page.expect_download() as download:
        page.get_by_role("link", name="下载 laji-fenlei-opinions.xlsx").click()
    assert download.value.suggested_filename == "laji-fenlei-opinions.xlsx"
    page.get_by_role("link", name="返回").click()
    page.get_by_role("link", name="统计").click()
    page.get_by_role("button", name="生成意见采纳情况说明（Word）").click()
    with page.expect_download() as download:
        page.get_by_role("link", name=re.compile(r"^下载 .*\.docx$")).click()
    assert download.value.suggested_filename.endswith(".docx")
    page.get_by_role("link", name="返回").click()

    # Article by article: J steps to the next article.
    page.get_by_role("link", name="逐条审阅").click()
    expect(page.get_by_role("heading", name="第一条", exact=True)).to_be_visible()
    page.wait_for_load_state()
    page.keyboard.press("j")
    expect(page).to_have_url(re.compile(r"/articles/2$"))
    page.goto("/review/drafts/laji-fenlei/articles/21")
    expect(page.get_by_text("定时定点投放对上夜班的居民不方便", exact=False)).to_be_visible()

    # Statistics: charts load as images, with their numbers one click away.
    page.get_by_role("link", name="统计").click()
    expect(page.get_by_role("img", name="按意见类型")).to_be_visible()
    page.get_by_role("region", name="按意见类型").get_by_text("查看数据").click()
    expect(page.get_by_role("region", name="按意见类型").get_by_role("table")).to_be_visible()
    page.wait_for_function(
        "() => [...document.querySelectorAll('.chart img')].every(i => i.complete)"
    )
    widths = page.eval_on_selector_all(".chart img", "imgs => imgs.map(i => i.naturalWidth)")
    assert widths and all(w > 0 for w in widths)  # every SVG chart rendered


def test_workbench_does_not_break_on_a_phone(page_factory):
    page = page_factory(viewport=PHONE)
    log_in(page)
    page.goto("/review/drafts/laji-fenlei/search")
    expect(page.get_by_role("heading", name=re.compile(r"找到 \d+ 条意见"))).to_be_visible()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"] + 1
