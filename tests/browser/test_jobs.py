"""A long export as a drafter lives it: started by keyboard on a phone, queued, its page
following the worker's progress by itself, then the file, in Chinese and in English."""

from __future__ import annotations

import re
import threading
import time

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import PHONE, LiveServer, open_pages

pytestmark = pytest.mark.browser


@pytest.fixture
def queued_server(app_factory, demo):
    """The live server with a real queue, and a slow worker: each job waits a moment in the
    queue, so the page is seen waiting before it is seen finished."""
    from portal.jobs.queue import get_queue
    from portal.search.index import apply_pending

    app = app_factory(JOBS_IMMEDIATE=False)
    apply_pending(wait=True)
    with app.app_context():
        huey = get_queue().huey
    stop = threading.Event()

    def worker():
        while not stop.is_set():
            task = huey.dequeue()
            if task is None:
                time.sleep(0.1)
                continue
            time.sleep(1.5)
            huey.execute(task)

    thread = threading.Thread(target=worker, daemon=True)
    thread.start()
    server = LiveServer(app).start()
    yield server
    server.stop()
    stop.set()
    thread.join(timeout=10)


@pytest.fixture
def queued_pages(browser, queued_server):
    yield from open_pages(browser, queued_server.url)


@pytest.mark.parametrize(
    ("locale", "lang", "button", "waiting", "finished", "download"),
    [
        ("zh-CN", "zh_Hans_CN", "导出 CSV", "排队等候处理", "已完成", "下载"),
        ("en-GB", "en", "Export CSV", "Waiting in the queue", "Finished", "Download"),
    ],
)
def test_an_export_is_followed_to_its_file_by_keyboard(
    queued_pages, locale, lang, button, waiting, finished, download
):
    page = queued_pages(viewport=PHONE, locale=locale)
    page.goto(f"/login?lang={lang}")
    page.locator("input[name=login]").fill("drafter@example.org")
    page.locator("input[name=password]").fill("drafter-demo-2026")
    page.locator("input[name=password]").press("Enter")
    page.goto("/review/drafts/laji-fenlei/search?q=%E6%8A%95%E6%94%BE")
    export = page.get_by_role("button", name=button)
    export.focus()
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/jobs/\d+$"))
    expect(page.get_by_role("heading", name=waiting)).to_be_visible()
    expect(page.get_by_role("progressbar")).to_be_visible()
    # No reload by the person: the page follows the job and shows the result.
    expect(page.get_by_role("heading", name=finished)).to_be_visible(timeout=20_000)
    link = page.get_by_role("link", name=re.compile(rf"^{download} laji-fenlei-opinions\.csv$"))
    link.focus()
    with page.expect_download() as file:
        page.keyboard.press("Enter")
    assert file.value.suggested_filename == "laji-fenlei-opinions.csv"
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"] + 1
    page.get_by_role("link", name=re.compile("我的任务|My jobs")).click()
    expect(page.get_by_role("link", name=re.compile("导出意见|Export opinions"))).to_be_visible()
