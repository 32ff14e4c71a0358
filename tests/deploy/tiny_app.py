"""A Flask app that imports nothing of the portal, for gunicorn's start-up hooks under test: it
boots in a fraction of the real app's time."""

import os

from flask import Flask


def create() -> Flask:
    app = Flask(__name__)
    app.config["RATELIMIT_STORAGE_URI"] = os.environ["TINY_STORAGE"]
    app.add_url_rule("/", "home", lambda: "ok")
    return app
