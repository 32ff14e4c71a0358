"""deploy/: the example files of the production install agree with the code they configure, and
nginx and systemd accept them."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from portal import PROJECT_ROOT
from portal.config import _ENV_SETTINGS, DefaultConfig, apply_environment, rate_limit_warnings

DEPLOY = PROJECT_ROOT / "deploy"
INSTALL = "/srv/portal/app"  # where deploy/README.md puts the release


def read_env_file() -> dict[str, str]:
    values = {}
    for line in (DEPLOY / "portal.env.example").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, value = line.partition("=")
            values[name] = value
    return values


def gunicorn_settings() -> set[str]:
    return set(re.findall(r"PORTAL_[A-Z_]+", (PROJECT_ROOT / "gunicorn.conf.py").read_text()))


def unit(name: str) -> dict[str, list[str]]:
    keys: dict[str, list[str]] = {}
    for line in (DEPLOY / "systemd" / name).read_text(encoding="utf-8").splitlines():
        if "=" in line and not line.startswith(("#", "[")):
            key, _, value = line.partition("=")
            keys.setdefault(key, []).append(value)
    return keys


def require(tool: str) -> str:
    """The tool's path; outside CI a missing tool skips with a message, in CI it fails."""
    path = shutil.which(tool) or shutil.which(tool, path="/usr/sbin:/usr/bin")
    if path is None:
        message = f"{tool} is missing (apt-get install {tool}); .ci/run installs it"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return path


def test_the_environment_file_names_only_settings_the_app_or_gunicorn_reads():
    known = {f"PORTAL_{suffix}" for suffix in _ENV_SETTINGS} | gunicorn_settings()
    names = set(read_env_file())
    assert names - known == set()
    # Each is set once: a second line would silently win.
    lines = [
        line.partition("=")[0]
        for line in (DEPLOY / "portal.env.example").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert len(lines) == len(set(lines))


def test_the_environment_file_is_a_production_configuration():
    env = read_env_file()
    config = {key: getattr(DefaultConfig, key) for key in dir(DefaultConfig) if key.isupper()}
    apply_environment(config, env)
    assert config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql+psycopg://")
    assert config["RATELIMIT_STORAGE_URI"].startswith("redis://")
    assert config["JOBS_URL"].startswith("redis://")
    assert config["RATELIMIT_STORAGE_URI"] != config["JOBS_URL"]  # separate Redis databases
    assert config["PUBLIC_URL"].startswith("https://")
    assert config["PROXY_FIX_X_FOR"] == 1
    assert config["SESSION_COOKIE_SECURE"] is True and config["FORCE_HTTPS"] is True
    assert config["SECRET_KEY"] == "CHANGE-ME"  # a placeholder the README says to replace
    # Several processes on an address the load balancer reaches, and yet no multiplied limit.
    workers = int(env["PORTAL_WEB_WORKERS"])
    host, _, port = env["PORTAL_BIND"].rpartition(":")
    assert workers > 1 and host not in {"127.0.0.1", "localhost"}
    assert rate_limit_warnings(config["RATELIMIT_STORAGE_URI"], workers, [(host, port)]) == []
    # Files go to the shared storage that the units may write.
    for setting in ("UPLOAD_DIR", "JOB_DIR"):
        assert config[setting].startswith("/srv/portal/shared/")


def test_the_units_start_what_the_repository_has():
    from portal.cli import portal_cli

    web, worker = unit("portal-web.service"), unit("portal-worker.service")
    for keys in (web, worker):
        assert keys["EnvironmentFile"] == ["/etc/portal/portal.env"]
        assert keys["WorkingDirectory"] == [INSTALL]
        assert keys["User"] == ["portal"]
        assert keys["ReadWritePaths"] == ["/srv/portal/shared"]
    (web_command,) = web["ExecStart"]
    assert web_command.split() == [
        f"{INSTALL}/.venv/bin/gunicorn",
        "--config",
        f"{INSTALL}/gunicorn.conf.py",
        "wsgi:app",
    ]
    assert (PROJECT_ROOT / "gunicorn.conf.py").is_file()
    assert re.search(r"^app = ", (PROJECT_ROOT / "wsgi.py").read_text(), re.MULTILINE)
    (worker_command,) = worker["ExecStart"]
    assert worker_command.split() == [
        f"{INSTALL}/.venv/bin/flask",
        "--app",
        "portal",
        "portal",
        "worker",
    ]
    assert "worker" in portal_cli.commands
    # Huey's consumer finishes running jobs on SIGINT; SIGTERM would interrupt them.
    assert worker["KillSignal"] == ["SIGINT"]
    # gunicorn gets the time its graceful_timeout promises before systemd kills it.
    graceful = int(re.search(r"^graceful_timeout = (\d+)", _gunicorn_text(), re.M).group(1))
    assert int(web["TimeoutStopSec"][0]) > graceful


def _gunicorn_text() -> str:
    return (PROJECT_ROOT / "gunicorn.conf.py").read_text()


def test_systemd_accepts_the_units(tmp_path):
    analyze = require("systemd-analyze")
    for name in ("portal-web.service", "portal-worker.service"):
        text = (DEPLOY / "systemd" / name).read_text().replace(INSTALL, str(PROJECT_ROOT))
        (tmp_path / name).write_text(text)
    result = subprocess.run(
        [analyze, "verify", *(str(p) for p in sorted(tmp_path.glob("*.service")))],
        capture_output=True,
        text=True,
        timeout=60,
    )
    # verify exits 0 on unknown keys and values: it only says so.
    assert (result.returncode, result.stdout + result.stderr) == (0, "")


def nginx_site() -> str:
    return (DEPLOY / "nginx" / "portal.conf").read_text(encoding="utf-8")


def test_nginx_lets_through_what_the_app_accepts_and_waits_for_it():
    site = nginx_site()
    size = re.search(r"client_max_body_size (\d+)m;", site)
    assert int(size.group(1)) * 1024 * 1024 == DefaultConfig.MAX_CONTENT_LENGTH
    timeout = int(re.search(r"^timeout = (\d+)", _gunicorn_text(), re.M).group(1))
    read = int(re.search(r"proxy_read_timeout (\d+)s;", site).group(1))
    assert read > timeout
    # One trusted hop (PORTAL_PROXY_FIX_X_FOR=1): nginx sets the address, not the client.
    assert "proxy_set_header X-Forwarded-For $remote_addr;" in site
    assert read_env_file()["PORTAL_PROXY_FIX_X_FOR"] == "1"
    # The static files nginx serves are the app's own.
    alias = re.search(r"alias (\S+);", site).group(1)
    assert alias.startswith(INSTALL)
    static = Path(alias.replace(INSTALL, str(PROJECT_ROOT)))
    assert (static / "css" / "portal.css").is_file()
    # Several app hosts, each on the port the environment file gives gunicorn.
    port = read_env_file()["PORTAL_BIND"].rpartition(":")[2]
    servers = re.findall(r"^\s*server (\S+):(\d+)", site, re.M)
    assert len(servers) >= 2 and {p for _, p in servers} == {port}


def test_nginx_accepts_the_site(tmp_path):
    nginx = require("nginx")
    subprocess.run(
        [
            *("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"),
            *("-subj", "/CN=yijian.example.gov.cn"),
            *("-keyout", str(tmp_path / "key.pem"), "-out", str(tmp_path / "cert.pem")),
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    site = re.sub(
        r"ssl_certificate (\S+);", f"ssl_certificate {tmp_path / 'cert.pem'};", nginx_site()
    )
    site = re.sub(
        r"ssl_certificate_key (\S+);", f"ssl_certificate_key {tmp_path / 'key.pem'};", site
    )
    (tmp_path / "portal.conf").write_text(site)
    (tmp_path / "nginx.conf").write_text(
        f"pid {tmp_path / 'nginx.pid'};\n"
        f"error_log {tmp_path / 'error.log'};\n"
        "events {}\n"
        f"http {{\n    access_log off;\n    include {tmp_path / 'portal.conf'};\n}}\n"
    )
    result = subprocess.run(
        [nginx, "-t", "-q", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
