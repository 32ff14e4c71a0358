"""Configuration defaults; overridden by instance/config.py and PORTAL_* environment variables."""

import ipaddress
import os
import secrets
from pathlib import Path
from typing import ClassVar


class DefaultConfig:
    """Settings for the embedded default: SQLite and a Whoosh index under instance/."""

    # Filled in by load_config() relative to the instance folder when left empty.
    SQLALCHEMY_DATABASE_URI = ""
    INDEX_DIR = ""
    UPLOAD_DIR = ""
    SECRET_KEY = ""
    # The search engine: "whoosh" (an index under INDEX_DIR) or "postgres" (the database
    # itself, portal/search/pg.py); empty chooses postgres on PostgreSQL, whoosh otherwise.
    SEARCH_BACKEND = ""
    # Files that jobs make (exports, reports) until they are downloaded: on shared storage when
    # workers and app hosts are different machines, like UPLOAD_DIR.
    JOB_DIR = ""
    # The job queue (portal/jobs/queue.py): empty is a SQLite file in the instance folder (the
    # embedded default, no other server); redis://host:6379/1 in production.
    JOBS_URL = ""
    # Run each job at once in the process that queues it (tests only).
    JOBS_IMMEDIATE = False
    # Threads of `flask portal worker` running jobs (beside its search indexer).
    WORKER_THREADS = 2

    SQLALCHEMY_ENGINE_OPTIONS: ClassVar[dict] = {"pool_pre_ping": True}
    BABEL_DEFAULT_LOCALE = "zh_Hans_CN"
    BABEL_DEFAULT_TIMEZONE = "Asia/Shanghai"
    LANGUAGES = ("zh_Hans_CN", "en")

    # Pasted drafts and uploaded .docx files larger than this are refused with a clear message.
    MAX_CONTENT_LENGTH = 16 * 1024 * 1024
    ATTACHMENT_MAX_BYTES = 10 * 1024 * 1024
    DRAFT_MAX_CHARS = 300_000
    DRAFT_MAX_DOCX_BYTES = 5 * 1024 * 1024
    # Uploaded .xlsx/.docx are checked by portal/officefiles.py before they are parsed (zip and
    # XML bombs): see docs/uploads.md for the figures behind these values.
    OFFICE_MAX_UNCOMPRESSED = 50 * 1024 * 1024  # all parts inflated, declared and actual
    OFFICE_MAX_RATIO = 100  # inflated ÷ compressed, for each part above 1 MB
    OFFICE_MAX_PARTS = 1000
    OFFICE_MAX_XML_ELEMENTS = 2_000_000
    SPREADSHEET_MAX_ROWS = 50_000  # rows read, blank ones included (.xlsx and .csv)
    SPREADSHEET_MAX_CELLS = 500_000  # cells read, a row padded up to its last cell
    SPREADSHEET_MAX_SHARED_STRINGS = 30 * 1024 * 1024  # the .xlsx's text, inflated
    DRAFT_MAX_PARAGRAPHS = 50_000  # paragraphs of an uploaded .docx, blank ones included

    # memory:// counts in one process: exact only while one process serves the site (make serve
    # runs one gunicorn worker with several threads). Several processes or hosts must share the
    # counters: redis://host:6379/0 in production (deploy/README.md), else each one allows the
    # whole limit and "5 per minute" becomes 5 × processes (rate_limit_warnings()).
    RATELIMIT_STORAGE_URI = "memory://"
    # While Redis cannot be reached each process counts in memory (limits per process for that
    # time, logged) instead of answering every request with a 500.
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
    RATELIMIT_HEADERS_ENABLED = True
    RATELIMIT_ENABLED = True
    # Evaluate every limit of a request, so a refusal can say when all exhausted ones allow again.
    RATELIMIT_FAIL_ON_FIRST_BREACH = False
    # One address may be a household, an office or a carrier's NAT with hundreds of people: the
    # per-address limits only stop floods; the tight ones are per browser (a random id in the
    # session cookie) and per account. Failed form validations use up none of them.
    COMMENT_RATE_LIMIT = "300 per minute; 3000 per hour; 20000 per day"  # per address
    COMMENT_SESSION_RATE_LIMIT = "5 per minute; 30 per hour; 200 per day"  # per browser
    COMMENT_ACCOUNT_RATE_LIMIT = "5 per minute; 50 per day"  # per account (form or token)
    LOOKUP_RATE_LIMIT = "600 per minute; 6000 per hour"  # receipts and /track, per address
    LOOKUP_SESSION_RATE_LIMIT = "30 per minute; 300 per hour"  # per browser
    REGISTER_RATE_LIMIT = "100 per minute; 1000 per hour"  # per address
    REGISTER_SESSION_RATE_LIMIT = "5 per hour"  # per browser
    # A person needs at least this long to read and fill in the comment form; bots are faster.
    COMMENT_MIN_SECONDS = 3
    # Number of proxies in front of the app whose X-Forwarded-For is trusted (0: none).
    PROXY_FIX_X_FOR = 0
    # The site's public address (https://yijian.example.gov.cn): absolute links in the feed and
    # the API. Empty: SERVER_NAME with PREFERRED_URL_SCHEME, else http://127.0.0.1:5000. Never
    # taken from the request's Host header (portal/urls.py).
    PUBLIC_URL = ""

    # The JSON API: per client address, and per token on top; bodies above this are refused.
    API_RATE_LIMIT = "600 per minute; 10000 per hour"  # an app's users may share a carrier NAT
    API_TOKEN_RATE_LIMIT = "300 per minute; 10000 per hour"  # noqa: S105 (a limit)
    API_MAX_CONTENT_LENGTH = 4 * 1024 * 1024
    API_MAX_OPINIONS = 2000  # opinions in one submission sent through the API
    # Liaison points may still send batches this many days after a consultation closes, to
    # compile their forum notes; never once the results are published.
    LIAISON_GRACE_DAYS = 3
    # flask-smorest: the OpenAPI document is served at /api/v1/openapi.json.
    API_TITLE = "Legislative consultation portal API"
    API_VERSION = "1.0.0"
    OPENAPI_VERSION = "3.0.3"
    OPENAPI_URL_PREFIX = "/api/v1"
    OPENAPI_JSON_PATH = "openapi.json"

    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_HTTPONLY = True
    # Behind TLS in production set PORTAL_SESSION_COOKIE_SECURE=true and PORTAL_FORCE_HTTPS=true.
    SESSION_COOKIE_SECURE = False
    FORCE_HTTPS = False

    WTF_CSRF_TIME_LIMIT = None
    # Tests lower the cost; production keeps werkzeug's default.
    PASSWORD_HASH_METHOD = "scrypt"  # noqa: S105 (a method name, not a password)

    BOOTSTRAP_SERVE_LOCAL = True
    BOOTSTRAP_BOOTSWATCH_THEME = None

    # Operations (portal/database.py, portal/ops/): see the README's "Operations".
    # SQLite: how long a writer waits for the write lock before giving up with a 503 (ms).
    SQLITE_BUSY_TIMEOUT_MS = 10_000
    # NORMAL: in WAL mode commits survive a killed process; FULL: a power cut too (one fsync
    # per commit).
    SQLITE_SYNCHRONOUS = "NORMAL"
    # /readyz fails when the oldest pending index job (outbox row) is older than this (s).
    READY_MAX_INDEX_LAG = 300
    # /metrics answers these networks, or anyone sending "Authorization: Bearer METRICS_TOKEN".
    METRICS_ALLOWED_NETWORKS: ClassVar[tuple] = ("127.0.0.0/8", "::1/128")
    METRICS_TOKEN = ""
    # Logs: "json" (one JSON object a line, with the request id) or "text".
    LOG_FORMAT = "json"
    LOG_LEVEL = "INFO"
    # `flask portal backup` writes its archives here when --to is not given (empty:
    # instance/backups).
    BACKUP_DIR = ""


# Environment variables that may override a setting, with how to read their text.
_ENV_SETTINGS = {
    "DATABASE_URL": ("SQLALCHEMY_DATABASE_URI", str),
    "INDEX_DIR": ("INDEX_DIR", str),
    "SEARCH_BACKEND": ("SEARCH_BACKEND", str),
    "UPLOAD_DIR": ("UPLOAD_DIR", str),
    "JOB_DIR": ("JOB_DIR", str),
    "JOBS_URL": ("JOBS_URL", str),
    "WORKER_THREADS": ("WORKER_THREADS", int),
    "SECRET_KEY": ("SECRET_KEY", str),
    "DEFAULT_LOCALE": ("BABEL_DEFAULT_LOCALE", str),
    "RATELIMIT_STORAGE_URI": ("RATELIMIT_STORAGE_URI", str),
    "RATELIMIT_ENABLED": ("RATELIMIT_ENABLED", lambda v: v.lower() in {"1", "true", "yes"}),
    "SESSION_COOKIE_SECURE": (
        "SESSION_COOKIE_SECURE",
        lambda v: v.lower() in {"1", "true", "yes"},
    ),
    "FORCE_HTTPS": ("FORCE_HTTPS", lambda v: v.lower() in {"1", "true", "yes"}),
    "COMMENT_RATE_LIMIT": ("COMMENT_RATE_LIMIT", str),
    "COMMENT_ACCOUNT_RATE_LIMIT": ("COMMENT_ACCOUNT_RATE_LIMIT", str),
    "COMMENT_SESSION_RATE_LIMIT": ("COMMENT_SESSION_RATE_LIMIT", str),
    "LOOKUP_RATE_LIMIT": ("LOOKUP_RATE_LIMIT", str),
    "LOOKUP_SESSION_RATE_LIMIT": ("LOOKUP_SESSION_RATE_LIMIT", str),
    "REGISTER_RATE_LIMIT": ("REGISTER_RATE_LIMIT", str),
    "REGISTER_SESSION_RATE_LIMIT": ("REGISTER_SESSION_RATE_LIMIT", str),
    "API_RATE_LIMIT": ("API_RATE_LIMIT", str),
    "API_TOKEN_RATE_LIMIT": ("API_TOKEN_RATE_LIMIT", str),
    "PROXY_FIX_X_FOR": ("PROXY_FIX_X_FOR", int),
    "PUBLIC_URL": ("PUBLIC_URL", str),
    "LIAISON_GRACE_DAYS": ("LIAISON_GRACE_DAYS", int),
    "SQLITE_BUSY_TIMEOUT_MS": ("SQLITE_BUSY_TIMEOUT_MS", int),
    "SQLITE_SYNCHRONOUS": ("SQLITE_SYNCHRONOUS", str),
    "READY_MAX_INDEX_LAG": ("READY_MAX_INDEX_LAG", int),
    "METRICS_ALLOWED_NETWORKS": (
        "METRICS_ALLOWED_NETWORKS",
        lambda v: tuple(n.strip() for n in v.split(",") if n.strip()),
    ),
    "METRICS_TOKEN": ("METRICS_TOKEN", str),
    "LOG_FORMAT": ("LOG_FORMAT", str),
    "LOG_LEVEL": ("LOG_LEVEL", str),
    "BACKUP_DIR": ("BACKUP_DIR", str),
}


def rate_limit_warnings(storage_uri: str, processes: int, addresses: list) -> list[str]:
    """What would multiply the rate limits: counters kept in memory (``memory://``) while more
    than one process serves, or while other machines can reach this server, which suggests a load
    balancer in front of several hosts. Empty when the limits hold as configured.

    ``addresses`` are the server's listening addresses as gunicorn parses them: (host, port)
    tuples, or a path for a Unix socket.
    """
    if not storage_uri.startswith("memory://"):
        return []
    advice = "set PORTAL_RATELIMIT_STORAGE_URI=redis://... to share them (deploy/README.md)"
    warnings = []
    if processes > 1:
        warnings.append(
            f"Rate limits are multiplied by {processes}: {processes} worker processes each count "
            f'in their own memory, so "5 per minute" lets {5 * processes} through; {advice}, '
            "or run one process (PORTAL_WEB_WORKERS=1) with several threads."
        )
    public = [a for a in addresses if isinstance(a, tuple) and not _is_loopback(a[0])]
    if public:
        warnings.append(
            f"Rate limits are counted in this host's memory while it listens on {public[0][0]}: "
            f"if several hosts serve the site behind a load balancer, each allows the whole "
            f"limit; {advice}."
        )
    return warnings


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name: it resolves to whatever the machine says


def apply_environment(config: dict, environ: os._Environ | dict = os.environ) -> None:
    """Apply PORTAL_* environment variables on top of file-based settings."""
    for suffix, (key, convert) in _ENV_SETTINGS.items():
        value = environ.get(f"PORTAL_{suffix}")
        if value:
            config[key] = convert(value)


def fill_instance_defaults(config: dict, instance_path: str) -> None:
    """Point unset paths into the instance folder and make sure a secret key exists."""
    instance = Path(instance_path)
    if not config.get("SQLALCHEMY_DATABASE_URI"):
        config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{instance / 'portal.db'}"
    if not config.get("INDEX_DIR"):
        config["INDEX_DIR"] = str(instance / "index")
    if not config.get("UPLOAD_DIR"):
        config["UPLOAD_DIR"] = str(instance / "uploads")
    if not config.get("JOB_DIR"):
        config["JOB_DIR"] = str(instance / "jobs")
    if not config.get("SECRET_KEY"):
        config["SECRET_KEY"] = _instance_secret_key(instance)
    # Resolved (and checked: a clear error at start-up, not in the feed) once.
    from portal.urls import public_url

    config["PUBLIC_URL"] = public_url(config)


def _instance_secret_key(instance: Path) -> str:
    """Read the generated key from instance/secret_key, creating it on first run."""
    path = instance / "secret_key"
    if path.exists():
        return path.read_text(encoding="utf-8").strip()
    instance.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    # Created with owner-only permissions: the key signs every session cookie.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(key + "\n")
    return key
