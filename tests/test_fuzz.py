"""Issue 11, "no input makes a server error": every route, method and role, generated input.

The walk (tests/fuzz/) opens every page of a seeded world with real ids as each role, reads the
forms and links it finds, then sends each route generated path values, query parameters, form
fields, files and JSON bodies. Any exception (TESTING re-raises what would have been a 500), any
5xx and any ERROR or traceback in the log fails the role's test; all failures are reported
together, grouped by route and cause. The API is also fuzzed against its OpenAPI document in
tests/api/test_schemathesis.py.

Size is bounded (about two minutes per database on two cores) and reproducible: every route's
examples come from a seed derived from the role and the route. The figures are printed at the
end of the run and written to tests/artifacts/fuzz-size.txt.
"""

from __future__ import annotations

import os
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest

from portal import create_app
from portal.extensions import db
from tests.conftest import _empty_all_tables, make_config
from tests.fuzz import values as gen
from tests.fuzz.harvest import Harvest, from_source
from tests.fuzz.walk import ROLES, Route, Walker, routes
from tests.fuzz.world import build_world

ARTIFACTS = Path(__file__).parent / "artifacts"
# Generated inputs per route and role: more where the role gets past the permission check.
EXAMPLES_REACHED = int(os.environ.get("FUZZ_EXAMPLES", "4"))
EXAMPLES_REFUSED = max(2, EXAMPLES_REACHED // 4)


@dataclass
class Site:
    app: object
    routes: list[Route]
    walkers: dict[str, Walker]
    harvest: Harvest
    started: float


@pytest.fixture(scope="module")
def site(migrated, tmp_path_factory, request):
    instance = str(tmp_path_factory.mktemp("fuzz"))
    app = create_app(make_config(migrated, instance))
    # The test's own context is a second app on the same database, as in conftest's `app`.
    here = create_app(make_config(migrated, instance))
    with here.app_context():
        started = time.monotonic()
        world = build_world()
        harvest = Harvest()
        from_source(app, harvest)
        openapi = app.test_client().get("/api/v1/openapi.json").get_json()
        all_routes = routes(app)
        walkers = {role: Walker(app, world, harvest, role, openapi) for role in ROLES}
        for role in ROLES:
            walkers[role].crawl(all_routes)
        found = Site(app, all_routes, walkers, harvest, started)
        request.config.pluginmanager.register(SizeReport(found), "fuzz-size-report")
        try:
            yield found
        finally:
            db.session.remove()
            _empty_all_tables()
            db.engine.dispose()
    with app.app_context():
        db.engine.dispose()


def examples_for(walker: Walker):
    """More examples where the crawl saw the role get through (2xx), fewer where it was refused.

    A POST counts as reached when the role reached a page of the same blueprint.
    """
    reached = walker.stats.reached
    blueprints = {endpoint.rpartition(".")[0] for endpoint in reached}

    def count(route: Route) -> tuple[int, bool]:
        if route.endpoint in reached or (
            route.method != "GET" and route.endpoint.rpartition(".")[0] in blueprints
        ):
            return EXAMPLES_REACHED, True
        return EXAMPLES_REFUSED, False

    return count


@pytest.mark.parametrize("role", ROLES)
def test_no_input_makes_a_server_error(site, role, request):
    walker = site.walkers[role]
    walker.walk(site.routes, examples_for(walker))
    echo(
        request,
        f"fuzz {role}: {walker.stats.requests} requests, "
        f"{sum(walker.stats.examples.values())} fuzzed, {walker.stats.seconds:.0f} s",
    )
    slowest = walker.stats.time_by_route.most_common(12)
    echo(
        request, "  slowest: " + ", ".join(f"{label} {seconds:.1f}s" for label, seconds in slowest)
    )
    assert not walker.failures, walker.report()


def broken_app():
    """A small app with the kinds of fault issue 11 is about, for the walk to find."""
    from flask import Flask
    from flask import request as req

    app = Flask("broken")
    app.config.update(TESTING=True, SECRET_KEY="test")

    @app.route("/")
    def index():
        return (
            '<form method="post" action="/save"><textarea name="body"></textarea>'
            '<select name="kind"><option value="a">A</option></select></form>'
            '<a href="/items/3?article=1">item</a>'
        )

    @app.route("/items/<int:item_id>")
    def item(item_id: int):
        if item_id > 2**63 - 1:
            raise OverflowError("Python int too large to convert to SQLite INTEGER")
        return "item"

    @app.route("/search")
    def search():
        article = req.args.get("article", "")
        return str(int(article)) if article.isdigit() else "all"  # int("²") raises

    @app.route("/save", methods=["POST"])
    def save():
        if "\x00" in req.form.get("body", ""):
            app.logger.error("a NUL byte reached the database")
        if req.form.get("kind", "a").strip() == "":
            return "whitespace choice", 500
        return "saved"

    return app


def test_the_walk_reports_every_kind_of_failure():
    """The harness itself: exceptions, 5xx and logged errors are all found, with route and input."""
    from portal.liaison.spreadsheet import build_template
    from tests.fuzz.world import World

    app = broken_app()
    world = World(user_ids={}, tokens={}, template_xlsx=build_template(None, None))
    harvest = Harvest()
    from_source(app, harvest)
    walker = Walker(app, world, harvest, "anonymous", {})
    found = routes(app)
    walker.crawl(found)
    walker.walk(found, lambda route: (3, True))

    causes = {(f.route, f.kind, f.cause.split(":")[0]) for f in walker.failures}
    assert ("GET /items/<int:item_id>", "exception", "OverflowError") in causes
    assert ("GET /search", "exception", "ValueError") in causes
    assert ("POST /save", "log broken ERROR", "a NUL byte reached the database") in causes
    assert ("POST /save", "status 500", "") in causes
    assert not {f.route for f in walker.failures} - {
        "GET /items/<int:item_id>",
        "GET /search",
        "POST /save",
    }
    report = walker.report()
    assert "GET /search [exception] ValueError" in report
    assert "query=" in report and "form=" in report


def echo(request, line: str) -> None:
    """A progress line on the terminal, past pytest's capture (CI runs are long)."""
    plugins = request.config.pluginmanager
    reporter, capture = plugins.get_plugin("terminalreporter"), plugins.get_plugin("capturemanager")
    if reporter is not None and capture is not None:
        with capture.global_and_fixture_disabled():
            reporter.write_line(line)


class SizeReport:
    """A pytest plugin registered by the fixture: prints the walk's size and writes it down."""

    def __init__(self, found: Site) -> None:
        self.site = found

    def lines(self) -> list[str]:
        site = self.site
        rules = {r.rule for r in site.routes}
        database = "PostgreSQL" if os.environ.get("DATABASE_URL") else "SQLite"
        total = sum(w.stats.requests for w in site.walkers.values())
        inputs = sum(sum(w.stats.examples.values()) for w in site.walkers.values())
        traps = sum(w.stats.traps for w in site.walkers.values())
        seconds = sum(w.stats.seconds for w in site.walkers.values())
        failures = sum(len(w.failures) for w in site.walkers.values())
        forms = sum(len(v) for v in site.harvest.forms.values())
        statuses = sum((w.stats.statuses for w in site.walkers.values()), Counter())
        return [
            f"fuzz walk on {database}: {len(site.routes)} route-methods ({len(rules)} rules) "
            f"x {len(site.walkers)} roles ({', '.join(site.walkers)})",
            f"  per route and role the role gets through: {len(gen.TRAPS)} traps in every field "
            f"+ {len(gen.PATH_TRAPS)} in the path + {EXAMPLES_REACHED} generated; "
            f"where refused: {EXAMPLES_REFUSED} generated",
            f"  requests: {total} = {total - inputs} crawl with real ids + {traps} traps "
            f"+ {inputs - traps} generated, in {seconds:.0f} s",
            f"  forms read: {forms} on {len(site.harvest.forms)} (endpoint, method) pairs; "
            f"query parameters known for {len(site.harvest.query)} endpoints",
            "  answers: "
            + ", ".join(f"{code // 100}xx {n}" for code, n in sorted(statuses.items())),
            f"  failing requests: {failures}",
        ]

    def pytest_terminal_summary(self, terminalreporter) -> None:
        lines = self.lines()
        terminalreporter.section("fuzz size")
        for line in lines:
            terminalreporter.write_line(line)
        ARTIFACTS.mkdir(exist_ok=True)
        (ARTIFACTS / "fuzz-size.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
