"""Tallies: the public figures per draft and article, kept as opinions arrive (portal/tallies.py).

A tally holds a group's counted opinions, its distinct online participants and the people its
liaison opinions were raised by; people = participants + raised_by, exactly as
portal.figures.compute() counts them. The participant rows say which participant keys a group
already has (with how many of their opinions), so a new opinion adds a participant only the
first time and a removed one takes it away only with its last opinion. Everything here is
derived from the comments and rebuilt by `flask portal rebuild-tallies`.
"""

from __future__ import annotations

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from portal.extensions import db


class DraftTally(db.Model):
    """A draft's counted opinions and people (every article, chapter and the whole draft)."""

    __tablename__ = "draft_tallies"

    draft_id: Mapped[int] = mapped_column(
        ForeignKey("drafts.id", ondelete="CASCADE"), primary_key=True
    )
    opinions: Mapped[int] = mapped_column(default=0)
    participants: Mapped[int] = mapped_column(default=0)  # distinct online participant keys
    raised_by: Mapped[int] = mapped_column(default=0)  # liaison opinions' people, summed

    @property
    def people(self) -> int:
        return self.participants + self.raised_by

    def __repr__(self) -> str:
        return f"<DraftTally draft={self.draft_id} opinions={self.opinions}>"


class ArticleTally(db.Model):
    """An article's counted opinions and people; gone with the article."""

    __tablename__ = "article_tallies"

    article_id: Mapped[int] = mapped_column(
        ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True
    )
    draft_id: Mapped[int] = mapped_column(ForeignKey("drafts.id", ondelete="CASCADE"), index=True)
    opinions: Mapped[int] = mapped_column(default=0)
    participants: Mapped[int] = mapped_column(default=0)
    raised_by: Mapped[int] = mapped_column(default=0)

    @property
    def people(self) -> int:
        return self.participants + self.raised_by

    def __repr__(self) -> str:
        return f"<ArticleTally article={self.article_id} opinions={self.opinions}>"


class DraftParticipant(db.Model):
    """One online participant of a draft, with how many counted opinions they gave on it."""

    __tablename__ = "draft_participants"

    draft_id: Mapped[int] = mapped_column(
        ForeignKey("drafts.id", ondelete="CASCADE"), primary_key=True
    )
    participant_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    # 0 once their last opinion stopped counting: the row stays (no delete racing an insert).
    opinions: Mapped[int] = mapped_column(default=0)

    def __repr__(self) -> str:
        return f"<DraftParticipant draft={self.draft_id} opinions={self.opinions}>"


class ArticleParticipant(db.Model):
    """One online participant of an article, with how many counted opinions they gave on it."""

    __tablename__ = "article_participants"

    article_id: Mapped[int] = mapped_column(
        ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True
    )
    participant_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    opinions: Mapped[int] = mapped_column(default=0)

    def __repr__(self) -> str:
        return f"<ArticleParticipant article={self.article_id} opinions={self.opinions}>"
