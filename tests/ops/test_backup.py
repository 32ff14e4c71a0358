"""`flask portal backup` and `flask portal restore`: a consistent copy taken while opinions keep
arriving, destroyed and put back; a damaged archive is refused and nothing changes."""

from __future__ import annotations

import hashlib
import io
import json
import sqlite3
import tarfile
import threading
from pathlib import Path

import pytest
from flask_migrate import upgrade

from portal.comments.services import ClientInfo, CommentInput, submit_comment
from portal.database import writing
from portal.extensions import db
from portal.models import Draft
from tests.drafts.test_views import make_draft


@pytest.fixture
def site(app_factory, app, tmp_path):
    """A site of its own: a migrated SQLite file, a draft open for comment, uploaded files."""
    live = app_factory(
        SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'live.db'}",
        UPLOAD_DIR=str(tmp_path / "uploads"),
    )
    with live.app_context():
        upgrade()
        make_draft()
        for n in range(5):
            _opinion(n)
    uploads = tmp_path / "uploads"
    (uploads / "nested").mkdir(parents=True)
    (uploads / "a1b2c3d4").write_bytes(b"%PDF-1.4 minutes of the forum" * 100)
    (uploads / "nested" / "sheet.xlsx").write_bytes(bytes(range(256)) * 40)
    return live


def _opinion(n: int) -> None:
    draft = db.session.scalar(db.select(Draft))
    client = ClientInfo("203.0.113.5", "UA", browser_id=f"backup-browser-{n:05d}")
    submit_comment(draft, CommentInput(body=f"第{n}条备份测试意见。"), client=client)
    db.session.commit()


def _rows(path: Path) -> list[tuple]:
    connection = sqlite3.connect(path)
    try:
        return connection.execute(
            "SELECT id, tracking_code, body FROM comments ORDER BY id"
        ).fetchall()
    finally:
        connection.close()


def _files(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in folder.rglob("*")
        if p.is_file()
    }


def _invoke(site, *args: str):
    """Run `flask portal ...` on the site: its app context, not the test's (the command would
    use the one already pushed)."""
    with site.app_context():
        return site.test_cli_runner().invoke(args=["portal", *args])


def _backup(site, target: Path) -> Path:
    result = _invoke(site, "backup", "--to", str(target))
    assert result.exit_code == 0, result.output
    archives = list(target.glob("portal-backup-*.tar.gz"))
    assert len(archives) == 1
    assert archives[0].name in result.output
    return archives[0]


def _manifest(archive: Path) -> dict:
    with tarfile.open(archive) as tar:
        return json.load(tar.extractfile("manifest.json"))


def test_back_up_while_writing_destroy_restore(site, tmp_path):
    db_path = tmp_path / "live.db"
    uploads = tmp_path / "uploads"
    stop = threading.Event()
    written = []
    failures = []

    def keep_writing():
        with site.app_context():
            n = 100
            while not stop.is_set():
                try:
                    with writing():
                        _opinion(n)
                    written.append(n)
                except Exception as error:  # reported below: the site must keep accepting
                    failures.append(repr(error))
                n += 1
            db.session.remove()

    writer = threading.Thread(target=keep_writing)
    writer.start()
    try:
        while len(written) < 3:  # the backup starts while opinions are arriving
            stop.wait(0.01)
        archive = _backup(site, tmp_path / "backups")
        while len(written) < 6:  # and they keep arriving after it
            stop.wait(0.01)
    finally:
        stop.set()
        writer.join()
    assert failures == []

    manifest = _manifest(archive)
    snapshot_count = manifest["database"]["tables"]["comments"]
    rows_after = _rows(db_path)
    assert 5 + 3 <= snapshot_count < len(rows_after)  # a snapshot from the middle of the run
    files_before = _files(uploads)
    assert len(files_before) == 2
    assert {e["path"] for e in manifest["files"]} == {
        "database.sqlite3",
        "uploads/a1b2c3d4",
        "uploads/nested/sheet.xlsx",
    }
    assert archive.stat().st_mode & 0o077 == 0  # personal data: the owner's only

    # Destroy the database and the uploads.
    with site.app_context():
        db.engine.dispose()
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db_path}{suffix}").unlink(missing_ok=True)
    for path in sorted(uploads.rglob("*"), reverse=True):
        path.rmdir() if path.is_dir() else path.unlink()
    uploads.rmdir()

    result = _invoke(site, "restore", str(archive), "--yes")
    assert result.exit_code == 0, result.output
    assert f"{snapshot_count} opinions, 2 uploaded files" in result.output

    restored = _rows(db_path)
    assert len(restored) == snapshot_count
    assert restored == rows_after[:snapshot_count]  # the same rows, a consistent prefix
    assert _files(uploads) == files_before
    check = sqlite3.connect(db_path)
    try:
        assert check.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert check.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    finally:
        check.close()
    # The site works on the restored database.
    with site.app_context():
        _opinion(999)
        assert db.session.scalar(db.select(db.func.count()).select_from(db.table("comments"))) == (
            snapshot_count + 1
        )


def _state(tmp_path: Path) -> tuple:
    return _rows(tmp_path / "live.db"), _files(tmp_path / "uploads")


def _restore_refused(site, archive: Path, tmp_path: Path, message: str) -> None:
    before = _state(tmp_path)
    result = _invoke(site, "restore", str(archive), "--yes")
    assert result.exit_code != 0
    assert message in result.output
    assert "Nothing was changed." in result.output
    assert _state(tmp_path) == before
    assert not list(tmp_path.glob(".restore-*"))  # no leftovers


def test_a_damaged_archive_is_refused_and_nothing_changes(site, tmp_path):
    archive = _backup(site, tmp_path / "backups")
    with site.app_context():
        _opinion(50)  # the live site has moved on since the backup
        db.engine.dispose()

    data = bytearray(archive.read_bytes())
    middle = len(data) // 2
    data[middle : middle + 64] = bytes(64)
    damaged = tmp_path / "damaged.tar.gz"
    damaged.write_bytes(bytes(data))
    _restore_refused(site, damaged, tmp_path, "damaged")

    truncated = tmp_path / "truncated.tar.gz"
    truncated.write_bytes(archive.read_bytes()[: len(data) // 3])
    _restore_refused(site, truncated, tmp_path, "damaged")


def _repack(archive: Path, target: Path, change) -> Path:
    """The same archive, well-formed, with one member changed by ``change(name, data)``."""
    with tarfile.open(archive) as tar:
        members = [(m.name, tar.extractfile(m).read()) for m in tar.getmembers()]
    with tarfile.open(target, "w:gz") as out:
        for name, data in members:
            data = change(name, data)
            if data is None:
                continue
            info = tarfile.TarInfo(name)
            info.size = len(data)
            out.addfile(info, io.BytesIO(data))
    return target


def test_an_archive_that_does_not_match_its_manifest_is_refused(site, tmp_path):
    archive = _backup(site, tmp_path / "backups")

    def alter_upload(name, data):
        return data[:-1] + b"X" if name == "uploads/a1b2c3d4" else data

    altered = _repack(archive, tmp_path / "altered.tar.gz", alter_upload)
    _restore_refused(site, altered, tmp_path, "uploads/a1b2c3d4 does not match its checksum")

    def drop_upload(name, data):
        return None if name == "uploads/nested/sheet.xlsx" else data

    missing = _repack(archive, tmp_path / "missing.tar.gz", drop_upload)
    _restore_refused(site, missing, tmp_path, "does not match its manifest")

    def no_manifest(name, data):
        return None if name == "manifest.json" else data

    foreign = _repack(archive, tmp_path / "foreign.tar.gz", no_manifest)
    _restore_refused(site, foreign, tmp_path, "not a portal backup")

    _restore_refused(site, tmp_path / "nowhere.tar.gz", tmp_path, "No archive at")


def test_an_archive_with_a_path_outside_is_refused(site, tmp_path):
    archive = _backup(site, tmp_path / "backups")
    with tarfile.open(archive) as tar:
        members = [(m.name, tar.extractfile(m).read()) for m in tar.getmembers()]
    evil = tmp_path / "evil.tar.gz"
    with tarfile.open(evil, "w:gz") as out:
        for name, data in [*members, ("../outside.txt", b"x")]:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            out.addfile(info, io.BytesIO(data))
    _restore_refused(site, evil, tmp_path, "unexpected entry '../outside.txt'")
    assert not (tmp_path / "outside.txt").exists()


def test_restore_asks_for_confirmation(site, tmp_path):
    archive = _backup(site, tmp_path / "backups")
    before = _state(tmp_path)
    result = _invoke(site, "restore", str(archive))
    assert result.exit_code != 0
    assert "--yes" in result.output
    assert _state(tmp_path) == before


def test_backup_goes_to_backup_dir_by_default(site, tmp_path):
    site.config["BACKUP_DIR"] = str(tmp_path / "nightly")
    result = _invoke(site, "backup")
    assert result.exit_code == 0, result.output
    assert len(list((tmp_path / "nightly").glob("portal-backup-*.tar.gz"))) == 1


def test_postgresql_is_sent_to_pg_dump(app_factory, app):
    pg = app_factory(SQLALCHEMY_DATABASE_URI="postgresql+psycopg://portal@127.0.0.1:1/portal")
    result = _invoke(pg, "backup")
    assert result.exit_code != 0
    assert "pg_dump" in result.output
