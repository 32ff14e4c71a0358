"""The closed vocabularies of the domain, one StrEnum each (see docs/glossary.md)."""

from enum import StrEnum

from sqlalchemy import Enum as SAEnum


class Role(StrEnum):
    citizen = "citizen"
    liaison = "liaison"
    drafter = "drafter"
    admin = "admin"


class PointLevel(StrEnum):
    provincial = "provincial"
    municipal = "municipal"
    district = "district"


class DraftStatus(StrEnum):
    draft = "draft"
    consulting = "consulting"
    closed = "closed"
    archived = "archived"


class Stance(StrEnum):
    support = "support"
    oppose = "oppose"
    amend = "amend"
    add = "add"
    delete = "delete"
    other = "other"


class Identity(StrEnum):
    resident = "resident"
    business = "business"
    organization = "organization"
    expert = "expert"
    deputy = "deputy"
    official = "official"
    other = "other"


class Channel(StrEnum):
    online = "online"
    liaison = "liaison"
    api = "api"


class Method(StrEnum):
    forum = "forum"
    visit = "visit"
    survey = "survey"
    expert_meeting = "expert_meeting"
    hearing = "hearing"
    online = "online"
    other = "other"


class CommentStatus(StrEnum):
    received = "received"
    under_review = "under_review"
    decided = "decided"


class Decision(StrEnum):
    adopted = "adopted"
    partly_adopted = "partly_adopted"
    not_adopted = "not_adopted"
    merged = "merged"


class SubmissionStatus(StrEnum):
    draft = "draft"
    submitted = "submitted"


class IndexAction(StrEnum):
    upsert = "upsert"
    delete = "delete"


def enum_type(enum_cls: type[StrEnum]) -> SAEnum:
    """A portable column type: the enum's values in a VARCHAR, no database-specific ENUM type."""
    return SAEnum(
        enum_cls,
        native_enum=False,
        create_constraint=False,
        length=32,
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )


class JobState(StrEnum):
    """Where a job stands: queued until a worker claims it, then running, then done or failed."""

    queued = "queued"
    running = "running"
    done = "done"
    failed = "failed"
