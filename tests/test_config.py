"""Configuration: defaults, instance file, PORTAL_* environment, the generated secret key."""

import os
import stat

from portal import create_app
from portal.config import apply_environment, fill_instance_defaults


def test_environment_overrides():
    config = {"SQLALCHEMY_DATABASE_URI": "sqlite:///a.db", "RATELIMIT_ENABLED": True}
    apply_environment(
        config,
        {
            "PORTAL_DATABASE_URL": "postgresql+psycopg://u@h/db",
            "PORTAL_INDEX_DIR": "/srv/index",
            "PORTAL_SECRET_KEY": "s3cret",
            "PORTAL_DEFAULT_LOCALE": "en",
            "PORTAL_RATELIMIT_ENABLED": "false",
        },
    )
    assert config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u@h/db"
    assert config["INDEX_DIR"] == "/srv/index"
    assert config["SECRET_KEY"] == "s3cret"
    assert config["BABEL_DEFAULT_LOCALE"] == "en"
    assert config["RATELIMIT_ENABLED"] is False


def test_instance_defaults_and_generated_secret(tmp_path):
    config: dict = {}
    fill_instance_defaults(config, str(tmp_path))
    assert config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'portal.db'}"
    assert config["INDEX_DIR"] == str(tmp_path / "index")
    key = config["SECRET_KEY"]
    assert len(key) >= 40
    mode = stat.S_IMODE(os.stat(tmp_path / "secret_key").st_mode)
    assert mode == 0o600
    again: dict = {}
    fill_instance_defaults(again, str(tmp_path))
    assert again["SECRET_KEY"] == key  # stable across restarts


def test_instance_config_file_and_environment(tmp_path, monkeypatch):
    (tmp_path / "config.py").write_text('BABEL_DEFAULT_LOCALE = "en"\nSECRET_KEY = "from-file"\n')
    monkeypatch.setenv("PORTAL_SECRET_KEY", "from-env")
    monkeypatch.setenv("PORTAL_DATABASE_URL", f"sqlite:///{tmp_path / 'x.db'}")
    app = create_app(instance_path=str(tmp_path))
    assert app.config["BABEL_DEFAULT_LOCALE"] == "en"
    assert app.config["SECRET_KEY"] == "from-env"
    assert app.config["SQLALCHEMY_DATABASE_URI"].endswith("x.db")
    assert app.config["INDEX_DIR"] == str(tmp_path / "index")
