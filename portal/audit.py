"""Writing the audit log: who did what to which object."""

from portal.extensions import db
from portal.models import AuditEntry, User


def record(actor: User | None, action: str, obj, data: dict | None = None) -> AuditEntry:
    """Add an audit entry to the current transaction (committed with the change it records)."""
    entry = AuditEntry(
        actor_id=actor.id if actor is not None else None,
        action=action,
        object_type=type(obj).__name__,
        object_id=getattr(obj, "id", None),
        data=data or {},
    )
    db.session.add(entry)
    return entry
