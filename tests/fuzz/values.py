"""Hypothesis strategies for hostile input: the values a browser, a script or a mistake can send.

Every strategy mixes a curated list (the inputs that broke or nearly broke this portal and its
kind: Unicode digits, huge numbers, control characters, NUL, bidi overrides, SQL and template
syntax) with generated text, so a run covers known traps and finds new ones. Lone surrogates are
left out: they cannot be encoded as UTF-8, so no client can send them.
"""

from __future__ import annotations

import csv
import io
import json
import re
from urllib.parse import quote

from hypothesis import strategies as st

# Marks a value that goes into the URL as written: %-encodings that must not be encoded again.
RAW = "\x00raw:"

HUGE_INTS = [
    2**31,
    2**31 - 1,
    2**63 - 1,
    2**63,
    2**64,
    -(2**63) - 1,
    10**30,
    -1,
    0,
]
NASTY_STRINGS = [
    "",
    " ",
    "\u3000",
    "\t\r\n",
    "0",
    "-0",
    "+1",
    "1.5",
    "1e9",
    "0x10",
    "1_000",
    " 7 ",
    "NaN",
    "inf",
    "-inf",
    "null",
    "true",
    "[]",
    "{}",
    "²",
    "³",
    "½",
    "٣",
    "۵",
    "१२",
    "１２",
    "①",
    "〇",
    "十二",
    "第十二条",
    "9" * 40,
    "\x00",
    "a\x00b",
    "\x01\x02\x03\x07\x08\x0b\x0c\x1b\x7f",
    "\ufffe\uffff",
    "\u202etxt.exe",
    "\u200b\u200c\u200d\u2060\ufeff",
    "\u2028\u2029",
    "😀👍🏽🇨🇳",
    "e\u0301\u0301\u0301",
    "' OR '1'='1' --",
    '"; DROP TABLE comments; --',
    "1; SELECT pg_sleep(0)",
    "%",
    "%00",
    "%s%s%n",
    "%(name)s",
    "{{7*7}}",
    "{0.__class__}",
    "<script>alert(1)</script>",
    "javascript:alert(1)",
    "//evil.example/",
    "/\\evil.example",
    "../../etc/passwd",
    "C:\\Windows\\win.ini",
    "=cmd|' /C calc'!A0",
    "@SUM(1+1)",
    "2026-02-30",
    "9999-12-31",
    "0000-00-00",
    "-2026-01-01",
    "2026-01-01T25:61:61",
    "x" * 300,
    "长" * 6000,
]
RAW_SEGMENTS = [
    RAW + "%ff%fe",
    RAW + "%00",
    RAW + "%C0%AF",
    RAW + "%2e%2e",
    RAW + "%252F",
    RAW + "%",
    RAW + "%zz",
]
RAW_QUERIES = [
    "%ff%fe=%ff",
    "page=%00",
    "q=%",
    "q=%zz",
    "page=1&page=%C2%B2",
    "&&&===",
    "a[]=1&a[]=2",
    "draft=%EF%BC%91",
    "article=%D9%A3",
    "=",
]

# The known root causes of issue 11, sent to every query parameter of every route a role reaches
# and to some of its form fields: "free" (typed text), "textareas" (stored long text, shown later
# in exports, the feed, the report) or "all" (choices too).
TRAPS = [
    ("²", "free"),
    ("\x00", "textareas"),
    (" \u3000\t", "all"),
    ("\x01\x08\x0b\x1b\ufffe", "textareas"),
    (str(2**63), "free"),
]
PATH_TRAPS = [str(2**63), "١٢"]
# Plausible long text: what a textarea holds when the page offers nothing, so that forms pass
# validation and hostile content reaches the database (and from there exports and reports).
SENTENCE = "建议第五条增加具体措施，明确责任部门。"


def embed(trap: str) -> str:
    """A trap inside plausible text: survives "required" checks and reaches storage."""
    return f"建议第五条{trap}增加具体措施。"


DIGITS = st.text(st.characters(categories=["Nd", "No"]), min_size=1, max_size=6)
CONTROL = st.text(st.characters(categories=["Cc", "Cf", "Zl", "Zp"]), min_size=1, max_size=20)
ANY_TEXT = st.text(st.characters(exclude_categories=["Cs"]), max_size=60)


def huge_int_text() -> st.SearchStrategy[str]:
    return st.one_of(
        st.sampled_from(HUGE_INTS),
        st.integers(min_value=-(10**40), max_value=10**40),
    ).map(str)


def hostile_text() -> st.SearchStrategy[str]:
    """One hostile string: curated traps first (they shrink towards the list's head), then noise."""
    return st.one_of(
        st.sampled_from(NASTY_STRINGS),
        huge_int_text(),
        DIGITS,
        CONTROL,
        ANY_TEXT,
        st.builds(lambda a, b: a + b, ANY_TEXT, st.sampled_from(NASTY_STRINGS)),
        # Long text past every length limit, cheap to generate: a short piece repeated.
        st.builds(lambda piece, n: (piece or "长") * n, ANY_TEXT, st.integers(100, 3000)),
        st.sampled_from(["a" * 20_000, "条" * 6_000]),
    )


def field_value(real: list[str]) -> st.SearchStrategy[str]:
    """A form or query value: one the page offers (a real option or default), or a hostile one."""
    if real:
        return st.one_of(st.sampled_from(real), hostile_text())
    return hostile_text()


def path_value(real: list[str], converter: str) -> st.SearchStrategy[str]:
    """A value for one path variable: a real id or slug, or one the converter might let through."""
    generated: list[st.SearchStrategy[str]] = [
        huge_int_text(),
        DIGITS,
        st.sampled_from(RAW_SEGMENTS),
    ]
    if converter not in ("int", "float"):
        generated.append(hostile_text())
    strategies = [st.sampled_from(real)] if real else []
    return st.one_of(*strategies, *generated)


def url_segment(value: str, converter: str) -> str:
    """Encode one path value the way a client would; raw values are sent as written."""
    if value.startswith(RAW):
        return value[len(RAW) :]
    safe = "/" if converter == "path" else ""
    return quote(value, safe=safe)


def query_pairs(names: list[str], real: dict[str, list[str]]) -> st.SearchStrategy:
    """A list of (name, value) pairs (names may repeat), or a raw query string."""
    if not names:
        names = ["page"]
    pair = st.sampled_from(sorted(names)).flatmap(
        lambda name: st.tuples(st.just(name), field_value(real.get(name, [])))
    )
    return st.one_of(
        st.lists(pair, max_size=5),
        st.sampled_from(RAW_QUERIES),
        st.lists(st.tuples(hostile_text(), hostile_text()), min_size=1, max_size=2),
    )


def json_value() -> st.SearchStrategy:
    scalars = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(min_value=-(10**40), max_value=10**40),
        st.floats(allow_nan=False),
        hostile_text(),
    )
    return st.recursive(
        scalars,
        lambda children: st.lists(children, max_size=4)
        | st.dictionaries(hostile_text(), children, max_size=4),
        max_leaves=12,
    )


DEEP_JSON = ["[" * 5000 + "]" * 5000, '{"a":' * 3000 + "1" + "}" * 3000]


def json_body(fields: dict[str, list[str]]) -> st.SearchStrategy:
    """An API body: an object over the known fields with hostile values, any JSON, or raw text.

    Returns ("json", value) or ("raw", text).
    """
    known = st.fixed_dictionaries(
        {},
        optional={
            name: st.one_of(st.sampled_from(values) if values else st.nothing(), json_value())
            for name, values in fields.items()
        },
    )
    return st.one_of(
        known.map(lambda v: ("json", v)),
        json_value().map(lambda v: ("json", v)),
        st.sampled_from([*DEEP_JSON, "{", "", "\x00", '{"a": NaN}', "\ufeff{}"]).map(
            lambda v: ("raw", v)
        ),
        st.lists(known, max_size=3).map(lambda v: ("json", {"opinions": v, "items": v})),
    )


# What XML 1.0 cannot hold; the writer refuses it, and no real .xlsx can carry it.
NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _spreadsheet(template: bytes, rows: list[list[str]]) -> bytes:
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(template))
    sheet = book.worksheets[0]
    for r, row in enumerate(rows, start=2):
        for c, value in enumerate(row, start=1):
            sheet.cell(row=r, column=c, value=NOT_XML.sub("", value)[:32_000])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _csv(header: list[str], rows: list[list[str]], encoding: str) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode(encoding, errors="replace")


MAGIC = [
    b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\n%%EOF",
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
    b"\xff\xd8\xff\xe0\x00\x10JFIF\x00",
    b"PK\x03\x04\x14\x00\x00\x00\x08\x00",
    b"PK\x05\x06" + b"\x00" * 18,
    b"GIF89a",
    b"\xef\xbb\xbf",
    b"",
]
FILENAMES = [
    "opinions.xlsx",
    "opinions.csv",
    "photo.png",
    "../../etc/passwd",
    "a\x00b.pdf",
    "\u202egpj.exe",
    "",
    "x" * 600 + ".pdf",
    "意见汇总表.xlsx",
    "CON",
    ".xlsx",
]


def upload(template_xlsx: bytes, header: list[str]) -> st.SearchStrategy[tuple[bytes, str]]:
    """A file: a filled-in template with hostile cells, a CSV, a magic-number prefix, or noise."""
    rows = st.lists(st.lists(field_value([]), min_size=0, max_size=len(header) + 1), max_size=4)
    names = st.one_of(st.sampled_from(FILENAMES), ANY_TEXT)
    contents = st.one_of(
        rows.map(lambda r: _spreadsheet(template_xlsx, r)),
        st.builds(_csv, st.just(header), rows, st.sampled_from(["utf-8", "gb18030", "utf-16"])),
        st.builds(lambda m, tail: m + tail, st.sampled_from(MAGIC), st.binary(max_size=300)),
        st.binary(max_size=2000),
    )
    return st.tuples(contents, names)


def accept_language() -> st.SearchStrategy[str | None]:
    return st.one_of(
        st.none(),
        st.sampled_from(["en", "zh-CN", "en;q=abc", "*", "xx-\x00", "zh;q=2, en;q=-1", "," * 50]),
    )


def to_json_text(value) -> str:
    return json.dumps(value, ensure_ascii=False)
