"""What the pages offer: the forms (fields, options, defaults) and links, read from rendered HTML.

The walk first opens every page with real ids as every role; each <form> is filed under the
endpoint its action resolves to, each link adds its path values and query parameters to the
pools. The form classes a view builds (found in its source) add the fields a page does not
render for the role that opened it. Request parameters read in the views (``request.args``,
``args.get("...")``) are collected from the source as well.
"""

from __future__ import annotations

import inspect
import re
from collections import defaultdict
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import parse_qsl, urlsplit

from flask import Flask
from werkzeug.exceptions import HTTPException
from werkzeug.routing import RequestRedirect


@dataclass
class FormSpec:
    """One form: its fields with the values the page offers (defaults, options), and files."""

    fields: dict[str, list[str]] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)
    multiple: set[str] = field(default_factory=set)
    free: set[str] = field(default_factory=set)  # typed by people: text inputs, textareas
    textareas: set[str] = field(default_factory=set)

    def key(self) -> tuple:
        return (tuple(sorted(self.fields)), tuple(sorted(self.files)))


class PageParser(HTMLParser):
    """Collects forms (action, method, fields) and link targets from one page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[tuple[str, str, FormSpec]] = []
        self.links: list[str] = []
        self._form: FormSpec | None = None
        self._select: str | None = None
        self._textarea: str | None = None

    def _add(self, name: str | None, value: str | None) -> None:
        if self._form is None or not name:
            return
        values = self._form.fields.setdefault(name, [])
        if value is not None and value not in values:
            values.append(value)

    def handle_starttag(self, tag: str, attrs) -> None:
        a = {k: (v if v is not None else "") for k, v in attrs}
        if tag == "form":
            self._form = FormSpec()
            self.forms.append((a.get("action", ""), a.get("method", "get").upper(), self._form))
        elif tag in ("a", "link") and a.get("href"):
            self.links.append(a["href"])
        elif tag in ("img", "script", "object") and (a.get("src") or a.get("data")):
            self.links.append(a.get("src") or a.get("data"))
        elif tag == "input" and self._form is not None:
            kind = a.get("type", "text").lower()
            if kind == "file":
                if a.get("name"):
                    self._form.files.append(a["name"])
            elif kind in ("checkbox", "radio", "hidden", "submit"):
                self._add(a.get("name"), a.get("value", "on" if kind == "checkbox" else ""))
            else:
                self._add(a.get("name"), a.get("value"))
                # A field hidden from people (tabindex -1, no autocomplete) is a honeypot.
                honeypot = a.get("tabindex") == "-1" and a.get("autocomplete") == "off"
                if a.get("name") and not honeypot:
                    self._form.free.add(a["name"])
        elif tag == "button" and self._form is not None and a.get("name"):
            self._add(a["name"], a.get("value", ""))
        elif tag == "select" and self._form is not None:
            self._select = a.get("name")
            self._add(self._select, None)
            if "multiple" in a and self._select:
                self._form.multiple.add(self._select)
        elif tag == "option" and self._select:
            self._add(self._select, a.get("value", ""))
        elif tag == "textarea" and self._form is not None:
            self._textarea = a.get("name")
            self._add(self._textarea, None)
            if self._textarea:
                self._form.free.add(self._textarea)
                self._form.textareas.add(self._textarea)

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data: str) -> None:
        if self._textarea and data.strip():
            self._add(self._textarea, data)


@dataclass
class Harvest:
    """Everything learned about the site: forms per (endpoint, method), query names, real values."""

    forms: dict[tuple[str, str], list[FormSpec]] = field(default_factory=lambda: defaultdict(list))
    query: dict[str, dict[str, list[str]]] = field(default_factory=lambda: defaultdict(dict))
    pools: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    # endpoint -> path values seen together in one link or form action (ids that belong together)
    combos: dict[str, list[dict[str, str]]] = field(default_factory=lambda: defaultdict(list))

    def add_form(self, endpoint: str, method: str, spec: FormSpec) -> None:
        known = self.forms[(endpoint, method)]
        for other in known:
            if other.key() == spec.key():
                for name, values in spec.fields.items():
                    for value in values:
                        if value not in other.fields[name] and len(other.fields[name]) < 30:
                            other.fields[name].append(value)
                other.free |= spec.free
                other.textareas |= spec.textareas
                other.multiple |= spec.multiple
                return
        known.append(spec)

    def add_query(self, endpoint: str, name: str, value: str | None = None) -> None:
        values = self.query[endpoint].setdefault(name, [])
        if value is not None and value not in values and len(values) < 20:
            values.append(value)

    def add_combo(self, endpoint: str, values: dict) -> None:
        combo = {k: str(v) for k, v in values.items() if v is not None}
        known = self.combos[endpoint]
        if combo and combo not in known and len(known) < 8:
            known.append(combo)
        for name, value in combo.items():
            self.add_value(name, value)

    def add_value(self, name: str, value) -> None:
        text = str(value)
        pool = self.pools[name]
        if text not in pool and len(pool) < 12:
            pool.append(text)


def resolve(app: Flask, url: str, method: str):
    """(endpoint, path values, query pairs) for a same-site URL, or None."""
    parts = urlsplit(url)
    if parts.scheme or parts.netloc or not parts.path.startswith("/"):
        return None
    adapter = app.url_map.bind("localhost")
    try:
        endpoint, values = adapter.match(parts.path, method=method)
    except (HTTPException, RequestRedirect):
        return None
    return endpoint, values, parse_qsl(parts.query, keep_blank_values=True)


def read_page(app: Flask, harvest: Harvest, page_url: str, html: str) -> None:
    parser = PageParser()
    try:
        parser.feed(html)
    except Exception:  # noqa: S110 - a page the parser chokes on still has its links
        pass
    for action, method, spec in parser.forms:
        found = resolve(app, action or page_url, method)
        if found is None:
            continue
        endpoint, values, _query = found
        harvest.add_combo(endpoint, values)
        if method == "GET":
            for name, options in spec.fields.items():
                harvest.add_query(endpoint, name)
                for option in options:
                    harvest.add_query(endpoint, name, option)
        else:
            harvest.add_form(endpoint, method, spec)
    for link in parser.links:
        found = resolve(app, link, "GET")
        if found is None:
            continue
        endpoint, values, query = found
        harvest.add_combo(endpoint, values)
        for name, value in query:
            harvest.add_query(endpoint, name, value)


# request.args.get("x"), args.getlist("x"), request.args["x"], request.form.get("x")...
ARG_RE = re.compile(r"""\b(args|form|values)(?:\.get(?:list)?\(|\[)\s*["']([\w\-]+)["']""")
FORM_RE = re.compile(r"\b([A-Z]\w*Form)\(")
FREE_FIELDS = {
    "StringField",
    "TextAreaField",
    "IntegerField",
    "DecimalField",
    "FloatField",
    "DateField",
    "DateTimeField",
    "DateTimeLocalField",
    "EmailField",
    "PasswordField",
    "SearchField",
    "TelField",
    "URLField",
}
PREFIX_RE = re.compile(r"""prefix=["']([\w\-]+)["']""")


def from_source(app: Flask, harvest: Harvest) -> None:
    """Parameter names and form fields that the views read, found in their source code."""
    from flask_wtf import FlaskForm

    for endpoint, view in app.view_functions.items():
        try:
            source = inspect.getsource(inspect.unwrap(view))
        except (OSError, TypeError):
            continue
        read = FormSpec()
        for kind, name in ARG_RE.findall(source):
            if kind == "args":
                harvest.add_query(endpoint, name)
            else:
                read.fields[name] = []
        if read.fields:
            harvest.add_form(endpoint, "POST", read)
        namespace = inspect.unwrap(view).__globals__
        prefixes = ["", *PREFIX_RE.findall(source)]
        for class_name in set(FORM_RE.findall(source)):
            form_class = namespace.get(class_name)
            if not (isinstance(form_class, type) and issubclass(form_class, FlaskForm)):
                continue
            with app.test_request_context():
                try:
                    form = form_class(meta={"csrf": False})
                # Some forms need what the view computes (a draft, choices): the page has them.
                except Exception:  # noqa: S112
                    continue
            for prefix in prefixes:
                spec = FormSpec()
                for name, bound in form._fields.items():
                    full = f"{prefix}-{name}" if prefix else name
                    if bound.type in ("FileField", "MultipleFileField"):
                        spec.files.append(full)
                    else:
                        if bound.type in FREE_FIELDS:
                            spec.free.add(full)
                        if bound.type == "TextAreaField":
                            spec.textareas.add(full)
                        choices = getattr(bound, "choices", None) or []
                        spec.fields[full] = [
                            str(c[0] if isinstance(c, tuple) else c) for c in choices
                        ][:20]
                for method in ("POST",):
                    harvest.add_form(endpoint, method, spec)
