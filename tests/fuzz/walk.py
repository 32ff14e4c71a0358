"""The walk: every route of the URL map, every method, as one role, with generated input.

A request fails the walk when it raises (with TESTING on, Flask re-raises what would have been a
500), answers 5xx, or makes anything log at ERROR or with a traceback. Failures are collected,
grouped by route and cause, and reported together; the walk never stops at the first.
"""

from __future__ import annotations

import io
import itertools
import logging
import random
import re
import time
import traceback
import zlib
from collections import Counter, defaultdict
from contextlib import contextmanager
from dataclasses import dataclass, field
from urllib.parse import urlencode

from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import example as explicit
from hypothesis import strategies as st
from werkzeug.datastructures import MultiDict

from tests.fuzz import values as gen
from tests.fuzz.harvest import FormSpec, Harvest, read_page

ROLES = ("anonymous", "citizen", "liaison", "drafter", "admin")
# Routes whose success changes what later routes can reach (deletes, submits, logs out): last.
LATE = re.compile(r"delete|submit|active|revoke|logout|publish|recluster|merge|decide|accept|bulk")
OMIT = object()
EXAMPLE_NUMBERS = itertools.count()
ONE_TIME = re.compile(r"^[0-9a-f]{32}$")
VARIABLE_RE = re.compile(r"<(?:[^>:]+:)?([^>]+)>")
CONVERTER_RE = re.compile(r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>")


@dataclass(frozen=True)
class Route:
    rule: str
    endpoint: str
    method: str
    variables: tuple[tuple[str, str], ...]  # (name, converter)
    defaults: tuple[tuple[str, object], ...]

    @property
    def is_api(self) -> bool:
        return self.rule.startswith("/api/")

    def label(self) -> str:
        return f"{self.method} {self.rule}"

    def build(self, path_values: dict[str, str]) -> str:
        converters = dict(self.variables)

        def substitute(match: re.Match) -> str:
            name = match.group(1)
            return gen.url_segment(path_values[name], converters[name])

        return VARIABLE_RE.sub(substitute, self.rule)


def routes(app: Flask) -> list[Route]:
    found = []
    for rule in app.url_map.iter_rules():
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            # (name, converter) as written in the rule: "int", "path", "default"...
            variables = tuple(
                (name, converter or "default")
                for converter, name in CONVERTER_RE.findall(rule.rule)
            )
            found.append(
                Route(
                    rule.rule,
                    rule.endpoint,
                    method,
                    variables,
                    tuple(sorted((rule.defaults or {}).items())),
                )
            )
    return sorted(found, key=lambda r: (r.method != "GET", bool(LATE.search(r.endpoint)), r.rule))


@dataclass
class Failure:
    role: str
    route: str
    kind: str  # "exception", "status 5xx", "log"
    cause: str  # exception type and the innermost frame in the portal
    request: str

    def group(self) -> tuple[str, str, str]:
        return (self.route, self.kind, self.cause)


class LogTrap(logging.Handler):
    """Keeps every record at ERROR and above, and any record carrying a traceback."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.levelno >= logging.ERROR or record.exc_info:
            self.records.append(record)


def _cause(error: BaseException) -> str:
    frames = traceback.extract_tb(error.__traceback__)
    ours = [f for f in frames if "/portal/" in f.filename and "/site-packages/" not in f.filename]
    where = ours[-1] if ours else (frames[-1] if frames else None)
    place = f" at {where.filename.split('/portal/')[-1]}:{where.lineno}" if where else ""
    message = str(error).splitlines()[0][:160] if str(error) else ""
    return f"{type(error).__name__}: {message}{place}"


def _short(value, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else f"{text[:limit]}…({len(text)} chars)"


@dataclass
class Example:
    path_values: dict[str, str]
    query: object  # list of pairs or a raw string
    body: object  # None, a form (dict), or ("json"|"raw", value)
    accept_language: str | None

    def describe(self, url: str) -> str:
        parts = [url]
        if self.query:
            parts.append(f"query={_short(self.query, 120)}")
        if isinstance(self.body, dict):
            shown = {
                k: (f"<file {_short(v[1])} {len(v[0])} bytes>" if isinstance(v, tuple) else v)
                for k, v in self.body.items()
            }
            parts.append(f"form={_short(shown, 300)}")
        elif self.body is not None:
            parts.append(f"body={_short(self.body, 200)}")
        if self.accept_language is not None:
            parts.append(f"Accept-Language={self.accept_language!r}")
        return " ".join(parts)


@dataclass
class Stats:
    requests: int = 0
    examples: Counter = field(default_factory=Counter)  # route label -> generated inputs
    statuses: Counter = field(default_factory=Counter)
    reached: set[str] = field(default_factory=set)  # endpoints that answered 2xx
    time_by_route: Counter = field(default_factory=Counter)
    traps: int = 0  # of the examples, the fixed trap examples
    seconds: float = 0.0


class Walker:
    """Runs the requests for one role and keeps what failed."""

    def __init__(self, app: Flask, world, harvest: Harvest, role: str, openapi: dict) -> None:
        self.app = app
        self.world = world
        self.harvest = harvest
        self.role = role
        self.openapi = openapi
        self.client: FlaskClient = app.test_client()
        self.failures: list[Failure] = []
        self.stats = Stats()
        self.trap = LogTrap()
        from portal.liaison.spreadsheet import COLUMNS

        self.sheet_header = [c.header for c in COLUMNS]

    # --- accounts ---------------------------------------------------------------------------

    def _role(self):
        from portal.models import Role

        return None if self.role == "anonymous" else Role(self.role)

    def ensure_logged_in(self) -> None:
        """Back to the role's own session: a generated request may have logged out or in."""
        role = self._role()
        with self.client.session_transaction() as session:
            current = session.get("_user_id")
        expected = str(self.world.user_ids[role]) if role else None
        if current == expected:
            return
        self.client = self.app.test_client()
        if role is None:
            return
        self._reactivate()
        from portal.extensions import db
        from portal.models import User
        from tests.fuzz.world import DEMO_PASSWORDS

        email = db.session.get(User, self.world.user_ids[role]).email
        response = self.client.post(
            "/login", data={"login": email, "password": DEMO_PASSWORDS[role]}
        )
        assert response.status_code == 302, f"login as {self.role} failed"

    def _reactivate(self) -> None:
        """An admin's generated request may have switched the account off; switch it back on."""
        from sqlalchemy import update

        from portal.extensions import db
        from portal.models import LiaisonPoint, User

        role = self._role()
        if role is None:
            return
        user_id = self.world.user_ids[role]
        db.session.execute(update(User).where(User.id == user_id).values(active=True))
        point_id = db.session.get(User, user_id).liaison_point_id
        if point_id:
            db.session.execute(
                update(LiaisonPoint).where(LiaisonPoint.id == point_id).values(active=True)
            )
        db.session.commit()

    # --- one request --------------------------------------------------------------------------

    def send(self, route: Route, example: Example):
        url = route.build(example.path_values)
        headers = {}
        if example.accept_language is not None:
            headers["Accept-Language"] = example.accept_language
        role = self._role()
        if route.is_api and role is not None:
            headers["Authorization"] = f"Bearer {self.world.tokens[role]}"
        if isinstance(example.query, str):
            query_string = example.query
        else:
            query_string = urlencode(example.query or [])
        kwargs: dict = {"query_string": query_string, "headers": headers}
        body = example.body
        if isinstance(body, dict):
            data = MultiDict()
            for name, value in body.items():
                if isinstance(value, tuple):
                    data.add(name, (io.BytesIO(value[0]), value[1]))
                elif isinstance(value, list):
                    for item in value:
                        data.add(name, item)
                else:
                    data.add(name, value)
            kwargs["data"] = data
        elif isinstance(body, tuple):
            kind, value = body
            kwargs["data"] = gen.to_json_text(value) if kind == "json" else value
            kwargs["content_type"] = "application/json"
        self.trap.records.clear()
        self.stats.requests += 1
        started = time.monotonic()
        # Every exception is a finding: TESTING re-raises what would have been a 500.
        try:
            response = self.client.open(url, method=route.method, **kwargs)
            # Streamed bodies (exports) fail while they are read: read them here, then close.
            response.get_data()
            response.close()
        except Exception as error:
            self._fail(route, "exception", _cause(error), example.describe(url))
            return None
        finally:
            self.stats.time_by_route[route.label()] += time.monotonic() - started
        self.stats.statuses[response.status_code // 100 * 100] += 1
        if response.status_code < 300:
            self.stats.reached.add(route.endpoint)
        if response.status_code >= 500:
            self._fail(route, f"status {response.status_code}", "", example.describe(url))
        for record in self.trap.records:
            cause = record.getMessage().splitlines()[0][:160]
            if record.exc_info and record.exc_info[1] is not None:
                cause = _cause(record.exc_info[1])
            self._fail(route, f"log {record.name} {record.levelname}", cause, example.describe(url))
        return response

    def _fail(self, route: Route, kind: str, cause: str, request: str) -> None:
        self.failures.append(Failure(self.role, route.label(), kind, cause, request))

    # --- harvesting pages ---------------------------------------------------------------------

    def path_combos(self, route: Route, limit: int = 4) -> list[dict[str, str]]:
        """Real path values: the combinations seen in links first, then the pools' product."""
        names = [name for name, _c in route.variables]
        if not names:
            return [{}]
        combos = [c for c in self.harvest.combos.get(route.endpoint, []) if set(c) == set(names)]
        # A variable nothing is known about still gets a plausible value.
        pools = [self.pool(name)[:4] or ["1"] for name in names]
        for values in itertools.product(*pools):
            combo = dict(zip(names, values, strict=True))
            if combo not in combos:
                combos.append(combo)
        return combos[:limit]

    def pool(self, name: str) -> list[str]:
        pool = list(self.world.pools.get(name, []))
        for value in self.harvest.pools.get(name, []):
            if value not in pool:
                pool.append(value)
        return pool

    @contextmanager
    def trapping(self):
        """Catch the log for the duration; time it."""
        started = time.monotonic()
        logger = logging.getLogger()
        logger.addHandler(self.trap)
        try:
            yield
        finally:
            logger.removeHandler(self.trap)
            self.stats.seconds += time.monotonic() - started

    def crawl(self, routes_: list[Route]) -> None:
        """Open every GET page with real values and read its forms and links."""
        with self.trapping():
            self._crawl(routes_)

    def _crawl(self, routes_: list[Route]) -> None:
        self.ensure_logged_in()
        for route in routes_:
            if route.method != "GET":
                continue
            for combo in self.path_combos(route):
                example = Example(combo, [], None, None)
                response = self.send(route, example)
                self.ensure_logged_in()
                if (
                    response is not None
                    and response.status_code == 200
                    and response.mimetype == "text/html"
                ):
                    read_page(self.app, self.harvest, route.build(combo), response.get_data(True))

    # --- generated input ----------------------------------------------------------------------

    def strategy(self, route: Route) -> st.SearchStrategy[Example]:
        converters = dict(route.variables)
        per_variable = st.fixed_dictionaries(
            {name: gen.path_value(self.pool(name), converters[name]) for name in converters}
        )
        real = self.path_combos(route)
        path = st.one_of(st.sampled_from(real), per_variable) if converters else st.just({})
        query_names = dict(self.harvest.query.get(route.endpoint, {}))
        for generic in ("page", "next", "lang", "q", "draft", "format", "per_page"):
            query_names.setdefault(generic, [])
        query = gen.query_pairs(list(query_names), query_names)
        if route.method == "GET":
            body = st.none()
        elif route.is_api:
            body = gen.json_body(self.api_fields(route))
        else:
            body = self.form_strategy(self.harvest.forms.get((route.endpoint, route.method), []))
        return st.builds(Example, path, query, body, gen.accept_language())

    def api_fields(self, route: Route) -> dict[str, list[str]]:
        """Top-level body properties from the OpenAPI document, with their enum values."""
        template = VARIABLE_RE.sub(r"{\1}", route.rule)
        operation = self.openapi.get("paths", {}).get(template, {}).get(route.method.lower(), {})
        schema = (
            operation.get("requestBody", {})
            .get("content", {})
            .get("application/json", {})
            .get("schema", {})
        )
        ref = schema.get("$ref", "")
        if ref:
            schema = self.openapi["components"]["schemas"][ref.rsplit("/", 1)[-1]]
        fields = {}
        for name, prop in schema.get("properties", {}).items():
            fields[name] = [str(v) for v in prop.get("enum", [])]
        if "draft" in fields:
            fields["draft"] = self.pool("slug")
        return fields

    def form_strategy(self, specs: list[FormSpec]) -> st.SearchStrategy:
        upload = gen.upload(self.world.template_xlsx, self.sheet_header)

        def one(spec: FormSpec) -> st.SearchStrategy:
            fields = {}
            for name, offered in spec.fields.items():
                real = [v for v in offered if len(v) < 2000]
                if name in spec.textareas and not any(real):
                    real = [gen.SENTENCE]
                value = gen.field_value(real)
                if name in spec.multiple:
                    value = st.lists(value, max_size=3)
                fields[name] = st.one_of(value, st.just(OMIT))
            for name in spec.files:
                fields[name] = st.one_of(upload, st.just(OMIT))
            return st.fixed_dictionaries(fields).map(
                lambda d: {k: v for k, v in d.items() if v is not OMIT}
            )

        junk = st.dictionaries(gen.hostile_text(), gen.hostile_text(), max_size=3)
        if not specs:
            return junk
        return st.one_of(st.sampled_from(specs).flatmap(one), junk)

    def trap_examples(self, route: Route) -> list[Example]:
        """The known traps, sent to every field of the route at once, in a fixed order.

        Each trap goes into every query parameter and into some of the form's fields: the
        free-text ones, only the textareas (a bad e-mail address would otherwise stop the form
        before a textarea's content reaches the database and the exports), or all; the others
        keep an offered value. Then the path variables get the path traps.
        """
        combos = self.path_combos(route, limit=1)
        names = sorted(
            {*self.harvest.query.get(route.endpoint, {}), "page", "draft", "article", "q"}
        )
        specs = self.harvest.forms.get((route.endpoint, route.method), [])
        found = []
        for n, (trap, mode) in enumerate(gen.TRAPS):
            body = None
            if route.method != "GET" and route.is_api:
                body = ("json", {name: trap for name in self.api_fields(route)})
            elif route.method != "GET" and specs:
                spec = specs[n % len(specs)]
                targets = {"free": spec.free, "textareas": spec.textareas}.get(mode, spec.fields)
                body = {}
                for name, offered in spec.fields.items():
                    if name in targets:
                        body[name] = gen.embed(trap) if mode == "textareas" else trap
                    elif name in spec.textareas and not any(offered):
                        body[name] = gen.SENTENCE
                    elif offered and ONE_TIME.match(offered[0]):
                        # A one-time key (idempotency): a fresh one, or only the first trap counts.
                        body[name] = f"{zlib.crc32(f'{route.label()} {n}'.encode()):032x}"
                    else:
                        body[name] = offered[0] if offered else ""
                for name in spec.files:
                    body[name] = (trap.encode("utf-8", "replace"), f"{trap}.csv")
            found.append(Example(combos[0], [(name, trap) for name in names], body, None))
        if route.variables:
            for trap in gen.PATH_TRAPS:
                found.append(Example({name: trap for name, _c in route.variables}, [], None, None))
        return found

    def fuzz(self, route: Route, max_examples: int, traps: bool) -> None:
        """Send the traps (when asked) and max_examples generated requests to one route.

        Reproducible: the generated examples come from a seed derived from role and route.
        """
        strategy = self.strategy(route)

        @seed(zlib.crc32(f"{self.role} {route.label()}".encode()))
        @settings(
            max_examples=max_examples,
            deadline=None,
            database=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
            derandomize=False,
        )
        @given(strategy)
        def run(example: Example) -> None:
            # Hypothesis resets the `random` module to one state for every example; Whoosh
            # names index segments with it, and equal names collide. A distinct, reproducible
            # seed per request keeps the run from causing a failure production cannot have.
            random.seed(next(EXAMPLE_NUMBERS))
            self.ensure_logged_in()
            self.stats.examples[route.label()] += 1
            self.send(route, example)

        fixed = self.trap_examples(route) if traps else []
        self.stats.traps += len(fixed)
        for trap in reversed(fixed):
            run = explicit(trap)(run)
        run()

    def walk(self, routes_: list[Route], examples_for) -> None:
        """examples_for(route) -> (generated examples, whether to send the traps)."""
        with self.trapping():
            for route in routes_:
                self._reactivate()
                self.ensure_logged_in()
                self.fuzz(route, *examples_for(route))

    def report(self) -> str:
        groups: dict[tuple, list[Failure]] = defaultdict(list)
        for failure in self.failures:
            groups[failure.group()].append(failure)
        lines = [f"{len(self.failures)} failing requests as {self.role}, {len(groups)} causes:"]
        for (route, kind, cause), items in sorted(groups.items()):
            lines.append(f"- {route} [{kind}] {cause} ×{len(items)}")
            for item in items[:2]:
                lines.append(f"    e.g. {item.request[:600]}")
        return "\n".join(lines)
