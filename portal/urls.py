"""URL helpers: only same-site redirects are followed; absolute links come from configuration.

Absolute links (the Atom feed, the API's `url` fields) are built from PUBLIC_URL, never from
the request: the Host header is chosen by the client, so `Host: evil.example` would otherwise
put links to evil.example into a feed that readers and caches keep.
"""

from urllib.parse import quote, urlsplit, urlunsplit

from flask import current_app

# The embedded default: what `make run` serves.
DEFAULT_PUBLIC_URL = "http://127.0.0.1:5000"


def safe_next_url(target: str | None) -> str | None:
    """Return target if it is a path on this site, else None (no open redirects)."""
    if not target:
        return None
    target = target.replace("\\", "/")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


def public_url(config) -> str:
    """The site's address without a trailing slash: PUBLIC_URL; when empty, SERVER_NAME with
    PREFERRED_URL_SCHEME and APPLICATION_ROOT; when that is unset too, DEFAULT_PUBLIC_URL.

    Raises ValueError with a readable message for anything but an absolute http(s) address.
    """
    value = (config.get("PUBLIC_URL") or "").strip()
    if not value and config.get("SERVER_NAME"):
        scheme = config.get("PREFERRED_URL_SCHEME") or "http"
        value = f"{scheme}://{config['SERVER_NAME']}{config.get('APPLICATION_ROOT') or '/'}"
    if not value:
        return DEFAULT_PUBLIC_URL
    try:
        parts = urlsplit(value)
        valid = (
            parts.scheme in ("http", "https")
            and bool(parts.hostname)
            and "@" not in parts.netloc
            and not parts.query
            and not parts.fragment
        )
        parts.port  # noqa: B018 (raises ValueError for a port that is not a number)
    except ValueError:
        valid = False
    if not valid:
        raise ValueError(
            "PUBLIC_URL (PORTAL_PUBLIC_URL) must be the site's absolute http:// or https:// "
            f"address, such as https://yijian.example.gov.cn; got {value!r}"
        )
    return urlunsplit((parts.scheme, parts.netloc.lower(), parts.path.rstrip("/"), "", ""))


def external_url(endpoint: str, *, _anchor: str | None = None, **values) -> str:
    """url_for(endpoint, **values, _external=True), with the scheme, host and path prefix taken
    from public_url() and never from the request. Works outside a request (CLI, jobs) too."""
    app = current_app
    parts = urlsplit(public_url(app.config))
    adapter = app.url_map.bind(parts.netloc, script_name=parts.path or "/", url_scheme=parts.scheme)
    app.inject_url_defaults(endpoint, values)
    url = adapter.build(endpoint, values, force_external=True)
    if _anchor is not None:
        url += "#" + quote(_anchor, safe="%!#$&'()*+,/:;=?@")
    return url
