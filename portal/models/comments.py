"""Opinions (意见) from citizens online and from liaison points, in one table."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import db
from portal.models.enums import Channel, CommentStatus, Decision, Identity, Stance, enum_type
from portal.models.types import UTCDateTime, utcnow

if TYPE_CHECKING:
    from portal.models.drafts import Article, Chapter, Draft
    from portal.models.liaison import Submission
    from portal.models.review import Category, DuplicateCluster
    from portal.models.users import User


class Comment(db.Model):
    """One opinion on a whole draft, a chapter or one article."""

    __tablename__ = "comments"
    __table_args__ = (
        Index("ix_comments_draft_id_created_at", "draft_id", "created_at"),
        Index("ix_comments_draft_id_article_id", "draft_id", "article_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    draft_id: Mapped[int] = mapped_column(ForeignKey("drafts.id", ondelete="CASCADE"))
    article_id: Mapped[int | None] = mapped_column(ForeignKey("articles.id", ondelete="SET NULL"))
    chapter_id: Mapped[int | None] = mapped_column(ForeignKey("chapters.id", ondelete="SET NULL"))
    # The article number as the commenter meant it; survives a later replacement of the text.
    article_number: Mapped[int | None] = mapped_column()
    quote: Mapped[str] = mapped_column(Text, default="")
    body: Mapped[str] = mapped_column(Text)
    stance: Mapped[Stance] = mapped_column(enum_type(Stance), default=Stance.other)
    identity: Mapped[Identity | None] = mapped_column(enum_type(Identity))
    channel: Mapped[Channel] = mapped_column(enum_type(Channel), default=Channel.online, index=True)
    submission_id: Mapped[int | None] = mapped_column(
        ForeignKey("submissions.id", ondelete="CASCADE"), index=True
    )
    author_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    # Private: shown to drafters only, masked elsewhere; stored only with consent.
    name: Mapped[str] = mapped_column(String(100), default="")
    contact: Mapped[str] = mapped_column(String(254), default="")
    consent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    district: Mapped[str] = mapped_column(String(100), default="")
    # How many people raised this opinion (合并意见, N 人提出).
    raised_by: Mapped[int] = mapped_column(default=1)
    # Who counts as one participant: the account, a hash of the browser id, or the opinion alone
    # (a liaison point's opinions: the point); never an address or a declared contact.
    participant_key: Mapped[str] = mapped_column(String(64), default="", index=True)
    # A keyed hash of the submitter (account or browser) to recognise them repeating themselves;
    # "" when unknown (anonymous API calls).
    submitter_hash: Mapped[str] = mapped_column(String(64), default="")
    idempotency_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    tracking_code: Mapped[str | None] = mapped_column(String(32), unique=True)
    status: Mapped[CommentStatus] = mapped_column(
        enum_type(CommentStatus), default=CommentStatus.received, index=True
    )
    decision: Mapped[Decision | None] = mapped_column(enum_type(Decision), index=True)
    response: Mapped[str] = mapped_column(Text, default="")
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    response_published_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    merged_into_id: Mapped[int | None] = mapped_column(
        ForeignKey("comments.id", ondelete="SET NULL")
    )
    cluster_id: Mapped[int | None] = mapped_column(
        ForeignKey("duplicate_clusters.id", ondelete="SET NULL"), index=True
    )
    published: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    draft: Mapped[Draft] = relationship()
    article: Mapped[Article | None] = relationship()
    chapter: Mapped[Chapter | None] = relationship()
    submission: Mapped[Submission | None] = relationship(back_populates="comments")
    author: Mapped[User | None] = relationship(foreign_keys=[author_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])
    merged_into: Mapped[Comment | None] = relationship(remote_side=[id])
    cluster: Mapped[DuplicateCluster | None] = relationship(back_populates="comments")
    categories: Mapped[list[Category]] = relationship(
        secondary="comment_categories", back_populates="comments"
    )

    def __repr__(self) -> str:
        return f"<Comment {self.id} draft={self.draft_id} article={self.article_number}>"
