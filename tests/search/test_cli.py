"""`flask search sync | rebuild | status`, invoked on the group (registered by create_app)."""

import shutil

import pytest

from portal.search import SearchParams, SearchUnavailable, get_backend
from portal.search.cli import search_cli
from portal.search.index import apply_pending, open_index


def test_status_sync_and_rebuild(app, runner, add_comment):
    result = runner.invoke(search_cli, ["status"])
    assert result.exit_code == 0, result.output
    assert "In sync." in result.output

    add_comment("垃圾分类")
    add_comment("物业费")
    result = runner.invoke(search_cli, ["status"])
    assert result.exit_code == 1
    assert "Pending jobs:           2" in result.output
    assert "flask search sync" in result.output

    result = runner.invoke(search_cli, ["sync"])
    assert result.exit_code == 0, result.output
    assert "Applied 2 jobs: 2 documents written, 0 removed." in result.output
    assert runner.invoke(search_cli, ["status"]).exit_code == 0

    shutil.rmtree(app.config["INDEX_DIR"])
    result = runner.invoke(search_cli, ["status"])
    assert result.exit_code == 1
    assert "Documents in the index: 0" in result.output
    assert "flask search rebuild" in result.output

    result = runner.invoke(search_cli, ["rebuild"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("Indexed 2 opinions in ")
    assert runner.invoke(search_cli, ["status"]).exit_code == 0


def _age_the_index(app) -> None:
    """Mark the index as written by an older release (another format on disk)."""
    with open(open_index().storage.folder + "/portal-schema-version", "w") as fh:
        fh.write("1\n")


def test_sync_rebuilds_an_index_with_an_old_schema(app, runner, add_comment):
    """`make run` calls sync: after an upgrade that changed the format, it recreates the index
    rather than adding documents in a format the old segments do not share."""
    add_comment("垃圾分类")
    apply_pending()
    _age_the_index(app)
    add_comment("物业费")
    report = apply_pending()
    assert (report.outdated, report.jobs, report.status) == (True, 0, "outdated")
    result = runner.invoke(search_cli, ["sync"])
    assert result.exit_code == 0, result.output
    assert "old schema: rebuilding" in result.output
    assert "Indexed 2 opinions" in result.output
    assert runner.invoke(search_cli, ["status"]).exit_code == 0
    assert get_backend().search(SearchParams(q="物业费")).total == 1


def test_searching_an_index_with_an_old_schema_is_a_503_not_wrong_results(
    app, client, runner, add_comment, make_user, login
):
    drafter = make_user(role="drafter")
    add_comment("垃圾分类")
    apply_pending()
    _age_the_index(app)
    with app.app_context():
        with pytest.raises(SearchUnavailable):
            get_backend().search(SearchParams(q="垃圾"))
    login(drafter)
    response = client.get("/review/search?q=垃圾")
    assert response.status_code == 503
    assert "网站正忙" in response.get_data(as_text=True)
    assert runner.invoke(search_cli, ["sync"]).exit_code == 0
    assert client.get("/review/search?q=垃圾").status_code == 200


def test_sync_reports_a_lock_that_outlasts_the_wait(app, runner, add_comment, monkeypatch):
    from portal.search import index

    add_comment("电梯")
    monkeypatch.setattr(index, "LOCK_TIMEOUT", 0.2)
    writer = open_index().writer()
    try:
        result = runner.invoke(search_cli, ["sync"])
    finally:
        writer.cancel()
    assert result.exit_code == 1
    assert "stayed locked" in result.output
    assert apply_pending().jobs == 1


def test_views_reach_the_engine_only_through_the_backend_interface():
    """A second engine plugs in behind portal.search.backend without touching any caller."""
    import pathlib
    import re

    root = pathlib.Path(__file__).resolve().parents[2] / "portal"
    offenders = []
    for path in root.rglob("*.py"):
        if "search" in path.relative_to(root).parts[:1]:
            continue
        text = path.read_text(encoding="utf-8")
        if re.search(r"^\s*(from|import) whoosh", text, re.M) or re.search(
            r"portal\.search\.(index|query|analysis)\b", text
        ):
            offenders.append(str(path.relative_to(root)))
    assert not offenders


def test_unknown_backend_is_a_clear_error(app):
    import pytest
    from flask import current_app

    from portal.search import get_backend

    current_app.config["SEARCH_BACKEND"] = "elastic"
    with pytest.raises(RuntimeError, match="unknown SEARCH_BACKEND 'elastic'"):
        get_backend()
