"""Files under UPLOAD_DIR that follow the database transaction: no orphan, no dangling row.

A file written for a row is removed again if the transaction that would have recorded it does
not commit (a validation error, a database error such as PostgreSQL refusing a value, a crash);
a file whose row is deleted is removed only once that deletion has committed.
"""

from __future__ import annotations

import logging
from pathlib import Path

from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

log = logging.getLogger(__name__)

_WRITTEN = "portal_files_written"  # removed unless the transaction commits
_DOOMED = "portal_files_doomed"  # removed once the transaction commits


def write(session: Session, path: Path, data: bytes) -> None:
    """Write `data` to `path`; it stays only if the session's transaction commits."""
    path.parent.mkdir(parents=True, exist_ok=True)
    session.info.setdefault(_WRITTEN, []).append(path)
    try:
        path.write_bytes(data)
    except BaseException:
        path.unlink(missing_ok=True)
        raise


def remove_after_commit(session: Session, path: Path) -> None:
    """Delete `path` once the deletion of its row is committed (kept if that fails)."""
    session.info.setdefault(_DOOMED, []).append(path)


def _unlink(paths: list[Path]) -> None:
    for path in paths:
        try:
            path.unlink(missing_ok=True)
        except OSError:  # pragma: no cover - the file system said no; the log says which
            log.warning("Could not remove %s", path, exc_info=True)


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    session.info.pop(_WRITTEN, None)
    _unlink(session.info.pop(_DOOMED, []))


@event.listens_for(Session, "after_transaction_end")
def _after_transaction_end(session: Session, transaction: SessionTransaction) -> None:
    # Only the outermost transaction decides; a commit has already emptied the list.
    if transaction.parent is not None:
        return
    session.info.pop(_DOOMED, None)
    _unlink(session.info.pop(_WRITTEN, []))
