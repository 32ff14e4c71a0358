"""The citizen's journey on a phone: comment on article 5, keep the code, get the answer."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import DESKTOP, PHONE

pytestmark = pytest.mark.browser

TEXT = {
    "zh_Hans_CN": {
        "comment_on_5": "对第五条提意见",
        "stance": "修改",
        "body": "意见和建议",
        "send": "提交意见",
        "receipt": "意见回执",
        "login": "登录",
        "account": "电子邮箱或手机号码",
        "password": "密码",
        "decision": "处理结果",
        "response": "答复",
        "publish": "公开答复（提交人凭回执编号可见）",
        "save": "保存",
        "track": "回执编号",
        "lookup": "查询",
        "adopted": "部分采纳",
        "menu": "展开菜单",
    },
    "en": {
        "comment_on_5": "Comment on Article 5",
        "stance": "Amend",
        "body": "Your opinion and suggestions",
        "send": "Send opinion",
        "receipt": "Receipt",
        "login": "Log in",
        "account": "E-mail or mobile number",
        "password": "Password",
        "decision": "Decision",
        "response": "Response",
        "publish": "Publish the response (the commenter sees it with the tracking code)",
        "save": "Save",
        "track": "Tracking code",
        "lookup": "Look up",
        "adopted": "Partly adopted",
        "menu": "Open the menu",
    },
}


@pytest.mark.parametrize("lang", ["zh_Hans_CN", "en"])
def test_comment_receipt_decision_answer(page_factory, live_server, artifacts, lang):
    t = TEXT[lang]
    citizen = page_factory(viewport=PHONE)
    citizen.goto(f"/drafts/laji-fenlei?lang={lang}")
    citizen.get_by_role("link", name=t["comment_on_5"], exact=True).click()
    expect(citizen.get_by_label(re.compile(t["body"]))).to_be_visible()
    expect(citizen.locator(".article-context")).to_contain_text("市城市管理部门")
    citizen.get_by_label(t["stance"], exact=True).check()
    body = citizen.get_by_label(re.compile(t["body"]))
    body.fill("建议在第五条中明确城市管理部门牵头考核各部门分类工作的职责。")
    expect(citizen.locator("#body-counter")).to_contain_text("/ 5000")
    # A person takes more than the minimum fill-in time; the test waits it out instead of
    # switching the rule off.
    citizen.wait_for_timeout(1000)
    citizen.get_by_role("button", name=t["send"]).click()
    expect(citizen.get_by_role("heading", name=t["receipt"])).to_be_visible()
    code = citizen.locator("#tracking-code").inner_text().strip()
    assert re.fullmatch(r"[0-9A-Z]{4}(-[0-9A-Z]{4}){3}", code)
    citizen.screenshot(path=str(artifacts / f"receipt-phone-{lang}.png"), full_page=True)

    # The drafting team decides and answers, on a desktop.
    staff = page_factory(viewport=DESKTOP)
    staff.goto(f"/login?lang={lang}")
    staff.get_by_label(t["account"]).fill("drafter@example.org")
    staff.get_by_label(t["password"], exact=True).fill("drafter-demo-2026")
    staff.get_by_role("button", name=t["login"]).click()
    staff.goto("/review/drafts/laji-fenlei/comments")
    staff.get_by_role("link", name=re.compile("建议在第五条中")).click()
    staff.get_by_label(t["decision"]).select_option("partly_adopted")
    answer = "感谢您的意见。修改稿第五条已增加考核职责的规定。"
    staff.get_by_label(t["response"], exact=True).fill(answer)
    staff.get_by_label(t["publish"]).check()
    staff.get_by_role("button", name=t["save"]).click()
    expect(staff.locator(".alert-success")).to_be_visible()

    # Back on the phone, the citizen looks the code up (typed loosely) and reads the answer.
    citizen.goto(f"/track?lang={lang}")
    citizen.get_by_label(t["track"]).fill(code.lower().replace("-", " "))
    citizen.get_by_role("button", name=t["lookup"]).click()
    expect(citizen.locator(".current-status")).to_have_text(t["adopted"])
    expect(citizen.locator(".response-text")).to_contain_text("已增加考核职责的规定")
    citizen.screenshot(path=str(artifacts / f"answer-phone-{lang}.png"), full_page=True)


def test_closed_draft_has_no_form(page_factory):
    page = page_factory(viewport=PHONE)
    page.goto("/drafts/wuye-guanli/comment")
    expect(page.get_by_role("status")).to_contain_text("不在征求意见期内")
    expect(page.locator("textarea")).to_have_count(0)


def test_comment_with_keyboard_only(page_factory):
    page = page_factory(viewport=PHONE)
    page.goto("/drafts/laji-fenlei/comment")
    page.get_by_label("意见针对").focus()
    page.keyboard.press("Tab")  # into the stance radio group
    page.keyboard.press("ArrowRight")
    page.keyboard.press("Tab")
    page.keyboard.type("键盘也能完整地提交一条意见。")
    page.wait_for_timeout(1000)
    page.get_by_role("button", name="提交意见").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="意见回执")).to_be_visible()
