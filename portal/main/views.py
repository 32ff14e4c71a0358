"""Home page, language switch, privacy notice and the Atom feed."""

from flask import current_app, redirect, render_template, request, session, url_for

from portal.drafts import services as drafts
from portal.i18n import LOCALE_COOKIE
from portal.main import bp
from portal.urls import safe_next_url


@bp.route("/")
def index():
    open_now = drafts.open_drafts()
    upcoming = drafts.upcoming_drafts()
    counts = drafts.participation_by_draft([d.id for d in open_now])
    return render_template("main/index.html", open_now=open_now, upcoming=upcoming, counts=counts)


@bp.route("/language/<code>")
def set_language(code: str):
    """Remember the chosen language and go back where the visitor was."""
    if code in current_app.config["LANGUAGES"]:
        session[LOCALE_COOKIE] = code
    return redirect(safe_next_url(request.args.get("next")) or url_for("main.index"))


@bp.route("/privacy")
def privacy():
    return render_template("main/privacy.html")


@bp.route("/feed.atom")
def feed():
    from portal.main.feed import build_feed

    return current_app.response_class(build_feed(), mimetype="application/atom+xml")
