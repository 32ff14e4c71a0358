"""The only allow-list for rendered user text: opinions are stored as plain text and shown
escaped; where line breaks are rendered, the markup passes through bleach once more."""

import re
import unicodedata

import bleach
from markupsafe import Markup, escape

# Contact details and ID numbers typed into an opinion or a response are masked wherever the
# text is shown to the public: portal.privacy holds the one function (the `mask_contacts` filter).
from portal.privacy import mask_contacts

# Line breaks are the only formatting an opinion gets on screen.
ALLOWED_TAGS = frozenset({"br"})

# Line-like separators (vertical tab: Word's soft line break, form feed, NEL, U+2028/2029): a
# line break in a multi-line text, a space in a one-line one.
_BREAKS = re.compile(r"\r\n|[\r\v\f\x85\u2028\u2029]")
# Dropped everywhere: C0/C1 controls but tab and newline (handled apart), zero-width spaces and
# bidi marks/embeddings/overrides/isolates (they can make a text read differently from what is
# stored: "Trojan source"), the BOM, lone surrogates (from JSON "\ud800": not encodable, the
# database refuses them) and the two non-characters XML 1.0 forbids.
_DROP = re.compile(
    "[\x00-\x08\x0e-\x1f\x7f-\x84\x86-\x9f\u061c\u200b\u200e\u200f"
    "\u202a-\u202e\u2066-\u2069\ufeff\ufffe\uffff\ud800-\udfff]"
)
# Anything outside XML 1.0's Char production: what lxml (python-docx, feedgen) and openpyxl
# refuse. Tab, LF and CR are allowed.
_XML_INVALID = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_XML_BREAKS = re.compile("[\v\f]")


def clean_text(value: str | None, *, multiline: bool = True) -> str:
    """Plain text as stored: Unicode NFC, no control, zero-width or bidi-control characters,
    no NUL or lone surrogates, CRLF -> LF, tabs as spaces, trimmed.

    multiline=False (one-line fields: names, titles, choices, file names) also turns line breaks
    into spaces. Every text that enters the portal goes through here: forms (portal.forms),
    the API (portal.api.schemas), spreadsheet imports and the services.
    """
    if not value:
        return ""
    text = _DROP.sub("", str(value))
    text = _BREAKS.sub("\n", text).replace("\t", " ")
    if not multiline:
        text = text.replace("\n", " ")
    return unicodedata.normalize("NFC", text).strip()


def clean_line(value: str | None) -> str:
    """clean_text for a one-line field: line breaks become spaces."""
    return clean_text(value, multiline=False)


def xml_safe(value):
    """Text an XML writer (the Atom feed, .docx, .xlsx) can always write, whatever is stored:
    data saved before clean_text existed may still hold a vertical tab or a NUL. Non-strings pass
    through unchanged (numbers and dates in spreadsheet cells)."""
    if not isinstance(value, str):
        return value
    return _XML_INVALID.sub("", _XML_BREAKS.sub("\n", value))


def multiline(value: str | None) -> Markup:
    """Escape plain text and keep its line breaks as <br>; bleach guarantees nothing else."""
    html = str(escape(value or "")).replace("\n", "<br>\n")
    return Markup(bleach.clean(html, tags=ALLOWED_TAGS, attributes={}, strip=True))  # noqa: S704


def init_app(app) -> None:
    app.jinja_env.filters["multiline"] = multiline
    app.jinja_env.filters["mask_contacts"] = mask_contacts
