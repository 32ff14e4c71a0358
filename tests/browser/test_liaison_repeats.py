"""A point sends the same opinion twice (a clerk re-enters last week's forum notes): the second
batch warns before submitting, lists the repeat with the earlier batch, and leaves it out."""

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import PHONE
from tests.browser.test_liaison import log_in

pytestmark = pytest.mark.browser

REPEATED = "建议第二十一条规定的投放时间由业主大会讨论决定。"
NEW = "希望街道统一采购分类垃圾桶，减轻小区负担。"


def new_batch(staff, people: str) -> None:
    staff.goto("/liaison/")
    assignment = staff.locator(".assignment").filter(has_text="生活垃圾分类")
    assignment.get_by_role("link", name="新建意见汇总表").click()
    staff.get_by_label("收集方式").select_option("visit")
    staff.get_by_label("日期").fill("2026-11-18")
    staff.get_by_label("参加人数").fill(people)
    staff.get_by_label("其中：居民").fill(people)
    staff.get_by_role("button", name="保存").click()
    expect(staff.get_by_role("heading", name="意见汇总表")).to_be_visible()


def add_opinion(staff, text: str) -> None:
    staff.get_by_label("意见内容").fill(text)
    staff.get_by_role("button", name="添加意见").click()
    expect(staff.locator("table.opinions tbody tr").filter(has_text=text[:8])).to_be_visible()


def test_repeated_opinion_is_listed_and_left_out_with_the_keyboard(page_factory):
    staff = page_factory(viewport=PHONE)
    log_in(staff, "liaison@example.org", "liaison-demo-2026")

    new_batch(staff, "4")
    add_opinion(staff, REPEATED)
    staff.get_by_role("button", name="报送这批意见").click()
    expect(staff.get_by_role("status").filter(has_text="已报送，回执编号")).to_be_visible()

    new_batch(staff, "6")
    # The same text, typed again with other spacing and half-width punctuation.
    add_opinion(staff, REPEATED.replace("。", ".").replace("投放时间", "投放 时间"))
    add_opinion(staff, NEW)

    warning = staff.locator("#repeats")
    expect(warning.get_by_role("heading")).to_have_text("1 条意见本联系点此前已经报送过")
    expect(warning.locator("li")).to_contain_text("投放 时间")
    expect(warning.locator("li")).to_contain_text("回执编号")
    # A plain "submit" is not offered while a repeat is listed: the clerk chooses.
    expect(staff.get_by_role("button", name="报送这批意见")).to_have_count(0)

    leave_out = warning.get_by_role("button", name="去掉这 1 条重复意见")
    leave_out.focus()
    staff.keyboard.press("Enter")
    rows = staff.locator("table.opinions tbody tr")
    expect(rows).to_have_count(1)
    expect(rows).to_contain_text(NEW[:8])
    expect(staff.locator("#repeats")).to_have_count(0)

    staff.get_by_role("button", name="报送这批意见").focus()
    staff.keyboard.press("Enter")
    expect(staff.get_by_role("status").filter(has_text="已报送，回执编号")).to_be_visible()
