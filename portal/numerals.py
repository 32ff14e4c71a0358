"""Chinese numerals, width normalisation and article references (第十二条) in legal texts."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

__all__ = [
    "ArticleRef",
    "chinese_to_int",
    "find_article_refs",
    "int_to_chinese",
    "normalize_article_refs",
    "normalize_width",
    "parse_int",
]

_DIGITS: dict[str, int] = {
    "零": 0,
    "〇": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
_UNITS: dict[str, int] = {"十": 10, "百": 100, "千": 1000}
_ZEROS = frozenset("零〇")
_DIGIT_WORDS = "零一二三四五六七八九"
_UNIT_WORDS = ((1000, "千"), (100, "百"), (10, "十"), (1, ""))

# Only ASCII and full-width digits: str.isdigit()/\d would also accept e.g. Arabic-Indic or
# superscript digits, which never occur in article numbers and int() treats inconsistently.
_FULLWIDTH_DIGITS = str.maketrans("０１２３４５６７８９", "0123456789")
_ARABIC_RE = re.compile(r"[0-9０-９]+")

# Building blocks shared with portal.drafts.parser so both agree on what a number looks like.
NUMERAL_CHARS = "零〇一二两三四五六七八九十百千0-9０-９"
NUMERAL_PATTERN = f"[{NUMERAL_CHARS}]+"
# Pasted PDF text often has (full-width) spaces inside references: 第 12 条.
_SP = r"[ \t\u3000]*"

MAX_CHINESE = 9999

# Ids and counts are INTEGER columns (migrations/versions/0001): PostgreSQL refuses anything
# larger, SQLite overflows at 2**63. A number from a URL or a form beyond this matches nothing.
MAX_DB_INT = 2**31 - 1
# Longer input is refused before int() sees it (int() of a long string is quadratic).
_MAX_DIGITS = len(str(MAX_DB_INT))


def chinese_to_int(s: str) -> int:
    """Parse a Chinese (十二, 一百零三, 两百) or Arabic (12, １２) numeral.

    Digit-only Chinese strings are read positionally (二〇二四 -> 2024). Ambiguous colloquial
    forms such as 一百二 (120 or 102?) or 一千二十 (missing 零) are rejected with ValueError.
    """
    text = s.strip()
    if not text:
        raise ValueError("empty numeral")
    if _ARABIC_RE.fullmatch(text):
        return int(text.translate(_FULLWIDTH_DIGITS))
    if any(ch not in _DIGITS and ch not in _UNITS for ch in text):
        raise ValueError(f"not a Chinese numeral: {s!r}")
    if all(ch in _DIGITS for ch in text):
        value = 0
        for ch in text:
            value = value * 10 + _DIGITS[ch]
        return value
    # Laws write 十二, not 一十二, so a leading 十 implies a 1.
    if text[0] == "十":
        text = "一" + text
    return _parse_with_units(text, s)


def _parse_with_units(text: str, original: str) -> int:
    total = 0
    prev_unit: int | None = None
    zero_pending = False
    i = 0
    n = len(text)
    while i < n:
        ch = text[i]
        if ch in _ZEROS:
            # 零 only marks a skipped place between two non-zero places: 一百零三.
            if prev_unit is None or zero_pending:
                raise ValueError(f"misplaced zero in numeral: {original!r}")
            zero_pending = True
            i += 1
            continue
        if ch in _UNITS:
            raise ValueError(f"unit without digit in numeral: {original!r}")
        digit = _DIGITS[ch]
        i += 1
        if i < n and text[i] in _UNITS:
            unit = _UNITS[text[i]]
            i += 1
        elif i == n:
            unit = 1
        else:
            raise ValueError(f"two digits in a row in numeral: {original!r}")
        if prev_unit is not None:
            valid = unit < prev_unit // 10 if zero_pending else unit == prev_unit // 10
            if not valid:
                raise ValueError(f"ambiguous or malformed numeral: {original!r}")
        total += digit * unit
        prev_unit = unit
        zero_pending = False
    if zero_pending:
        raise ValueError(f"trailing zero in numeral: {original!r}")
    return total


def int_to_chinese(n: int) -> str:
    """Write 1..9999 the way Chinese statutes number articles: 十, 十二, 一百零三, 一百一十."""
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError(f"expected int, got {type(n).__name__}")
    if not 1 <= n <= MAX_CHINESE:
        raise ValueError(f"out of range 1..{MAX_CHINESE}: {n}")
    parts: list[str] = []
    zero_pending = False
    for unit, word in _UNIT_WORDS:
        digit = (n // unit) % 10
        if digit == 0:
            if parts:
                zero_pending = True
            continue
        if zero_pending:
            parts.append("零")
            zero_pending = False
        parts.append(_DIGIT_WORDS[digit] + word)
    result = "".join(parts)
    # 10..19 are written 十, 十一 ..., but 110 keeps its 一: 一百一十.
    if 10 <= n <= 19:
        result = result[1:]
    return result


def normalize_width(text: str) -> str:
    """NFKC-normalise text for search and matching only, never for display.

    Turns full-width letters/digits and U+3000 into ASCII, but NFKC also rewrites Chinese
    full-width punctuation (，；：（）) to ASCII and ① to 1, which is wrong for showing a law.
    """
    return unicodedata.normalize("NFKC", text)


_ARABIC_REF_RE = re.compile(rf"第{_SP}([0-9０-９]+){_SP}([章节条款项])")


def _arabic_ref_to_chinese(match: re.Match[str]) -> str:
    number = int(match.group(1).translate(_FULLWIDTH_DIGITS))
    if not 1 <= number <= MAX_CHINESE:
        return match.group(0)
    return f"第{int_to_chinese(number)}{match.group(2)}"


def normalize_article_refs(text: str) -> str:
    """Rewrite 第12条 / 第１２条 / 第 3 章 as 第十二条 / 第三章 so both spellings match."""
    return _ARABIC_REF_RE.sub(_arabic_ref_to_chinese, text)


@dataclass(frozen=True)
class ArticleRef:
    """A reference such as 第三章第十二条第二款第三项; start/end are offsets into the text."""

    chapter: int | None
    article: int
    paragraph: int | None
    start: int
    end: int
    # Appended last with a default so positional construction with five fields keeps working.
    item: int | None = None


_REF_RE = re.compile(
    rf"(?:第{_SP}(?P<chapter>{NUMERAL_PATTERN}){_SP}章{_SP})?"
    rf"(?P<art>第{_SP}(?P<article>{NUMERAL_PATTERN}){_SP}条)"
    rf"(?P<para_part>{_SP}第{_SP}(?P<paragraph>{NUMERAL_PATTERN}){_SP}款)?"
    rf"(?P<item_part>{_SP}第{_SP}(?P<item>{NUMERAL_PATTERN}){_SP}项)?"
)


def _positive(numeral: str | None) -> int | None:
    if numeral is None:
        return None
    try:
        value = chinese_to_int(numeral)
    except ValueError:
        return None
    return value if value >= 1 else None


def find_article_refs(text: str) -> list[ArticleRef]:
    """Find article references (第十二条, 第12条, 第三章第十二条, 第十二条第二款) in order."""
    refs: list[ArticleRef] = []
    pos = 0
    while True:
        m = _REF_RE.search(text, pos)
        if m is None:
            return refs
        article = _positive(m.group("article"))
        if article is None:
            # e.g. 第十十条: skip just this 第 so a valid reference right after it is still found.
            pos = m.start("art") + 1
            continue
        chapter = _positive(m.group("chapter"))
        start = m.start() if chapter is not None else m.start("art")
        end = m.end("art")
        paragraph = _positive(m.group("paragraph"))
        item: int | None = None
        if paragraph is not None:
            end = m.end("para_part")
            item = _positive(m.group("item"))
            if item is not None:
                end = m.end("item_part")
        elif m.group("paragraph") is None:
            # 第十二条第三项 (no 款) is a common way to cite an item directly.
            item = _positive(m.group("item"))
            if item is not None:
                end = m.end("item_part")
        refs.append(ArticleRef(chapter, article, paragraph, start, end, item))
        pos = end


def _decimal_digits(text: str) -> str | None:
    """ASCII digits for a string of decimal digits in any script (１２, ١٢), else None.

    Only Unicode category Nd counts: superscripts (²), circled digits (①) and the like are
    "digits" to str.isdigit() but not numbers int() accepts.
    """
    out = []
    for ch in text:
        value = unicodedata.decimal(ch, None)
        if value is None:
            return None
        out.append(str(value))
    return "".join(out)


def parse_int(
    value: object,
    default: int | None = None,
    *,
    minimum: int = 0,
    maximum: int = MAX_DB_INT,
    chinese: bool = False,
) -> int | None:
    """A whole number from a query string or form value, or `default` when it is not one.

    Accepts decimal digits in any script (12, １２); with chinese=True also Chinese numerals
    (十二, 第十二条 is not a number: pass the numeral only). Refuses signs, spaces inside,
    superscripts, and values outside minimum..maximum, so a number from a URL never raises and
    never overflows a database column.
    """
    if isinstance(value, bool):
        return default
    if isinstance(value, int):
        number = value
    elif isinstance(value, str):
        text = value.strip()
        if not text or len(text) > _MAX_DIGITS + 2:
            return default
        digits = _decimal_digits(text)
        if digits is not None:
            number = int(digits) if len(digits) <= _MAX_DIGITS else maximum + 1
        elif chinese:
            try:
                number = chinese_to_int(text)
            except ValueError:
                return default
        else:
            return default
    else:
        return default
    return number if minimum <= number <= maximum else default
