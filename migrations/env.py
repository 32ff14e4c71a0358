"""Alembic environment, run through Flask-Migrate with the app's engine and models."""

import logging
from logging.config import fileConfig

from alembic import context
from flask import current_app

import portal.models  # noqa: F401  (registers every table on the metadata)
from portal.models.types import UTCDateTime

config = context.config
if config.config_file_name:
    fileConfig(config.config_file_name, disable_existing_loggers=False)
logger = logging.getLogger("alembic.env")

target_db = current_app.extensions["migrate"].db


def render_item(type_, obj, autogen_context):
    """Write the portable column type into migrations, not the Python decorator around it."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def run_migrations_offline():
    context.configure(
        url=str(target_db.engine.url),
        target_metadata=target_db.metadata,
        literal_binds=True,
        render_as_batch=True,
        render_item=render_item,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online():
    def process_revision_directives(context, revision, directives):
        # No empty revision files when the models have not changed.
        if getattr(config.cmd_opts, "autogenerate", False):
            script = directives[0]
            if script.upgrade_ops.is_empty():
                directives[:] = []
                logger.info("No changes in schema detected.")

    conf_args = dict(current_app.extensions["migrate"].configure_args)
    conf_args.setdefault("process_revision_directives", process_revision_directives)
    conf_args.setdefault("render_item", render_item)

    with target_db.engine.connect() as connection:
        if connection.dialect.name == "sqlite":
            # Batch migrations copy tables; with foreign keys enforced, that would cascade.
            # Outside a transaction: SQLite ignores this pragma inside one, and SQLAlchemy
            # begins one before any statement it runs (portal/database.py).
            from portal.database import pragma_outside_transaction

            pragma_outside_transaction(connection, "PRAGMA foreign_keys=OFF")
        context.configure(connection=connection, target_metadata=target_db.metadata, **conf_args)
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
