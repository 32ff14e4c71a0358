"""Grassroots legislative liaison points, their assignments, submissions and attachments."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import Date, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import db
from portal.models.enums import Method, PointLevel, SubmissionStatus, enum_type
from portal.models.types import UTCDateTime, utcnow

if TYPE_CHECKING:
    from portal.models.comments import Comment
    from portal.models.drafts import Draft
    from portal.models.users import User


class LiaisonPoint(db.Model):
    """A grassroots legislative liaison point (基层立法联系点)."""

    __tablename__ = "liaison_points"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200), default="")
    level: Mapped[PointLevel] = mapped_column(enum_type(PointLevel), default=PointLevel.municipal)
    district: Mapped[str] = mapped_column(String(100), default="")
    district_en: Mapped[str] = mapped_column(String(100), default="")
    address: Mapped[str] = mapped_column(String(300), default="")
    contact_name: Mapped[str] = mapped_column(String(100), default="")
    contact_phone: Mapped[str] = mapped_column(String(50), default="")
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    staff: Mapped[list[User]] = relationship(back_populates="liaison_point")
    assignments: Mapped[list[Assignment]] = relationship(back_populates="liaison_point")

    def __repr__(self) -> str:
        return f"<LiaisonPoint {self.code} {self.name}>"


class Assignment(db.Model):
    """A draft sent to a liaison point for consultation (征询任务)."""

    __tablename__ = "assignments"
    __table_args__ = (UniqueConstraint("draft_id", "liaison_point_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    draft_id: Mapped[int] = mapped_column(ForeignKey("drafts.id", ondelete="CASCADE"), index=True)
    liaison_point_id: Mapped[int] = mapped_column(
        ForeignKey("liaison_points.id", ondelete="CASCADE"), index=True
    )
    due_on: Mapped[date] = mapped_column(Date)
    focus_questions: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    draft: Mapped[Draft] = relationship()
    liaison_point: Mapped[LiaisonPoint] = relationship(back_populates="assignments")

    def __repr__(self) -> str:
        return f"<Assignment draft={self.draft_id} point={self.liaison_point_id}>"


class Submission(db.Model):
    """One batch of opinions a liaison point collected for one draft (意见汇总表)."""

    __tablename__ = "submissions"
    # A system retrying a batch sent through the API gets the first one back, per point.
    __table_args__ = (
        UniqueConstraint("liaison_point_id", "idempotency_key", name="uq_submissions_idempotency"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    liaison_point_id: Mapped[int] = mapped_column(
        ForeignKey("liaison_points.id", ondelete="RESTRICT"), index=True
    )
    draft_id: Mapped[int] = mapped_column(ForeignKey("drafts.id", ondelete="CASCADE"), index=True)
    assignment_id: Mapped[int | None] = mapped_column(
        ForeignKey("assignments.id", ondelete="SET NULL")
    )
    method: Mapped[Method] = mapped_column(enum_type(Method), default=Method.forum)
    held_on: Mapped[date | None] = mapped_column(Date)
    place: Mapped[str] = mapped_column(String(300), default="")
    participants: Mapped[int] = mapped_column(default=0)
    participants_residents: Mapped[int] = mapped_column(default=0)
    participants_businesses: Mapped[int] = mapped_column(default=0)
    participants_experts: Mapped[int] = mapped_column(default=0)
    participants_deputies: Mapped[int] = mapped_column(default=0)
    participants_other: Mapped[int] = mapped_column(default=0)
    summary: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[SubmissionStatus] = mapped_column(
        enum_type(SubmissionStatus), default=SubmissionStatus.draft, index=True
    )
    receipt_code: Mapped[str | None] = mapped_column(String(32), unique=True)
    idempotency_key: Mapped[str | None] = mapped_column(String(64))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    liaison_point: Mapped[LiaisonPoint] = relationship()
    draft: Mapped[Draft] = relationship()
    comments: Mapped[list[Comment]] = relationship(back_populates="submission")
    attachments: Mapped[list[Attachment]] = relationship(
        back_populates="submission", cascade="all, delete-orphan"
    )

    def __repr__(self) -> str:
        return f"<Submission {self.id} point={self.liaison_point_id} {self.status}>"


class Attachment(db.Model):
    """A file attached to a submission (minutes, sign-in sheets), stored outside static/."""

    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(
        ForeignKey("submissions.id", ondelete="CASCADE"), index=True
    )
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column()
    sha256: Mapped[str] = mapped_column(String(64))
    storage_key: Mapped[str] = mapped_column(String(100), unique=True)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    submission: Mapped[Submission] = relationship(back_populates="attachments")

    def __repr__(self) -> str:
        return f"<Attachment {self.id} {self.filename}>"
