"""Every page works in both languages, and the English catalog is complete and current."""

import re
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
EN_PO = ROOT / "translations" / "en" / "LC_MESSAGES" / "messages.po"
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")


@pytest.fixture(scope="module")
def extracted(tmp_path_factory):
    """The messages the code marks for translation today (not the committed template)."""
    pot = tmp_path_factory.mktemp("i18n") / "messages.pot"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "babel.messages.frontend",
            "extract",
            "-F",
            "babel.cfg",
            "-k",
            "_l",
            "-k",
            "lazy_gettext",
            "-o",
            str(pot),
            "--no-location",
            ".",
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    with pot.open("rb") as fh:
        return read_po(fh)


@pytest.fixture(scope="module")
def english():
    with EN_PO.open("rb") as fh:
        return read_po(fh)


def _key(message):
    return message.id[0] if isinstance(message.id, tuple) else message.id


def test_every_marked_string_has_an_english_translation(extracted, english):
    missing = []
    for message in extracted:
        if not message.id:
            continue
        translated = english.get(message.id)
        strings = (
            translated.string
            if translated and isinstance(translated.string, tuple)
            else (translated.string,)
            if translated
            else ("",)
        )
        if translated is None or not all(strings) or translated.fuzzy:
            missing.append(_key(message))
    assert not missing, "missing English translations (run `make i18n-update`):\n" + "\n".join(
        missing
    )


def test_english_placeholders_match(english):
    wrong = []
    for message in english:
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        wanted = set(PLACEHOLDER.findall(ids[0]))
        for string in strings:
            if string and set(PLACEHOLDER.findall(string)) != wanted:
                wrong.append(_key(message))
    assert not wrong, f"placeholders differ: {wrong}"


def test_english_text_contains_no_chinese(english):
    # Chinese is allowed only inside “quotes”: literal values a user types or sees in a file,
    # such as a spreadsheet header or an article number (第十二条).
    han = re.compile(r"[\u4e00-\u9fff]")
    quoted = re.compile(r"“[^”]*”|\([^)]*\)")
    offenders = []
    for message in english:
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        offenders += [s for s in strings if s and han.search(quoted.sub("", s))]
    assert not offenders, offenders


def test_no_obsolete_entries_pile_up(extracted, english):
    current = {_key(m) for m in extracted if m.id}
    stale = [_key(m) for m in english if m.id and _key(m) not in current]
    assert not stale, f"obsolete entries in the English catalog: {stale}"


PUBLIC_PAGES = [
    "/",
    "/drafts",
    "/drafts?status=closed",
    "/drafts/laji-fenlei",
    "/drafts/shanti-baohu",
    "/drafts/wuye-guanli",
    "/drafts/laji-fenlei/print",
    "/login",
    "/register",
    "/privacy",
    "/track",
    "/drafts/laji-fenlei/comment",
    "/drafts/laji-fenlei/comment?article=5",
    "/drafts/wuye-guanli/comment",
    "/drafts/wuye-guanli/opinions",
]


@pytest.mark.parametrize("path", PUBLIC_PAGES)
def test_public_pages_in_both_languages(client, demo, path):
    separator = "&" if "?" in path else "?"
    chinese = client.get(path)
    english = client.get(f"{path}{separator}lang=en")
    assert chinese.status_code == english.status_code == 200
    zh_text, en_text = chinese.get_data(as_text=True), english.get_data(as_text=True)
    assert '<html lang="zh-Hans">' in zh_text
    assert '<html lang="en">' in en_text
    assert zh_text != en_text


STAFF_PAGES = [
    "/manage/drafts",
    "/manage/drafts/new",
    "/manage/drafts/laji-fenlei/edit",
    "/manage/drafts/laji-fenlei/text",
]


@pytest.mark.parametrize("path", STAFF_PAGES)
def test_staff_pages_in_both_languages(client, demo, login, make_user, path):
    from portal.models import Role

    login(make_user(Role.drafter))
    assert client.get(path).status_code == 200
    english = client.get(f"{path}?lang=en").get_data(as_text=True)
    assert '<html lang="en">' in english


def test_english_home_page_is_in_english(client, demo):
    page = client.get("/?lang=en").get_data(as_text=True)
    assert "Open for comment" in page
    assert "Jiangzhou Waste Sorting" in page or "Household Waste" in page


def test_language_choice_is_remembered(client, demo):
    response = client.get("/language/en?next=/drafts")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/drafts")
    assert '<html lang="en">' in client.get("/drafts").get_data(as_text=True)
    client.get("/language/zh_Hans_CN")
    assert '<html lang="zh-Hans">' in client.get("/drafts").get_data(as_text=True)


def test_language_switch_refuses_open_redirects(client):
    for target in ("https://evil.example/", "//evil.example/", "/\\evil.example"):
        response = client.get("/language/en", query_string={"next": target})
        assert response.headers["Location"] in ("/", "http://localhost/")


@pytest.mark.parametrize("code", [403, 404, 413, 500])
def test_error_pages_in_both_languages(app_factory, code):
    from flask import abort

    app = app_factory()
    app.config["TESTING"] = False  # let the error handlers render, as in production

    @app.route("/boom/<int:status>")
    def boom(status):
        if status == 500:
            raise RuntimeError("boom")
        abort(status)

    client = app.test_client()
    zh = client.get(f"/boom/{code}")
    en = client.get(f"/boom/{code}?lang=en")
    assert zh.status_code == en.status_code == code
    assert '<html lang="zh-Hans">' in zh.get_data(as_text=True)
    english = en.get_data(as_text=True)
    assert '<html lang="en">' in english
    assert "Back to the home page" in english


ROLE_PAGES = {
    "liaison@example.org": [
        "/liaison/",
        "/liaison/submissions/new",
        "/liaison/feedback",
        "/my/comments",
    ],
    "drafter@example.org": [
        "/liaison/overview",
        "/liaison/assign",
        "/review/drafts/laji-fenlei/comments",
        "/review/comments/1",
        "/liaison/submissions/1",
        "/review/",
        "/review/search",
        "/review/drafts/laji-fenlei/search",
        "/review/drafts/laji-fenlei/categories",
        "/review/drafts/laji-fenlei/articles/21",
        "/review/drafts/laji-fenlei/articles/whole",
        "/review/drafts/laji-fenlei/stats",
        "/review/drafts/laji-fenlei/clusters",
    ],
    "admin@example.org": [
        "/admin/points",
        "/admin/points/new",
        "/admin/points/1",
        "/admin/accounts",
    ],
}


@pytest.mark.parametrize(
    ("email", "path"), [(email, path) for email, paths in ROLE_PAGES.items() for path in paths]
)
def test_role_pages_in_both_languages(app, demo, email, path):
    from portal.demo.seed import DEMO_ACCOUNTS

    password = next(p for _, e, p, _, _ in DEMO_ACCOUNTS if e == email)
    client = app.test_client()
    assert client.post("/login", data={"login": email, "password": password}).status_code == 302
    chinese = client.get(path)
    assert chinese.status_code == 200, path
    assert '<html lang="zh-Hans">' in chinese.get_data(as_text=True)
    english = client.get(f"{path}?lang=en")
    assert english.status_code == 200
    assert '<html lang="en">' in english.get_data(as_text=True)
