"""Backups of the embedded default: the SQLite database and the uploaded files in one archive.

``create_backup`` copies the database with SQLite's online backup API in one step: in WAL mode
that is one read transaction, a consistent snapshot taken while the site keeps writing (readers
and the writer do not block each other). The uploaded files are copied next: a file is written
before its row commits and deleted only after its row's deletion commits, so every file the
snapshot's rows refer to is there unless an attachment was deleted in those seconds; a file
whose row came later is harmless. A manifest lists every file with its size and SHA-256.

``restore_backup`` checks the whole archive first (manifest, members, checksums, SQLite's
integrity check) and changes nothing when anything is wrong. It then writes the database back
through the same backup API, into the live file under SQLite's locks (never by replacing the
file under open connections and their -wal/-shm files), and swaps the uploads folder.

PostgreSQL is backed up with pg_dump (README, "Operations"): ``create_backup`` refuses it.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import sqlite3
import tarfile
import tempfile
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath

from sqlalchemy.engine import Engine

FORMAT = 1
MANIFEST = "manifest.json"
DATABASE = "database.sqlite3"
UPLOADS = "uploads"
PG_HINT = (
    "The database is PostgreSQL: back it up with pg_dump and copy UPLOAD_DIR "
    "(README, section Operations, gives the commands)."
)


class BackupError(Exception):
    """A backup or restore that cannot be done; the message says why, nothing was changed."""


@dataclass
class RestoreReport:
    archive: Path
    created_at: str
    tables: dict[str, int]
    files: int
    alembic_version: str | None


def sqlite_path(engine: Engine) -> Path:
    """The database file behind a SQLite engine; BackupError for anything else."""
    if engine.dialect.name != "sqlite":
        raise BackupError(PG_HINT if engine.dialect.name == "postgresql" else "Not SQLite.")
    database = engine.url.database
    if not database or database == ":memory:" or database.startswith("file::memory:"):
        raise BackupError("An in-memory SQLite database cannot be backed up.")
    return Path(database)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _connect(path: Path, timeout_ms: int) -> sqlite3.Connection:
    connection = sqlite3.connect(path, timeout=timeout_ms / 1000, isolation_level=None)
    connection.execute(f"PRAGMA busy_timeout={int(timeout_ms)}")
    return connection


def _table_counts(connection: sqlite3.Connection) -> dict[str, int]:
    names = [
        row[0]
        for row in connection.execute(
            "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%' "
            "ORDER BY name"
        )
    ]
    # The names come from the copy's own catalogue, quoted: no outside input.
    query = 'SELECT count(*) FROM "{}"'
    return {name: connection.execute(query.format(name)).fetchone()[0] for name in names}


def _alembic_version(connection: sqlite3.Connection) -> str | None:
    try:
        row = connection.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.Error:
        return None
    return row[0] if row else None


def _integrity_ok(connection: sqlite3.Connection) -> str:
    return connection.execute("PRAGMA integrity_check").fetchone()[0]


def snapshot_database(source: Path, target: Path, timeout_ms: int = 10_000) -> None:
    """A consistent copy of a live SQLite database as one self-contained file."""
    src = _connect(source, timeout_ms)
    dst = sqlite3.connect(target, isolation_level=None)
    try:
        # pages=-1: every page in one step, i.e. one read transaction: a consistent snapshot.
        # Stepping in chunks would restart on every write from another connection.
        src.backup(dst, pages=-1)
        # The copy inherits WAL mode from the header: back to one file with no -wal beside it.
        dst.execute("PRAGMA journal_mode=DELETE")
        result = _integrity_ok(dst)
        if result != "ok":
            raise BackupError(f"The copy of the database fails its integrity check: {result}")
    finally:
        dst.close()
        src.close()


def create_backup(
    engine: Engine, upload_dir: Path, target_dir: Path, *, timeout_ms: int = 10_000
) -> Path:
    """Write portal-backup-<UTC time>.tar.gz into ``target_dir`` and return its path."""
    source = sqlite_path(engine)
    if not source.exists():
        raise BackupError(f"No database at {source}.")
    target_dir.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    archive = target_dir / f"portal-backup-{stamp}.tar.gz"
    with tempfile.TemporaryDirectory(dir=target_dir, prefix=".backup-") as work:
        copy = Path(work) / DATABASE
        snapshot_database(source, copy, timeout_ms)
        check = sqlite3.connect(copy)
        try:
            tables = _table_counts(check)
            version = _alembic_version(check)
        finally:
            check.close()
        files = [(DATABASE, copy)]
        if upload_dir.is_dir():
            for path in sorted(upload_dir.rglob("*")):
                if path.is_file() and not path.is_symlink():
                    relative = path.relative_to(upload_dir).as_posix()
                    files.append((f"{UPLOADS}/{relative}", path))
        entries = []
        partial = Path(work) / "archive.tar.gz"
        with tarfile.open(partial, "w:gz") as tar:
            for name, path in files:
                # Hashed as archived: the file may not change between the two reads (uploads
                # are written once under a new random name).
                data = path.read_bytes()
                entries.append(
                    {"path": name, "size": len(data), "sha256": hashlib.sha256(data).hexdigest()}
                )
                _add_bytes(tar, name, data)
            manifest = {
                "format": FORMAT,
                "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
                "database": {"dialect": "sqlite", "alembic_version": version, "tables": tables},
                "files": entries,
            }
            _add_bytes(tar, MANIFEST, json.dumps(manifest, ensure_ascii=False, indent=1).encode())
        # The archive holds personal data: readable by its owner only.
        os.chmod(partial, 0o600)
        os.replace(partial, archive)
    return archive


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = 0o600
    info.mtime = int(datetime.now(UTC).timestamp())
    tar.addfile(info, io.BytesIO(data))


def _safe_member_name(name: str) -> bool:
    path = PurePosixPath(name)
    return bool(name) and not path.is_absolute() and ".." not in path.parts and "\\" not in name


def verify_archive(archive: Path, work: Path) -> dict:
    """Unpack ``archive`` into ``work`` and check it whole; BackupError saying what is wrong."""
    if not archive.is_file():
        raise BackupError(f"No archive at {archive}.")
    try:
        with tarfile.open(archive, "r:gz") as tar:
            members = tar.getmembers()
            names = [m.name for m in members]
            if MANIFEST not in names:
                raise BackupError(f"{archive.name} has no {MANIFEST}: not a portal backup.")
            for member in members:
                if not member.isfile() or not _safe_member_name(member.name):
                    raise BackupError(f"{archive.name} holds an unexpected entry {member.name!r}.")
            if len(set(names)) != len(names):
                raise BackupError(f"{archive.name} holds the same entry twice.")
            tar.extractall(work, filter="data")
    except (tarfile.TarError, EOFError, OSError, zlib.error) as error:
        raise BackupError(
            f"{archive.name} is damaged or not a backup archive ({error})."
        ) from error
    try:
        manifest = json.loads((work / MANIFEST).read_text(encoding="utf-8"))
        listed = {entry["path"]: entry for entry in manifest["files"]}
        if manifest.get("format") != FORMAT:
            raise BackupError(f"{archive.name}: unknown backup format {manifest.get('format')!r}.")
    except (ValueError, KeyError, TypeError) as error:
        raise BackupError(f"{archive.name}: the manifest cannot be read ({error}).") from error
    present = set(names) - {MANIFEST}
    if present != set(listed):
        missing = sorted(set(listed) - present)[:5]
        extra = sorted(present - set(listed))[:5]
        raise BackupError(
            f"{archive.name} does not match its manifest (missing: {missing}, extra: {extra})."
        )
    if DATABASE not in listed:
        raise BackupError(f"{archive.name} holds no database.")
    for name, entry in listed.items():
        path = work / name
        if path.stat().st_size != entry["size"] or _sha256(path) != entry["sha256"]:
            raise BackupError(f"{archive.name}: {name} does not match its checksum (damaged).")
    connection = sqlite3.connect(work / DATABASE)
    try:
        result = _integrity_ok(connection)
    except sqlite3.DatabaseError as error:
        raise BackupError(f"{archive.name}: the database cannot be opened ({error}).") from error
    finally:
        connection.close()
    if result != "ok":
        raise BackupError(f"{archive.name}: the database fails its integrity check ({result}).")
    return manifest


def restore_backup(
    engine: Engine, upload_dir: Path, archive: Path, *, timeout_ms: int = 10_000
) -> RestoreReport:
    """Put the archive's database and uploads back; BackupError (nothing changed) if damaged."""
    target = sqlite_path(engine)
    target.parent.mkdir(parents=True, exist_ok=True)
    upload_dir.parent.mkdir(parents=True, exist_ok=True)
    # Unpacked beside the uploads folder: the swap below is then a rename on one file system.
    with tempfile.TemporaryDirectory(dir=upload_dir.parent, prefix=".restore-") as work_dir:
        work = Path(work_dir)
        manifest = verify_archive(archive, work)

        # The database first: written through the backup API into the live file, in one step
        # under its write lock; other connections see either the old or the restored content.
        engine.dispose()
        if not target.exists():
            # A -wal or -shm left from a deleted database would be replayed into the new file.
            for suffix in ("-wal", "-shm", "-journal"):
                Path(f"{target}{suffix}").unlink(missing_ok=True)
        src = sqlite3.connect(work / DATABASE)
        dst = _connect(target, timeout_ms)
        try:
            src.backup(dst, pages=-1)
            # The live file keeps WAL mode for the app's several processes.
            dst.execute("PRAGMA journal_mode=WAL")
        except sqlite3.Error as error:
            raise BackupError(f"The database could not be written back: {error}") from error
        finally:
            dst.close()
            src.close()
        engine.dispose()

        # Then the uploads: the old folder set aside, the archive's moved in, the old removed.
        restored = work / UPLOADS
        restored.mkdir(exist_ok=True)
        aside = work / "uploads-before-restore"
        if upload_dir.exists():
            os.replace(upload_dir, aside)
        os.replace(restored, upload_dir)
        shutil.rmtree(aside, ignore_errors=True)

    return RestoreReport(
        archive=archive,
        created_at=manifest["created_at"],
        tables=manifest["database"]["tables"],
        files=len(manifest["files"]) - 1,
        alembic_version=manifest["database"].get("alembic_version"),
    )
