"""What reaches a view from the URL and the request body: ids that fit the database, no NUL.

An id too large for an INTEGER column, or written with non-ASCII digits, matches no route (404)
instead of overflowing the database driver (500); a path segment with a control character
likewise. NUL is removed from every query-string and form value before anything reads it:
PostgreSQL refuses it in text, and no legitimate input contains it.
"""

from __future__ import annotations

import re

from flask import Flask, Request
from werkzeug.datastructures import ImmutableMultiDict, iter_multi_items
from werkzeug.routing import IntegerConverter, UnicodeConverter, ValidationError

from portal.numerals import MAX_DB_INT

# C0/C1 controls, DEL, lone surrogates: never part of a slug, a code or a file name.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")


class IdConverter(IntegerConverter):
    """<int:...> limited to ASCII digits and 1..MAX_DB_INT (the INTEGER columns' range)."""

    regex = r"[0-9]+"

    def __init__(self, map, fixed_digits=0, min=None, max=MAX_DB_INT, signed=False):
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=False)

    def to_python(self, value: str) -> int:
        # int() of thousands of digits raises ValueError (Python's digit limit) or is slow.
        if len(value) > len(str(self.max or MAX_DB_INT)):
            raise ValidationError()
        return super().to_python(value)


class TextConverter(UnicodeConverter):
    """The default <name> converter, refusing control characters (404, not a database error)."""

    def to_python(self, value: str) -> str:
        if _CONTROL.search(value):
            raise ValidationError()
        return value


def _without_nul(value):
    return value.replace("\x00", "") if isinstance(value, str) else value


class CleanMultiDict(ImmutableMultiDict):
    """request.args and request.form without NUL characters in keys or values."""

    def __init__(self, mapping=None):
        if mapping is not None:
            mapping = [(_without_nul(k), _without_nul(v)) for k, v in iter_multi_items(mapping)]
        super().__init__(mapping)


class PortalRequest(Request):
    parameter_storage_class = CleanMultiDict


def init_app(app: Flask) -> None:
    """Register before any route is added: rules pick their converters when they are created."""
    app.url_map.converters["int"] = IdConverter
    app.url_map.converters["default"] = TextConverter
    app.url_map.converters["string"] = TextConverter
    app.request_class = PortalRequest
