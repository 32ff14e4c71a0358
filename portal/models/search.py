"""The search document of an opinion in the database, for the PostgreSQL search backend.

One row per opinion the drafting team may see: its analyzer tokens as a tsvector (the same
unigrams, bigrams with positions and article references as the Whoosh index) and the facet
values a search filters and counts on, kept in step with the opinion in the same transaction
(portal/search/pg.py). Its own table, so that reading comments never pays for the tsvector
(about 4 KB an opinion, five times its text). On SQLite the table exists but stays empty:
Whoosh is the engine there.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text
from sqlalchemy.dialects.postgresql import ARRAY, TSVECTOR
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

from portal.extensions import db
from portal.models.types import UTCDateTime


class TSVector(TypeDecorator):
    """PostgreSQL's tsvector; plain text elsewhere (SQLite keeps the schema, not the data)."""

    impl = Text
    cache_ok = True

    def load_dialect_impl(self, dialect):
        if dialect.name == "postgresql":
            return dialect.type_descriptor(TSVECTOR())
        return dialect.type_descriptor(Text())


class IntList(TypeDecorator):
    """A list of integers: integer[] on PostgreSQL (&& and unnest in SQL), JSON elsewhere."""

    impl = JSON
    cache_ok = True

    def load_dialect_impl(self, dialect):
        if dialect.name == "postgresql":
            return dialect.type_descriptor(ARRAY(Integer()))
        return dialect.type_descriptor(JSON())


class CommentSearch(db.Model):
    """An opinion's search document: what the Whoosh backend's document_for() holds, in SQL."""

    __tablename__ = "comment_search"
    __table_args__ = (
        Index("ix_comment_search_tsv", "tsv", postgresql_using="gin"),
        Index("ix_comment_search_draft_id_created_at", "draft_id", "created_at"),
        Index("ix_comment_search_created_at", "created_at"),
    )

    comment_id: Mapped[int] = mapped_column(
        ForeignKey("comments.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    draft_id: Mapped[int] = mapped_column()
    # Article and chapter numbers; 0 means the whole draft (as in the Whoosh index).
    article: Mapped[int] = mapped_column(default=0)
    chapter: Mapped[int] = mapped_column(default=0)
    categories: Mapped[list[int]] = mapped_column(IntList(), default=list)
    stance: Mapped[str] = mapped_column(String(32))
    identity: Mapped[str] = mapped_column(String(32))
    channel: Mapped[str] = mapped_column(String(32))
    decision: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(32))
    liaison_point: Mapped[str] = mapped_column(String(32), default="")
    district: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    tsv: Mapped[str] = mapped_column(TSVector())

    def __repr__(self) -> str:
        return f"<CommentSearch comment={self.comment_id} draft={self.draft_id}>"
