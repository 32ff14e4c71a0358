"""A liaison point's journey: assignment, spreadsheet import, one opinion by hand, minutes,
submit, and later the drafting team's decision on one of the opinions."""

import io
import re

import openpyxl
import pytest
from playwright.sync_api import expect

from tests.browser.conftest import DESKTOP, PHONE

pytestmark = pytest.mark.browser


def filled_sheet() -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "意见"
    sheet.append(["意见内容", "涉及条款", "意见类型", "提出人身份", "提出人数"])
    sheet.append(["建议第二十一条的投放时间由业主大会决定。", "第二十一条", "修改", "居民", 7])
    sheet.append(["希望在小区门口增设快递包装回收箱。", "", "增加", "居民", 3])
    sheet.append(["对第四十四条罚款数额有不同看法，建议降低。", "", "修改", "企业", 2])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def log_in(page, email, password):
    page.goto("/login")
    page.get_by_label("电子邮箱或手机号码").fill(email)
    page.get_by_label("密码", exact=True).fill(password)
    page.get_by_role("button", name="登录").click()


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_point_submits_batch_and_sees_decision(page_factory, artifacts, viewport):
    staff = page_factory(viewport=viewport)
    log_in(staff, "liaison@example.org", "liaison-demo-2026")
    staff.goto("/liaison/")
    assignment = staff.locator(".assignment").filter(has_text="生活垃圾分类")
    expect(assignment).to_contain_text("定时定点投放")  # the focus questions
    assignment.get_by_role("link", name="新建意见汇总表").click()

    staff.get_by_label("收集方式").select_option("forum")
    staff.get_by_label("日期").fill("2026-11-18")
    staff.get_by_label("地点").fill("东街社区会议室")
    staff.get_by_label("参加人数").fill("18")
    staff.get_by_label("其中：居民").fill("12")
    staff.get_by_label("其中：其他").fill("6")  # the breakdown adds up to the 18 (issue 11)
    staff.get_by_role("button", name="保存").click()
    expect(staff.get_by_role("heading", name="意见汇总表")).to_be_visible()

    staff.locator("#import-file").set_input_files(
        files=[
            {
                "name": "座谈会意见.xlsx",
                "mimeType": "application/octet-stream",
                "buffer": filled_sheet(),
            }
        ]
    )
    staff.get_by_role("button", name="导入").click()
    expect(staff.get_by_role("status").filter(has_text="已导入 3 条意见")).to_be_visible()

    staff.get_by_label("意见内容").fill("有居民建议第十四条增加对旧衣物回收的规定。")
    staff.get_by_label("提出人数").fill("2")
    staff.get_by_role("button", name="添加意见").click()
    rows = staff.locator("table.opinions tbody tr")
    expect(rows).to_have_count(4)
    expect(rows.filter(has_text="旧衣物")).to_contain_text("第十四条")  # detected from the text
    expect(rows.filter(has_text="第四十四条罚款")).to_contain_text("第四十四条")

    staff.locator("#attach-file").set_input_files(
        files=[
            {
                "name": "座谈会纪要.pdf",
                "mimeType": "application/pdf",
                "buffer": b"%PDF-1.4\n% minutes of the forum\n",
            }
        ]
    )
    staff.get_by_role("button", name="上传附件").click()
    expect(staff.get_by_role("link", name="座谈会纪要.pdf")).to_be_visible()

    staff.get_by_role("button", name="报送这批意见").click()
    expect(staff.get_by_role("status").filter(has_text="已报送，回执编号")).to_be_visible()
    staff.screenshot(
        path=str(artifacts / f"liaison-submitted-{viewport['width']}.png"), full_page=True
    )

    # The drafting team decides on one of the opinions.
    drafter = page_factory(viewport=DESKTOP)
    log_in(drafter, "drafter@example.org", "drafter-demo-2026")
    drafter.goto("/review/drafts/laji-fenlei/comments")
    drafter.get_by_role("link", name=re.compile("快递包装回收箱")).click()
    drafter.get_by_label("处理结果").select_option("adopted")
    drafter.get_by_label("答复", exact=True).fill("已在修改稿第十四条中增加回收设施的规定。")
    drafter.get_by_label("公开答复（提交人凭回执编号可见）").check()
    drafter.get_by_role("button", name="保存").click()
    expect(drafter.locator(".alert-success")).to_be_visible()

    # Back at the point, the decision shows on the feedback page.
    staff.goto("/liaison/feedback")
    item = staff.locator(".feedback-item").filter(has_text="快递包装回收箱")
    expect(item.locator(".decision")).to_have_text("采纳")
    expect(item.locator(".response-text")).to_contain_text("回收设施")


def test_point_journey_in_english_on_a_phone(page_factory):
    staff = page_factory(viewport=PHONE)
    staff.goto("/login?lang=en")
    staff.get_by_label("E-mail or mobile number").fill("liaison@example.org")
    staff.get_by_label("Password", exact=True).fill("liaison-demo-2026")
    staff.get_by_role("button", name="Log in").click()
    staff.goto("/liaison/")
    assignment = staff.locator(".assignment").filter(has_text="Waste Sorting")
    expect(assignment.get_by_text("Focus questions")).to_be_visible()
    assignment.get_by_role("link", name="New batch of opinions").click()

    staff.get_by_label("How collected").select_option("visit")
    staff.get_by_label("Date").fill("2026-11-19")
    staff.get_by_label("Participants").fill("5")
    staff.get_by_role("button", name="Save").click()
    expect(staff.get_by_role("heading", name="Batch of opinions")).to_be_visible()

    staff.get_by_label("Opinion", exact=True).fill("商户建议第三十五条给小餐馆留出过渡期。")
    staff.get_by_label("Number of people").fill("4")
    staff.get_by_role("button", name="Add opinion").click()
    expect(staff.locator("table.opinions tbody tr")).to_have_count(1)
    expect(staff.locator("table.opinions")).to_contain_text("Article 35")

    staff.locator("#attach-file").set_input_files(
        files=[
            {
                "name": "visit-notes.pdf",
                "mimeType": "application/pdf",
                "buffer": b"%PDF-1.4\n% notes of the visits\n",
            }
        ]
    )
    staff.get_by_role("button", name="Upload attachment").click()
    expect(staff.get_by_role("link", name="visit-notes.pdf")).to_be_visible()
    staff.get_by_role("button", name="Submit this batch").click()
    expect(staff.get_by_role("status").filter(has_text="Submitted; receipt code")).to_be_visible()

    drafter = page_factory(viewport=DESKTOP)
    drafter.goto("/login?lang=en")
    drafter.get_by_label("E-mail or mobile number").fill("drafter@example.org")
    drafter.get_by_label("Password", exact=True).fill("drafter-demo-2026")
    drafter.get_by_role("button", name="Log in").click()
    drafter.goto("/review/drafts/laji-fenlei/comments")
    drafter.get_by_role("link", name=re.compile("过渡期")).click()
    drafter.get_by_label("Decision").select_option("not_adopted")
    drafter.get_by_label("Response", exact=True).fill("过渡期已在第五十一条中统一规定。")
    drafter.get_by_label(
        "Publish the response (the commenter sees it with the tracking code)"
    ).check()
    drafter.get_by_role("button", name="Save").click()

    staff.goto("/liaison/feedback")
    item = staff.locator(".feedback-item").filter(has_text="过渡期")
    expect(item.locator(".decision")).to_have_text("Not adopted")
    expect(item).to_contain_text("raised by 4 people")
