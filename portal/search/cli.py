"""Operator commands for the search index: `flask search sync | rebuild | status`."""

import time

import click
from flask.cli import AppGroup

search_cli = AppGroup(
    "search", help="The search index of opinions: apply pending changes, rebuild, check."
)


@search_cli.command("sync")
def sync_command():
    """Apply all pending index jobs, waiting for the index lock if another writer holds it;
    an index with an old schema is rebuilt."""
    from portal.search import get_backend

    backend = get_backend()
    report = backend.apply_pending(wait=True)
    if report.outdated:
        click.echo("The index has an old schema: rebuilding it from the database.")
        started = time.perf_counter()
        count = backend.rebuild()
        click.echo(f"Indexed {count} opinions in {time.perf_counter() - started:.1f} s.")
        return
    click.echo(
        f"Applied {report.jobs} jobs: {report.indexed} documents written, {report.deleted} removed."
    )
    if report.locked:
        click.echo("The index stayed locked; the remaining jobs wait for the next sync.")
        click.get_current_context().exit(1)


@search_cli.command("rebuild")
def rebuild_command():
    """Rebuild the whole index from the database."""
    from portal.search import get_backend

    started = time.perf_counter()
    count = get_backend().rebuild()
    click.echo(f"Indexed {count} opinions in {time.perf_counter() - started:.1f} s.")


@search_cli.command("status")
def status_command():
    """Show documents, comments to index and pending jobs; exit code 1 when out of sync."""
    from portal.search import get_backend

    info = get_backend().status()
    click.echo(f"Documents in the index: {info['documents']}")
    click.echo(f"Opinions to index:      {info['expected']}")
    click.echo(f"Pending jobs:           {info['pending']}")
    if not info["schema_current"]:
        click.echo("The index has an old schema: run `flask search rebuild`.")
    if info["in_sync"]:
        click.echo("In sync.")
        return
    fix = "sync" if info["pending"] and info["schema_current"] else "rebuild"
    click.echo(f"Out of sync: run `flask search {fix}`.")
    click.get_current_context().exit(1)
