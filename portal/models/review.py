"""The drafting team's tools: categories, duplicate clusters and reusable responses."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import Column, ForeignKey, String, Table, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import db
from portal.models.types import UTCDateTime, utcnow

if TYPE_CHECKING:
    from portal.models.comments import Comment


comment_categories = Table(
    "comment_categories",
    db.metadata,
    Column("comment_id", ForeignKey("comments.id", ondelete="CASCADE"), primary_key=True),
    Column("category_id", ForeignKey("categories.id", ondelete="CASCADE"), primary_key=True),
    Column("created_at", UTCDateTime(), nullable=False, default=utcnow),
)


class Category(db.Model):
    """A topic label for opinions (意见分类), per draft; draft_id None marks a shared default."""

    __tablename__ = "categories"
    __table_args__ = (UniqueConstraint("draft_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    draft_id: Mapped[int | None] = mapped_column(
        ForeignKey("drafts.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(100), default="")
    position: Mapped[int] = mapped_column(default=0)
    # Comma-separated keywords that suggest this category.
    keywords: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    comments: Mapped[list[Comment]] = relationship(
        secondary=comment_categories, back_populates="categories"
    )

    def __repr__(self) -> str:
        return f"<Category {self.id} {self.name}>"


class DuplicateCluster(db.Model):
    """Near-identical opinions (雷同意见), counted and decided together."""

    __tablename__ = "duplicate_clusters"

    id: Mapped[int] = mapped_column(primary_key=True)
    draft_id: Mapped[int] = mapped_column(ForeignKey("drafts.id", ondelete="CASCADE"), index=True)
    signature: Mapped[str] = mapped_column(String(64), default="")
    size: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    comments: Mapped[list[Comment]] = relationship(back_populates="cluster")

    def __repr__(self) -> str:
        return f"<DuplicateCluster {self.id} size={self.size}>"


class ResponseTemplate(db.Model):
    """A reusable answer for bulk decisions."""

    __tablename__ = "response_templates"

    id: Mapped[int] = mapped_column(primary_key=True)
    draft_id: Mapped[int | None] = mapped_column(
        ForeignKey("drafts.id", ondelete="CASCADE"), index=True
    )
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    def __repr__(self) -> str:
        return f"<ResponseTemplate {self.id} {self.title}>"
