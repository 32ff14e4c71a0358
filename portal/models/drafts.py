"""Draft regulations and their structure: chapters (章), sections (节) and articles (条)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import db
from portal.models.enums import DraftStatus, enum_type
from portal.models.types import UTCDateTime, utcnow
from portal.numerals import int_to_chinese


class Draft(db.Model):
    """A draft regulation, open (or not yet, or no longer) for comment."""

    __tablename__ = "drafts"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    title_en: Mapped[str] = mapped_column(String(300), default="")
    summary: Mapped[str] = mapped_column(Text, default="")
    summary_en: Mapped[str] = mapped_column(Text, default="")
    drafting_body: Mapped[str] = mapped_column(String(200), default="")
    drafting_body_en: Mapped[str] = mapped_column(String(300), default="")
    preamble: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[DraftStatus] = mapped_column(
        enum_type(DraftStatus), default=DraftStatus.draft, index=True
    )
    opens_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closes_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    version: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    results_published_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    chapters: Mapped[list[Chapter]] = relationship(
        back_populates="draft", cascade="all, delete-orphan", order_by="Chapter.position"
    )
    articles: Mapped[list[Article]] = relationship(
        back_populates="draft", cascade="all, delete-orphan", order_by="Article.position"
    )

    def __repr__(self) -> str:
        return f"<Draft {self.slug} {self.status}>"

    @property
    def is_public(self) -> bool:
        return self.status != DraftStatus.draft

    def phase(self, now: datetime | None = None) -> str:
        """Where the consultation stands: 'unpublished', 'upcoming', 'open' or 'ended'."""
        now = now or utcnow()
        if self.status == DraftStatus.draft:
            return "unpublished"
        if self.status in (DraftStatus.closed, DraftStatus.archived):
            return "ended"
        if self.opens_at and now < self.opens_at:
            return "upcoming"
        if self.closes_at and now >= self.closes_at:
            return "ended"
        if self.opens_at is None or self.closes_at is None:
            return "upcoming"
        return "open"

    def is_open(self, now: datetime | None = None) -> bool:
        """True only inside the consultation window of a draft under consultation."""
        return self.phase(now) == "open"


class Chapter(db.Model):
    """A chapter (章) of a draft."""

    __tablename__ = "chapters"
    __table_args__ = (UniqueConstraint("draft_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    draft_id: Mapped[int] = mapped_column(ForeignKey("drafts.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column()
    heading: Mapped[str] = mapped_column(String(200), default="")
    position: Mapped[int] = mapped_column()

    draft: Mapped[Draft] = relationship(back_populates="chapters")
    sections: Mapped[list[Section]] = relationship(
        back_populates="chapter", cascade="all, delete-orphan", order_by="Section.position"
    )
    articles: Mapped[list[Article]] = relationship(
        back_populates="chapter", order_by="Article.position"
    )

    def __repr__(self) -> str:
        return f"<Chapter {self.draft_id}/{self.number} {self.heading}>"

    @property
    def label(self) -> str:
        return f"第{int_to_chinese(self.number)}章"


class Section(db.Model):
    """A section (节) inside a chapter."""

    __tablename__ = "sections"

    id: Mapped[int] = mapped_column(primary_key=True)
    chapter_id: Mapped[int] = mapped_column(
        ForeignKey("chapters.id", ondelete="CASCADE"), index=True
    )
    number: Mapped[int] = mapped_column()
    heading: Mapped[str] = mapped_column(String(200), default="")
    position: Mapped[int] = mapped_column()

    chapter: Mapped[Chapter] = relationship(back_populates="sections")

    def __repr__(self) -> str:
        return f"<Section {self.chapter_id}/{self.number} {self.heading}>"

    @property
    def label(self) -> str:
        return f"第{int_to_chinese(self.number)}节"


class Article(db.Model):
    """An article (条); its text holds the paragraphs (款), one per line."""

    __tablename__ = "articles"
    __table_args__ = (UniqueConstraint("draft_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    draft_id: Mapped[int] = mapped_column(ForeignKey("drafts.id", ondelete="CASCADE"), index=True)
    chapter_id: Mapped[int | None] = mapped_column(
        ForeignKey("chapters.id", ondelete="SET NULL"), index=True
    )
    section_id: Mapped[int | None] = mapped_column(ForeignKey("sections.id", ondelete="SET NULL"))
    number: Mapped[int] = mapped_column()
    heading: Mapped[str] = mapped_column(String(200), default="")
    text: Mapped[str] = mapped_column(Text, default="")
    position: Mapped[int] = mapped_column()

    draft: Mapped[Draft] = relationship(back_populates="articles")
    chapter: Mapped[Chapter | None] = relationship(back_populates="articles")
    section: Mapped[Section | None] = relationship()

    def __repr__(self) -> str:
        return f"<Article {self.draft_id}/{self.number}>"

    @property
    def label(self) -> str:
        return f"第{int_to_chinese(self.number)}条"

    @property
    def paragraphs(self) -> list[str]:
        return [p for p in self.text.split("\n") if p]
