"""The only allow-list for rendered user text: opinions are stored as plain text and shown
escaped; where line breaks are rendered, the markup passes through bleach once more."""

import re
import unicodedata

import bleach
from markupsafe import Markup, escape

# Line breaks are the only formatting an opinion gets on screen.
ALLOWED_TAGS = frozenset({"br"})

_CONTROL = re.compile(r"[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f\u200b-\u200f\u202a-\u202e]")


def clean_text(value: str | None) -> str:
    """Plain text as stored: Unicode NFC, no control or bidi-override characters, CRLF -> LF."""
    if not value:
        return ""
    text = unicodedata.normalize("NFC", value).replace("\r\n", "\n").replace("\r", "\n")
    return _CONTROL.sub("", text).strip()


# Contact details a commenter may have typed into the text itself: masked wherever opinions are
# shown to the public or put into a report (the report's excerpts, the results page).
_PHONE = re.compile(r"(?<!\d)(1\d{2})\d{4}(\d{4})(?!\d)")
_EMAIL = re.compile(r"([A-Za-z0-9._%+-])[A-Za-z0-9._%+-]*@([A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)")


def mask_contacts(text: str | None) -> str:
    """138****1234 and z***@example.org for phone numbers and e-mail addresses in a text."""
    text = _PHONE.sub(r"\1****\2", text or "")
    return _EMAIL.sub(r"\1***@\2", text)


def multiline(value: str | None) -> Markup:
    """Escape plain text and keep its line breaks as <br>; bleach guarantees nothing else."""
    html = str(escape(value or "")).replace("\n", "<br>\n")
    return Markup(bleach.clean(html, tags=ALLOWED_TAGS, attributes={}, strip=True))  # noqa: S704


def init_app(app) -> None:
    app.jinja_env.filters["multiline"] = multiline
    app.jinja_env.filters["mask_contacts"] = mask_contacts
