"""Personal data typed into free text (opinions, quotes, responses), masked for public output.

`mask_contacts` is the one function every public output passes opinion and response text
through: the published opinions page, the results page, the adoption report (.docx), and the
`mask_contacts` Jinja filter. Structured fields (the name and contact a commenter fills in) are
never shown publicly; portal.comments.services has its own helpers for showing them.

What is recognised, and what is kept so the writer still recognises their own text:

- mobile: 13812345678, 138-1234-5678, 138 1234 5678, 1381 2345 678, with +86, 0086, 86 or
  (86) in front -> 138****5678 (the 4th to 7th digits hidden);
- landline: 0571-87654321, (0571)87654321, 021-12345678-123, 0571 8765 4321, +86 571 87654321
  -> 0571-****4321 (area code and extension kept, the local number's last 4 digits kept);
- a bare local number right after 电话 / 座机 / 固话 / 传真 / Tel: 电话：87654321 -> 电话：****4321;
- ID card: 18 digits (the last may be X) or 15 digits, spaces after the region and the birth
  date allowed -> 3301**********123X (first and last 4 kept);
- e-mail, with @ or full-width ＠: zhang.san@example.org -> z***@example.org.

Separators between digit groups: spaces (also the ideographic and no-break space), hyphens
(ASCII, full-width －, the Unicode dashes) and dots (. and ．). Digits may be full-width
(１３８…); the masked text keeps the characters as written, only the masked digits become `*`.

False positives, chosen on purpose:
- Numbers are only taken whole: a match may not touch another digit on either side, so a
  piece of a longer number is never masked and 2026-11-29, 第12条, 5000元 or a 10-digit amount
  stay as they are.
- A mobile number is 11 digits starting 13–19, with separators only where people put them
  (after the 3rd, 4th, 7th or 8th digit). An 11-digit amount starting 13–19 (13812345678元)
  is masked too: a legal text practically never writes such an amount in digits, and a phone
  number left readable costs more than a masked amount.
- A landline needs its area code (0 plus 2 or 3 digits, or +86 without the 0); a bare 7–8 digit
  number is masked only right after a word saying it is a telephone number, so 12345678元 and
  国务院令第12345678号 stay.
- An ID number needs a plausible birth date (year 18xx–20xx, month 01–12, day 01–31) after
  a region code starting 1–8; the check digit is not verified (a mistyped ID is still one).
- Service numbers (110, 12345, 400-…) are organisations' numbers and stay.
"""

from __future__ import annotations

import re

_D = "[0-9\uff10-\uff19]"  # a digit, ASCII or full-width
_SPACE = "[ \u00a0\u3000]"
_DASH = "[-\u2010-\u2014\uff0d\ufe63.\uff0e]"  # hyphens, dashes, full-width hyphen, dots
_SEP = f"(?:{_SPACE}*{_DASH}{_SPACE}*|{_SPACE}+)"
_PLUS = "[+\uff0b]"
_OPEN = "[(\uff08]"
_CLOSE = "[)\uff09]"
# +86, 0086 (also full-width), (86), (+86) or a bare 86 before a number without its leading 0.
_COUNTRY = (
    f"(?:{_PLUS}{_SPACE}*86|00{_SPACE}*86|\uff10\uff10{_SPACE}*\uff18\uff16"
    f"|{_OPEN}{_SPACE}*{_PLUS}?86{_SPACE}*{_CLOSE}|86)"
)


def _digits(n: int) -> str:
    return f"{_D}{{{n}}}"


_EMAIL = (
    r"(?<![A-Za-z0-9._%+\-])"
    r"(?P<email_first>[A-Za-z0-9_%+\-])[A-Za-z0-9._%+\-]*"
    r"(?P<email_at>[@\uff20])"
    r"(?P<email_domain>[A-Za-z0-9\-]+(?:[.\uff0e][A-Za-z0-9\-]+)+)"
)
# Region (first digit 1-8), birth date, sequence, check character; a space may follow the region
# and the birth date, as on a printed card.
_MONTH = "(?:[0０][1-9１-９]|[1１][0-2０-２])"
_DAY = "(?:[0０][1-9１-９]|[1-2１-２]" + _D + "|[3３][0-1０-１])"
_ID18 = (
    f"[1-8１-８]{_digits(5)}{_SPACE}?"
    f"(?:[1１][89８９]|[2２][0０]){_digits(2)}{_MONTH}{_DAY}{_SPACE}?"
    f"{_digits(3)}[0-9\uff10-\uff19Xx\uff38\uff58]"
)
_ID15 = f"[1-8１-８]{_digits(5)}{_SPACE}?{_digits(2)}{_MONTH}{_DAY}{_SPACE}?{_digits(3)}"
_MOBILE = (
    f"(?P<mobile_prefix>{_COUNTRY}{_SEP}?)?"
    f"(?P<mobile>[1１][3-9３-９]{_D}{_SEP}?{_D}{_SEP}?{_digits(3)}{_SEP}?{_D}{_SEP}?{_digits(3)})"
)
_AREA = (
    f"(?:{_OPEN}{_SPACE}*[0０][1-9１-９]{_D}{{1,2}}{_SPACE}*{_CLOSE}"
    f"|[0０][1-9１-９]{_D}{{1,2}}"
    f"|{_COUNTRY}{_SEP}?{_OPEN}?[1-9１-９]{_D}{{1,2}}{_CLOSE}?)"
)
_LOCAL = f"{_D}{{3,4}}{_SEP}?{_digits(4)}"
_LANDLINE = (
    f"(?P<area>{_AREA}{_SEP}?)"
    f"(?P<local>{_LOCAL})"
    f"(?P<ext>(?:{_SEP}|{_SPACE}*(?:转|分机|ext\\.?|x|#){_SPACE}*){_D}{{1,6}})?"
)
_KEYWORD = "(?:联系电话|电话号码|电话|座机|固话|传真|[Tt]el|TEL)"

# One pass, alternatives in order of precedence where two could start at the same place: an
# e-mail address before the phone number that may be its local part, the ID before anything
# shorter, a mobile number before a +86 landline.
_PATTERN = re.compile(
    f"{_EMAIL}|(?<!{_D})(?:(?P<id>{_ID18}|{_ID15})|{_MOBILE}|{_LANDLINE})(?!{_D})"
)
# A second pass over what is left: the keyword starts before any number, so in the same pass it
# would win over the mobile number it introduces (电话138-1234-5678) and mask only a part of it.
_NAMED_LOCAL = re.compile(
    f"(?P<named>{_KEYWORD}{_SPACE}*[:：]?{_SPACE}*)(?P<local>{_LOCAL})(?!{_D})"
)


def _mask_digits(text: str, keep_first: int, keep_last: int) -> str:
    """Every digit (and an ID's X) but the first and last few as '*'; separators stay."""
    positions = [i for i, ch in enumerate(text) if ch.isdigit() or ch in "Xx\uff38\uff58"]
    hidden = set(positions[keep_first : len(positions) - keep_last])
    return "".join("*" if i in hidden else ch for i, ch in enumerate(text))


def _replace(match: re.Match) -> str:
    group = match.group
    if group("email_at"):
        return f"{group('email_first')}***{group('email_at')}{group('email_domain')}"
    if group("id"):
        return _mask_digits(group("id"), 4, 4)
    if group("mobile"):
        return (group("mobile_prefix") or "") + _mask_digits(group("mobile"), 3, 4)
    return group("area") + _mask_digits(group("local"), 0, 4) + (group("ext") or "")


def _replace_named(match: re.Match) -> str:
    return match.group("named") + _mask_digits(match.group("local"), 0, 4)


def mask_contacts(text: str | None) -> str:
    """The text with phone numbers, ID numbers and e-mail addresses masked (see above)."""
    if not text:
        return ""
    return _NAMED_LOCAL.sub(_replace_named, _PATTERN.sub(_replace, text))
