"""The API's shapes (marshmallow), from which the OpenAPI document is generated.

Outside systems rely on these names: extend them, never rename them.
"""

from __future__ import annotations

import marshmallow as ma
from marshmallow import fields, validate

from portal.comments.services import MAX_BODY, MAX_QUOTE
from portal.liaison.services import MAX_OPINION, MAX_RAISED_BY
from portal.models import Channel, CommentStatus, Decision, DraftStatus, Identity, Method, Stance

MAX_PER_PAGE = 100


def _values(enum_cls) -> list[str]:
    return [member.value for member in enum_cls]


def _enum(enum_cls, **kwargs):
    return fields.String(validate=validate.OneOf(_values(enum_cls)), **kwargs)


class ProblemSchema(ma.Schema):
    """application/problem+json (RFC 9457), with the portal's code and per-field errors."""

    type = fields.String(required=True, metadata={"description": "A URI naming the problem."})
    title = fields.String(required=True, metadata={"description": "Short, in the language asked."})
    status = fields.Integer(required=True)
    detail = fields.String(metadata={"description": "What went wrong, in the language asked."})
    instance = fields.String()
    code = fields.String(metadata={"description": "A stable machine-readable reason."})
    errors = fields.List(
        fields.Dict(),
        metadata={
            "description": "Per field: {field, detail}, with index and code for the opinions "
            "of a submission."
        },
    )


class PageArgs(ma.Schema):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100_000))
    per_page = fields.Integer(load_default=20, validate=validate.Range(min=1, max=MAX_PER_PAGE))


class PageSchema(ma.Schema):
    page = fields.Integer(required=True)
    per_page = fields.Integer(required=True)
    total = fields.Integer(required=True)
    pages = fields.Integer(required=True)


# --- drafts ---------------------------------------------------------------------------------


class DraftListArgs(PageArgs):
    status = _enum(
        DraftStatus,
        metadata={"description": "Only drafts with this status (unpublished ones never show)."},
    )


class DraftSchema(ma.Schema):
    slug = fields.String(required=True)
    title = fields.String(required=True)
    title_en = fields.String()
    status = _enum(DraftStatus, required=True)
    phase = fields.String(
        validate=validate.OneOf(["upcoming", "open", "ended"]),
        metadata={"description": "Whether comments are accepted now."},
    )
    opens_at = fields.DateTime(allow_none=True)
    closes_at = fields.DateTime(allow_none=True)
    comment_count = fields.Integer(required=True)
    participant_count = fields.Integer(required=True)
    results_published_at = fields.DateTime(allow_none=True)
    url = fields.String(metadata={"description": "The draft's page for people."})


class DraftListSchema(PageSchema):
    items = fields.List(fields.Nested(DraftSchema), required=True)


class ChapterSchema(ma.Schema):
    number = fields.Integer(required=True)
    heading = fields.String(required=True)


class ArticleSchema(ma.Schema):
    number = fields.Integer(required=True)
    heading = fields.String()
    chapter = fields.Integer(allow_none=True)
    section = fields.Integer(allow_none=True)
    text = fields.String(required=True)
    paragraphs = fields.List(fields.String())


class DraftDetailSchema(DraftSchema):
    summary = fields.String()
    summary_en = fields.String()
    drafting_body = fields.String()
    preamble = fields.String()
    chapters = fields.List(fields.Nested(ChapterSchema), required=True)
    articles = fields.List(fields.Nested(ArticleSchema), required=True)


class CountSchema(ma.Schema):
    comments = fields.Integer(required=True)
    participants = fields.Integer(required=True)


class ArticleCountSchema(CountSchema):
    article = fields.Integer(required=True)


class ChannelCountSchema(CountSchema):
    channel = _enum(Channel, required=True)


class DecisionCountSchema(ma.Schema):
    decision = fields.String(
        required=True,
        validate=validate.OneOf([*_values(Decision), "none"]),
        metadata={"description": "'none': no decision yet."},
    )
    comments = fields.Integer(required=True)


class StatsSchema(ma.Schema):
    draft = fields.String(required=True)
    comment_count = fields.Integer(required=True)
    participant_count = fields.Integer(required=True)
    by_channel = fields.List(fields.Nested(ChannelCountSchema), required=True)
    by_article = fields.List(fields.Nested(ArticleCountSchema), required=True)
    whole_draft = fields.Integer(
        required=True, metadata={"description": "Opinions on the whole draft or a chapter."}
    )
    results_published_at = fields.DateTime(allow_none=True)
    decisions = fields.List(
        fields.Nested(DecisionCountSchema),
        allow_none=True,
        metadata={"description": "null until the drafting team publishes the results."},
    )


# --- comments and receipts ------------------------------------------------------------------


class IdempotencyHeader(ma.Schema):
    idempotency_key = fields.String(
        data_key="Idempotency-Key",
        validate=[validate.Length(min=8, max=64), validate.Regexp(r"^[A-Za-z0-9_.:-]+$")],
        metadata={"description": "A retry with the same key returns the first answer (200)."},
    )


class CommentRequestSchema(ma.Schema):
    body = fields.String(required=True, validate=validate.Length(min=1, max=MAX_BODY))
    article = fields.Integer(
        allow_none=True,
        validate=validate.Range(min=1, max=100_000),
        metadata={"description": "The article number; omit for the whole draft."},
    )
    quote = fields.String(load_default="", validate=validate.Length(max=MAX_QUOTE))
    stance = _enum(Stance, load_default=Stance.other.value)
    identity = _enum(Identity, allow_none=True, load_default=None)
    name = fields.String(load_default="", validate=validate.Length(max=100))
    contact = fields.String(
        load_default="",
        validate=validate.Length(max=254),
        metadata={"description": "An 11-digit mobile number or an e-mail address."},
    )
    district = fields.String(load_default="", validate=validate.Length(max=100))
    consent = fields.Boolean(
        load_default=False,
        metadata={"description": "Required (true) when a name or contact is given."},
    )


class ReceiptSchema(ma.Schema):
    tracking_code = fields.String(required=True)
    status = _enum(CommentStatus, required=True)
    draft = fields.String(required=True)
    article = fields.Integer(allow_none=True)
    created_at = fields.DateTime(required=True)
    decision = _enum(Decision, allow_none=True)
    response = fields.String(allow_none=True)
    responded_at = fields.DateTime(allow_none=True)
    url = fields.String(metadata={"description": "The receipt page for people."})


class CommentCreatedSchema(ReceiptSchema):
    pass


# --- liaison points -------------------------------------------------------------------------


class AssignmentSchema(ma.Schema):
    id = fields.Integer(required=True)
    draft = fields.String(required=True)
    draft_title = fields.String(required=True)
    due_on = fields.Date(required=True)
    focus_questions = fields.String()
    state = fields.String(
        required=True, validate=validate.OneOf(["open", "due_soon", "overdue", "done"])
    )
    submissions = fields.Integer(required=True)


class AssignmentListSchema(PageSchema):
    items = fields.List(fields.Nested(AssignmentSchema), required=True)


class OpinionRequestSchema(ma.Schema):
    body = fields.String(required=True, validate=validate.Length(min=1, max=MAX_OPINION))
    article = fields.Integer(
        allow_none=True,
        load_default=None,
        validate=validate.Range(min=1, max=100_000),
        metadata={"description": "Omit to let the portal detect it from the text (第十二条)."},
    )
    stance = _enum(Stance, load_default=Stance.other.value)
    identity = _enum(Identity, allow_none=True, load_default=None)
    raised_by = fields.Integer(load_default=1, validate=validate.Range(min=1, max=MAX_RAISED_BY))


class SubmissionRequestSchema(ma.Schema):
    draft = fields.String(required=True, validate=validate.Length(min=1, max=80))
    method = _enum(Method, load_default=Method.forum.value)
    held_on = fields.Date(required=True)
    place = fields.String(load_default="", validate=validate.Length(max=300))
    participants = fields.Integer(load_default=0, validate=validate.Range(min=0, max=10_000_000))
    participants_residents = fields.Integer(load_default=0, validate=validate.Range(min=0))
    participants_businesses = fields.Integer(load_default=0, validate=validate.Range(min=0))
    participants_experts = fields.Integer(load_default=0, validate=validate.Range(min=0))
    participants_deputies = fields.Integer(load_default=0, validate=validate.Range(min=0))
    participants_other = fields.Integer(load_default=0, validate=validate.Range(min=0))
    summary = fields.String(load_default="", validate=validate.Length(max=5000))
    opinions = fields.List(
        fields.Nested(OpinionRequestSchema),
        required=True,
        validate=validate.Length(min=1),
        metadata={"description": "Saved all together or not at all."},
    )


class OpinionSchema(ma.Schema):
    id = fields.Integer(required=True)
    body = fields.String(required=True)
    article = fields.Integer(allow_none=True)
    stance = _enum(Stance, required=True)
    identity = _enum(Identity, allow_none=True)
    raised_by = fields.Integer(required=True)
    status = _enum(CommentStatus, required=True)
    decision = _enum(
        Decision, allow_none=True, metadata={"description": "null until a decision is published."}
    )
    response = fields.String(allow_none=True)


class SubmissionSchema(ma.Schema):
    id = fields.Integer(required=True)
    draft = fields.String(required=True)
    liaison_point = fields.String(required=True)
    status = fields.String(required=True, validate=validate.OneOf(["draft", "submitted"]))
    method = _enum(Method, required=True)
    held_on = fields.Date(allow_none=True)
    place = fields.String()
    participants = fields.Integer(required=True)
    summary = fields.String()
    receipt_code = fields.String(allow_none=True)
    submitted_at = fields.DateTime(allow_none=True)
    opinions = fields.List(fields.Nested(OpinionSchema), required=True)


class SubmissionSummarySchema(ma.Schema):
    id = fields.Integer(required=True)
    draft = fields.String(required=True)
    status = fields.String(required=True, validate=validate.OneOf(["draft", "submitted"]))
    method = _enum(Method, required=True)
    held_on = fields.Date(allow_none=True)
    opinions = fields.Integer(required=True)
    submitted_at = fields.DateTime(allow_none=True)


class SubmissionListSchema(PageSchema):
    items = fields.List(fields.Nested(SubmissionSummarySchema), required=True)


# --- search ---------------------------------------------------------------------------------


class SearchArgs(PageArgs):
    q = fields.String(load_default="", validate=validate.Length(max=500))
    draft = fields.String(metadata={"description": "A draft's slug."})
    article = fields.Integer(validate=validate.Range(min=0), metadata={"description": "0: whole"})
    chapter = fields.Integer(validate=validate.Range(min=0))
    category = fields.List(fields.Integer(validate=validate.Range(min=1)), load_default=list)
    stance = _enum(Stance)
    identity = _enum(Identity)
    channel = _enum(Channel)
    point = fields.String(metadata={"description": "A liaison point's code."})
    district = fields.String()
    decision = fields.String(validate=validate.OneOf([*_values(Decision), "none"]))
    date_from = fields.Date(data_key="from")
    date_to = fields.Date(data_key="to")
    sort = fields.String(
        load_default="relevance",
        validate=validate.OneOf(["relevance", "newest", "oldest", "article"]),
    )


class ExportArgs(SearchArgs):
    format = fields.String(load_default="xlsx", validate=validate.OneOf(["xlsx", "csv"]))


class SearchItemSchema(ma.Schema):
    id = fields.Integer(required=True)
    body = fields.String(required=True)
    highlight = fields.String(
        required=True, metadata={"description": "HTML: escaped text with <mark> around matches."}
    )
    draft = fields.String(required=True)
    article = fields.Integer(allow_none=True)
    categories = fields.List(fields.String(), required=True)
    channel = _enum(Channel, required=True)
    liaison_point = fields.String(allow_none=True)
    decision = _enum(Decision, allow_none=True)
    stance = _enum(Stance, required=True)
    identity = _enum(Identity, allow_none=True)
    created_at = fields.DateTime(required=True)


class FacetValueSchema(ma.Schema):
    value = fields.String(required=True)
    count = fields.Integer(required=True)


class SearchSchema(PageSchema):
    items = fields.List(fields.Nested(SearchItemSchema), required=True)
    facets = fields.Dict(
        keys=fields.String(), values=fields.List(fields.Nested(FacetValueSchema)), required=True
    )
