"""Browser fixtures: a live server on loopback and Debian's Chromium driven by Playwright.

Playwright never downloads a browser here; it launches /usr/bin/chromium. Outside CI a
missing Chromium skips these tests with a message; in CI (CI=true) it is an error.
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from werkzeug.serving import make_server

CHROMIUM = os.environ.get("PORTAL_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]
PHONE = {"width": 360, "height": 740}
DESKTOP = {"width": 1280, "height": 900}


def _chromium_available() -> bool:
    return Path(CHROMIUM).exists() or shutil.which("chromium") is not None


@pytest.fixture(scope="session")
def browser():
    if not _chromium_available():
        message = f"Chromium not found at {CHROMIUM}: install Debian's chromium package"
        if os.environ.get("CI"):
            pytest.fail(message + " (browser tests must run in CI)")
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def _buffered(app):
    """Read each response whole (and close it) before the server writes it.

    When Chromium cancels a request mid-transfer, werkzeug's development server stops writing
    without closing the response iterable, so a static file stays open until garbage
    collection and pytest reports the ResourceWarning as an error in whichever test is
    running. A buffered body is always closed first. Production (gunicorn) is not affected.
    """

    def wsgi(environ, start_response):
        iterable = app(environ, start_response)
        try:
            body = b"".join(iterable)
        finally:
            close = getattr(iterable, "close", None)
            if close is not None:
                close()
        return [body]

    return wsgi


class LiveServer:
    def __init__(self, app):
        self.app = app
        self._server = make_server("127.0.0.1", 0, _buffered(app), threaded=True)
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def start(self) -> LiveServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._thread.join(timeout=5)


@pytest.fixture
def live_server(app, demo) -> Iterator[LiveServer]:
    """The app served on a free loopback port, with the demo data loaded and indexed, and the
    search indexer running beside it as `flask portal worker` runs it (requests never index)."""
    from portal.search.index import apply_pending
    from portal.search.indexer import run_indexer

    apply_pending(wait=True)
    stop = threading.Event()
    indexer = threading.Thread(
        target=run_indexer, args=(app, stop, 0.1), name="search-indexer", daemon=True
    )
    indexer.start()
    server = LiveServer(app).start()
    yield server
    server.stop()
    stop.set()
    indexer.join(timeout=10)


def open_pages(browser, base_url: str) -> Iterator[Callable[..., object]]:
    """Open pages in fresh browser contexts (one cookie jar each: one person each) on base_url;
    console errors (a CSP violation among them) fail the test when it ends."""
    contexts = []
    errors: list[str] = []

    def make(viewport=PHONE, locale="zh-CN"):
        context = browser.new_context(viewport=viewport, locale=locale, base_url=base_url)
        context.set_default_timeout(10_000)
        contexts.append(context)
        page = context.new_page()
        page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        return page

    yield make
    for context in contexts:
        context.close()
    assert not errors, f"browser console errors: {errors}"


@pytest.fixture
def page_factory(browser, live_server):
    yield from open_pages(browser, live_server.url)


@pytest.fixture
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS
