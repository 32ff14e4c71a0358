"""axe-core finds no serious or critical violation on the main reading pages."""

import pytest
from axe_playwright_python.sync_playwright import Axe

from tests.browser.conftest import DESKTOP, PHONE

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("path", ["/", "/drafts", "/drafts/laji-fenlei", "/login"])
@pytest.mark.parametrize("lang", ["zh_Hans_CN", "en"])
@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_no_serious_violations(page_factory, path, lang, viewport):
    page = page_factory(viewport=viewport)
    page.goto(f"{path}?lang={lang}")
    results = Axe().run(page)
    serious = [
        f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:3]}"
        for v in results.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    assert not serious, "\n".join(serious)


@pytest.mark.parametrize(
    "path",
    [
        "/drafts/laji-fenlei/comment?article=5",
        "/track",
        "/register",
        "/drafts/wuye-guanli/opinions",
        "/api/v1/docs",
    ],
)
def test_citizen_pages_have_no_serious_violations(page_factory, path):
    page = page_factory(viewport=PHONE)
    page.goto(path)
    assert_no_serious(page)


@pytest.mark.parametrize(
    ("email", "password", "paths"),
    [
        (
            "liaison@example.org",
            "liaison-demo-2026",
            ["/liaison/", "/liaison/submissions/new", "/liaison/feedback", "/account/tokens"],
        ),
        (
            "drafter@example.org",
            "drafter-demo-2026",
            [
                "/review/drafts/laji-fenlei/search",
                "/review/drafts/laji-fenlei/articles/21",
                "/review/drafts/laji-fenlei/stats",
                "/review/drafts/laji-fenlei/clusters",
                "/liaison/overview",
            ],
        ),
        ("admin@example.org", "admin-demo-2026", ["/admin/points", "/admin/points/1"]),
    ],
    ids=["liaison", "drafter", "admin"],
)
def test_staff_pages_have_no_serious_violations(page_factory, email, password, paths):
    page = page_factory(viewport=DESKTOP)
    page.goto("/login")
    page.get_by_label("电子邮箱或手机号码").fill(email)
    page.get_by_label("密码", exact=True).fill(password)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url("**/")
    for path in paths:
        page.goto(path)
        assert_no_serious(page, path)


def assert_no_serious(page, where=""):
    results = Axe().run(page)
    serious = [
        f"{where} {v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:3]}"
        for v in results.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    assert not serious, "\n".join(serious)
