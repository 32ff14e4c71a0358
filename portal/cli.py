"""Operator commands: `flask portal ...` for data and accounts."""

from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import select

from portal.extensions import db
from portal.models import LiaisonPoint, Role, User

portal_cli = AppGroup("portal", help="Portal data and accounts.")


@portal_cli.command("seed-demo")
def seed_demo_command():
    """Load the demo drafts, liaison points and accounts (only what is missing)."""
    from portal.demo.seed import seed_demo

    report = seed_demo()
    db.session.commit()
    click.echo(f"Liaison points created: {report.points_created}")
    click.echo(f"Drafts created: {', '.join(report.drafts_created) or 'none'}")
    click.echo(f"Demo opinions created: {report.opinions_created}")
    click.echo("Demo accounts (local use only):")
    for role, email, password in report.accounts:
        click.echo(f"  {role:8} {email:24} {password}")
    if not report.changed:
        click.echo("Demo data already present; nothing changed.")


@portal_cli.command("create-user")
@click.option("--role", type=click.Choice([r.value for r in Role]), required=True)
@click.option("--email", default=None, help="E-mail address (or give --phone).")
@click.option("--phone", default=None, help="Mobile number, 11 digits.")
@click.option("--password", required=True)
@click.option("--name", "display_name", default="", help="Display name.")
@click.option("--point", "point_code", default=None, help="Liaison point code (liaison only).")
def create_user_command(role, email, phone, password, display_name, point_code):
    """Create an account with a role; liaison staff need --point."""
    from portal.auth.services import AccountError, create_user

    try:
        user = create_user(
            role=Role(role),
            email=email,
            phone=phone,
            password=password,
            display_name=display_name,
            point_code=point_code,
        )
    except AccountError as error:
        raise click.UsageError(str(error)) from error
    db.session.commit()
    point = f" at point {user.liaison_point.code}" if user.liaison_point else ""
    click.echo(
        f"Created {user.role.value} account {user.email or user.phone} (id {user.id}){point}."
    )


@portal_cli.command("list-users")
def list_users_command():
    """List accounts with their role and liaison point."""
    for user in db.session.scalars(select(User).order_by(User.id)):
        point = user.liaison_point.code if user.liaison_point else "-"
        state = "active" if user.active else "inactive"
        click.echo(
            f"{user.id:5} {user.role.value:8} {point:8} {state:8} {user.email or user.phone}"
        )


@portal_cli.command("set-active")
@click.argument("login")
@click.option("--active/--inactive", default=True)
def set_active_command(login, active):
    """Activate or deactivate an account by e-mail or phone."""
    from portal.auth.services import find_by_login

    user = find_by_login(login)
    if user is None:
        raise click.UsageError(f"No account {login!r}.")
    user.active = active
    db.session.commit()
    click.echo(f"Account {login} is now {'active' if active else 'inactive'}.")


@portal_cli.command("list-points")
def list_points_command():
    """List liaison points."""
    for point in db.session.scalars(select(LiaisonPoint).order_by(LiaisonPoint.code)):
        click.echo(f"{point.code:8} {point.level.value:10} {point.district:6} {point.name}")


@portal_cli.command("create-token")
@click.argument("login")
@click.option("--name", default="command line", show_default=True, help="What the token is for.")
def create_token_command(login, name):
    """Create a personal API token for an account; the token is printed once, never stored."""
    from portal.auth import tokens
    from portal.auth.services import find_by_login

    user = find_by_login(login)
    if user is None:
        raise click.UsageError(f"No account {login!r}.")
    try:
        token, secret = tokens.create_token(user, name)
    except tokens.TokenError as error:
        raise click.UsageError(f"Cannot create a token: {error.code}.") from error
    db.session.commit()
    click.echo(f"Token {token.prefix}… for {user.email or user.phone} ({user.role.value}):")
    click.echo(secret)
    click.echo("Store it now: it cannot be shown again. Revoke it in the account's settings.")


@portal_cli.command("revoke-token")
@click.argument("prefix")
def revoke_token_command(prefix):
    """Revoke the API token that starts with PREFIX (as shown in the settings page)."""
    from portal.auth import tokens
    from portal.models import ApiToken

    matches = list(db.session.scalars(select(ApiToken).where(ApiToken.prefix == prefix[:12])))
    if len(matches) != 1:
        raise click.UsageError(f"{len(matches)} tokens start with {prefix!r}; give 12 characters.")
    tokens.revoke_token(matches[0], matches[0].user)
    db.session.commit()
    click.echo(f"Token {matches[0].prefix}… revoked.")


@portal_cli.command("worker")
@click.option("--threads", type=int, default=None, help="Job threads (WORKER_THREADS).")
def worker_command(threads):
    """Run jobs and the search indexer until stopped (Ctrl-C or SIGTERM)."""
    from portal.jobs.worker import run_worker

    run_worker(current_app._get_current_object(), threads)


@portal_cli.command("rebuild-tallies")
def rebuild_tallies_command():
    """Recompute the public figures per draft and article from the opinions (portal/tallies.py)."""
    from portal.tallies import rebuild

    report = rebuild()
    db.session.commit()
    for line in report.fixed:
        click.echo(f"fixed: {line}")
    click.echo(
        f"Tallies rebuilt: {report.drafts} drafts, {report.articles} articles, "
        f"{report.participants} participant rows; {len(report.fixed)} differences fixed."
    )


@portal_cli.command("backup")
@click.option(
    "--to",
    "target",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder for the archive (default: BACKUP_DIR, else instance/backups).",
)
def backup_command(target):
    """Archive the SQLite database (while the site runs) and the uploaded files."""
    from portal.ops.backup import BackupError, create_backup

    config = current_app.config
    target = target or Path(config["BACKUP_DIR"] or Path(current_app.instance_path) / "backups")
    try:
        archive = create_backup(
            db.engine,
            Path(config["UPLOAD_DIR"]),
            target,
            timeout_ms=config["SQLITE_BUSY_TIMEOUT_MS"],
        )
    except BackupError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"Backup written: {archive} ({archive.stat().st_size:,} bytes).")


@portal_cli.command("restore")
@click.argument("archive", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="Confirm: the database and uploads are replaced.")
def restore_command(archive, yes):
    """Put back the database and the uploaded files from a `flask portal backup` archive."""
    from portal.ops.backup import BackupError, restore_backup

    if not yes:
        raise click.UsageError(
            "Restoring replaces the whole database and every uploaded file with the archive's. "
            "Stop the site and the worker, then run again with --yes."
        )
    config = current_app.config
    try:
        report = restore_backup(
            db.engine,
            Path(config["UPLOAD_DIR"]),
            archive,
            timeout_ms=config["SQLITE_BUSY_TIMEOUT_MS"],
        )
    except BackupError as error:
        raise click.ClickException(f"{error} Nothing was changed.") from error
    opinions = report.tables.get("comments", 0)
    click.echo(
        f"Restored the backup of {report.created_at}: {opinions} opinions, "
        f"{report.files} uploaded files, schema at {report.alembic_version}."
    )
    click.echo("Run `flask db upgrade` if this code is newer, then `flask search rebuild`.")
