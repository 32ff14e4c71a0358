"""The legislative consultation portal: create_app() builds the Flask application."""

from pathlib import Path

from flask import Flask

from portal.config import DefaultConfig, apply_environment, fill_instance_defaults

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def create_app(test_config: dict | None = None, instance_path: str | None = None) -> Flask:
    """Build the app: configuration, extensions, blueprints and CLI groups, nothing else."""
    app = Flask(__name__, instance_relative_config=True, instance_path=instance_path)
    app.config.from_object(DefaultConfig)
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(PROJECT_ROOT / "translations")
    if test_config is None:
        app.config.from_pyfile("config.py", silent=True)
        apply_environment(app.config)
    else:
        app.config.update(test_config)
    fill_instance_defaults(app.config, app.instance_path)

    if app.config["PROXY_FIX_X_FOR"]:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=app.config["PROXY_FIX_X_FOR"], x_proto=1)

    _init_extensions(app)
    _register_blueprints(app)
    _register_cli(app)
    return app


def _init_extensions(app: Flask) -> None:
    from portal import converters, database, i18n, ops, sanitize, security
    from portal.extensions import bootstrap, csrf, db, limiter, login_manager, migrate
    from portal.jobs import queue
    from portal.search import outbox

    # First: URL converters must be in place before any route is added.
    converters.init_app(app)
    # Next: request ids and logging, so that every later hook's log lines carry the id.
    ops.init_app(app)
    db.init_app(app)
    database.init_app(app)
    # The search outbox: session hooks write an index job with every change to an opinion.
    outbox.init_app(app)
    migrate.init_app(app, db, directory=str(PROJECT_ROOT / "migrations"))
    csrf.init_app(app)
    limiter.init_app(app)
    bootstrap.init_app(app)
    login_manager.init_app(app)
    i18n.init_app(app)
    security.init_app(app)
    sanitize.init_app(app)
    queue.init_app(app)
    # Imported for its session hooks: the public tallies follow every flush of opinions.
    import portal.tallies  # noqa: F401


def _register_blueprints(app: Flask) -> None:
    from portal import api, errors, ops
    from portal.admin import bp as admin_bp
    from portal.auth import bp as auth_bp
    from portal.comments import bp as comments_bp
    from portal.drafts import bp as drafts_bp
    from portal.jobs import bp as jobs_bp
    from portal.liaison import bp as liaison_bp
    from portal.main import bp as main_bp
    from portal.review import bp as review_bp

    app.register_blueprint(main_bp)
    app.register_blueprint(drafts_bp)
    app.register_blueprint(comments_bp)
    app.register_blueprint(auth_bp)
    app.register_blueprint(review_bp)
    app.register_blueprint(liaison_bp)
    app.register_blueprint(admin_bp)
    app.register_blueprint(jobs_bp)
    ops.register(app)
    api.init_app(app)
    errors.init_app(app)


def _register_cli(app: Flask) -> None:
    from portal.cli import portal_cli
    from portal.search.cli import search_cli

    app.cli.add_command(portal_cli)
    app.cli.add_command(search_cli)
