"""The data model, one module per aggregate; import models from here."""

from portal.models.audit import AuditEntry, IndexJob
from portal.models.comments import Comment
from portal.models.drafts import Article, Chapter, Draft, Section
from portal.models.enums import (
    Channel,
    CommentStatus,
    Decision,
    DraftStatus,
    Identity,
    IndexAction,
    JobState,
    Method,
    PointLevel,
    Role,
    Stance,
    SubmissionStatus,
)
from portal.models.jobs import Job
from portal.models.liaison import Assignment, Attachment, LiaisonPoint, Submission
from portal.models.review import Category, DuplicateCluster, ResponseTemplate, comment_categories
from portal.models.search import CommentSearch
from portal.models.tallies import ArticleParticipant, ArticleTally, DraftParticipant, DraftTally
from portal.models.types import utcnow
from portal.models.users import ApiToken, User

__all__ = [
    "ApiToken",
    "Article",
    "ArticleParticipant",
    "ArticleTally",
    "Assignment",
    "Attachment",
    "AuditEntry",
    "Category",
    "Channel",
    "Chapter",
    "Comment",
    "CommentSearch",
    "CommentStatus",
    "Decision",
    "Draft",
    "DraftParticipant",
    "DraftStatus",
    "DraftTally",
    "DuplicateCluster",
    "Identity",
    "IndexAction",
    "IndexJob",
    "Job",
    "JobState",
    "LiaisonPoint",
    "Method",
    "PointLevel",
    "ResponseTemplate",
    "Role",
    "Section",
    "Stance",
    "Submission",
    "SubmissionStatus",
    "User",
    "comment_categories",
    "utcnow",
]
