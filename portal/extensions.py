"""Flask extensions, created unbound here and bound to the app in create_app()."""

from flask import g
from flask_babel import Babel
from flask_bootstrap import Bootstrap5
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_talisman import Talisman
from flask_wtf import CSRFProtect
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    """Declarative base whose constraint names are stable across databases and migrations."""

    metadata = MetaData(
        naming_convention={
            "ix": "ix_%(column_0_label)s",
            "uq": "uq_%(table_name)s_%(column_0_name)s",
            "ck": "ck_%(table_name)s_%(constraint_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
        }
    )


db = SQLAlchemy(model_class=Base)
migrate = Migrate(render_as_batch=True, compare_type=True)
login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()
bootstrap = Bootstrap5()
talisman = Talisman()
limiter = Limiter(get_remote_address)


def spare_rate_limits() -> None:
    """This request failed a form's validation: limits declared with ``deduct_when=deducted``
    do not count it (the visitor corrects a mistake, they do not try again)."""
    g.rate_limits_spared = True


def deducted(response) -> bool:
    """``deduct_when`` for limits a failed validation must not use up; a refusal never does."""
    return response.status_code != 429 and not g.get("rate_limits_spared", False)


# SQLite's per-connection settings (foreign keys, WAL, busy timeout, BEGIN IMMEDIATE for
# writers) live in portal/database.py.
