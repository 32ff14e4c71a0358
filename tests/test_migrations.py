"""The schema comes only from the migrations, and they agree with the models."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from portal.extensions import db


def test_models_and_migrations_agree(app):
    with db.engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "render_as_batch": True}
        )
        differences = compare_metadata(context, db.metadata)
    assert differences == [], f"models differ from migrations: {differences}"


def test_migrations_build_every_table(app):
    tables = set(inspect(db.engine).get_table_names())
    expected = {t.name for t in db.metadata.sorted_tables} | {"alembic_version"}
    assert tables == expected


def test_migrations_downgrade_and_upgrade_again(app_factory, tmp_path):
    """A fresh database goes up to head, down to nothing and up again without errors."""
    from flask_migrate import downgrade, upgrade

    app = app_factory(SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'roundtrip.db'}")
    with app.app_context():
        upgrade()
        downgrade(revision="base")
        assert inspect(db.engine).get_table_names() == ["alembic_version"]
        upgrade()
        assert "comments" in inspect(db.engine).get_table_names()
        db.engine.dispose()
