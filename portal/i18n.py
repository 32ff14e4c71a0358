"""Locale selection and the helpers templates use to show bilingual data."""

from flask import Flask, current_app, has_request_context, request, session
from flask_babel import format_date, format_datetime, format_decimal, format_percent, get_locale

from portal.extensions import babel
from portal.models.types import utcnow
from portal.numerals import int_to_chinese

LOCALE_COOKIE = "lang"


def select_locale() -> str:
    """The ?lang= parameter, then the session's choice, then the default (Chinese)."""
    supported = current_app.config["LANGUAGES"]
    if not has_request_context():  # CLI commands speak the configured default language
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    wanted = request.args.get("lang")
    if wanted in supported:
        return wanted
    from portal.api import is_api_request

    if is_api_request():
        # Programs say what they want in Accept-Language; the API never uses the session.
        best = request.accept_languages.best_match(["zh", "en"], default="zh")
        return "en" if best == "en" else current_app.config["BABEL_DEFAULT_LOCALE"]
    chosen = session.get(LOCALE_COOKIE)
    if chosen in supported:
        return chosen
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def is_english() -> bool:
    locale = get_locale()
    return locale is not None and locale.language == "en"


def localized(obj, field: str) -> str:
    """The English variant of a bilingual field (title_en) when English is shown and it exists."""
    if is_english():
        english = getattr(obj, f"{field}_en", "")
        if english:
            return english
    return getattr(obj, field)


def article_label(number: int | None) -> str:
    """第十二条 in Chinese, "Article 12" in English: a numeral format, like a date format."""
    if number is None:
        return ""
    return f"Article {number}" if is_english() else f"第{int_to_chinese(number)}条"


def chapter_label(number: int | None) -> str:
    if number is None:
        return ""
    return f"Chapter {number}" if is_english() else f"第{int_to_chinese(number)}章"


def html_lang() -> str:
    return "en" if is_english() else "zh-Hans"


def init_app(app: Flask) -> None:
    babel.init_app(app, locale_selector=select_locale)

    @app.before_request
    def remember_requested_language() -> None:
        # A shared link with ?lang=en keeps the visitor in English on the next pages too.
        wanted = request.args.get("lang")
        from portal.api import is_api_request

        if is_api_request():
            return
        if wanted in app.config["LANGUAGES"] and session.get(LOCALE_COOKIE) != wanted:
            session[LOCALE_COOKIE] = wanted

    app.jinja_env.policies["ext.i18n.trimmed"] = True
    app.jinja_env.globals.update(
        localized=localized,
        article_label=article_label,
        chapter_label=chapter_label,
        html_lang=html_lang,
        is_english=is_english,
        format_date=format_date,
        format_datetime=format_datetime,
        format_decimal=format_decimal,
        format_percent=format_percent,
        now=utcnow,
    )

    from portal import labels

    labels.register(app)
