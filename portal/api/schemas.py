"""The API's shapes (marshmallow), from which the OpenAPI document is generated.

Outside systems rely on these names: extend them, never rename them.
"""

from __future__ import annotations

from collections.abc import Mapping

import marshmallow as ma
from marshmallow import fields, validate

from portal.comments.services import MAX_BODY, MAX_QUOTE
from portal.liaison.services import MAX_OPINION, MAX_RAISED_BY
from portal.models import Channel, CommentStatus, Decision, DraftStatus, Identity, Method, Stance
from portal.numerals import MAX_DB_INT
from portal.sanitize import clean_text

MAX_PER_PAGE = 100


class PortalSchema(ma.Schema):
    """Base of every schema here: text is cleaned as it is loaded, before any validation.

    Every String field goes through portal.sanitize.clean_text (no NUL, control or bidi
    characters, NFC, trimmed); fields named in `multiline_fields` keep their line breaks, the
    others get one line. Query strings (webargs' MultiDictProxy) and JSON bodies alike.
    """

    multiline_fields: frozenset[str] = frozenset()

    @ma.pre_load
    def clean_strings(self, data, **kwargs):
        if not isinstance(data, Mapping):
            return data  # marshmallow reports the wrong type itself
        cleaned = dict(data)
        for name, field in self.load_fields.items():
            key = field.data_key or name
            if key not in cleaned:
                continue
            multiline = name in self.multiline_fields
            value = cleaned[key]
            if isinstance(field, fields.String) and isinstance(value, str):
                cleaned[key] = clean_text(value, multiline=multiline)
            elif (
                isinstance(field, fields.List)
                and isinstance(field.inner, fields.String)
                and isinstance(value, list)
            ):
                cleaned[key] = [
                    clean_text(v, multiline=multiline) if isinstance(v, str) else v for v in value
                ]
        return cleaned


def _values(enum_cls) -> list[str]:
    return [member.value for member in enum_cls]


# Counts are INTEGER columns: a larger number would overflow the database, not just be odd.
_count_range = validate.Range(min=0, max=10_000_000)


def _enum(enum_cls, **kwargs):
    return fields.String(validate=validate.OneOf(_values(enum_cls)), **kwargs)


class ProblemSchema(PortalSchema):
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


class PageArgs(PortalSchema):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100_000))
    per_page = fields.Integer(load_default=20, validate=validate.Range(min=1, max=MAX_PER_PAGE))


class PageSchema(PortalSchema):
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


class DraftSchema(PortalSchema):
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


class ChapterSchema(PortalSchema):
    number = fields.Integer(required=True)
    heading = fields.String(required=True)


class ArticleSchema(PortalSchema):
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


class CountSchema(PortalSchema):
    comments = fields.Integer(required=True)
    participants = fields.Integer(required=True)


class ArticleCountSchema(CountSchema):
    article = fields.Integer(required=True)


class ChannelCountSchema(CountSchema):
    channel = _enum(Channel, required=True)


class DecisionCountSchema(PortalSchema):
    decision = fields.String(
        required=True,
        validate=validate.OneOf([*_values(Decision), "none"]),
        metadata={"description": "'none': no published decision yet (undecided)."},
    )
    comments = fields.Integer(required=True)


class StatsSchema(PortalSchema):
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
    # Figures as docs/figures.md defines them, public scope: a decision counts once its
    # response is published. null, like decisions, until the results are published.
    decided = fields.Integer(
        allow_none=True,
        metadata={"description": "Opinions with a published decision (merged included)."},
    )
    undecided = fields.Integer(
        allow_none=True,
        metadata={"description": "Opinions without a published decision yet."},
    )
    adoption_rate = fields.Float(
        allow_none=True,
        metadata={
            "description": "(adopted + partly adopted) / decided, from 0 to 1; null while "
            "nothing is decided. Always show it with `undecided`."
        },
    )


# --- comments and receipts ------------------------------------------------------------------


class IdempotencyHeader(PortalSchema):
    idempotency_key = fields.String(
        data_key="Idempotency-Key",
        validate=[validate.Length(min=8, max=64), validate.Regexp(r"^[A-Za-z0-9_.:-]+$")],
        metadata={"description": "A retry with the same key returns the first answer (200)."},
    )


class CommentRequestSchema(PortalSchema):
    multiline_fields = frozenset({"body", "quote"})

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


class ReceiptSchema(PortalSchema):
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


class AssignmentSchema(PortalSchema):
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


class OpinionRequestSchema(PortalSchema):
    multiline_fields = frozenset({"body"})

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


class SubmissionRequestSchema(PortalSchema):
    multiline_fields = frozenset({"summary"})

    draft = fields.String(required=True, validate=validate.Length(min=1, max=80))
    method = _enum(Method, load_default=Method.forum.value)
    held_on = fields.Date(required=True)
    place = fields.String(load_default="", validate=validate.Length(max=300))
    participants = fields.Integer(load_default=0, validate=_count_range)
    participants_residents = fields.Integer(load_default=0, validate=_count_range)
    participants_businesses = fields.Integer(load_default=0, validate=_count_range)
    participants_experts = fields.Integer(load_default=0, validate=_count_range)
    participants_deputies = fields.Integer(load_default=0, validate=_count_range)
    participants_other = fields.Integer(load_default=0, validate=_count_range)
    summary = fields.String(load_default="", validate=validate.Length(max=5000))
    opinions = fields.List(
        fields.Nested(OpinionRequestSchema),
        required=True,
        validate=validate.Length(min=1),
        metadata={"description": "Saved all together or not at all."},
    )
    leave_out_repeats = fields.Boolean(
        load_default=False,
        metadata={
            "description": "true: opinions whose text the point already sent for this draft "
            "(in a submitted batch; spacing, punctuation and full-width letters do not count) "
            "are left out of the batch; false: they are sent again. Either way the answer "
            "lists them under repeats."
        },
    )


class OpinionSchema(PortalSchema):
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


class SubmissionSchema(PortalSchema):
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


class RepeatSchema(PortalSchema):
    index = fields.Integer(
        required=True, metadata={"description": "The opinion's position in the request."}
    )
    body = fields.String(required=True)
    left_out = fields.Boolean(
        required=True, metadata={"description": "true: not saved (leave_out_repeats)."}
    )
    earlier_submission = fields.Integer(
        required=True, metadata={"description": "The point's batch that already holds it."}
    )
    earlier_receipt_code = fields.String(allow_none=True)
    earlier_opinion = fields.Integer(required=True)


class SubmissionCreatedSchema(SubmissionSchema):
    repeats = fields.List(
        fields.Nested(RepeatSchema),
        required=True,
        metadata={"description": "Opinions of the request the point had already sent."},
    )


class SubmissionSummarySchema(PortalSchema):
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
    article = fields.Integer(
        validate=validate.Range(min=0, max=MAX_DB_INT), metadata={"description": "0: whole"}
    )
    chapter = fields.Integer(validate=validate.Range(min=0, max=MAX_DB_INT))
    category = fields.List(
        fields.Integer(validate=validate.Range(min=1, max=MAX_DB_INT)), load_default=list
    )
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


class SearchItemSchema(PortalSchema):
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


class FacetValueSchema(PortalSchema):
    value = fields.String(required=True)
    count = fields.Integer(required=True)


class SearchSchema(PageSchema):
    items = fields.List(fields.Nested(SearchItemSchema), required=True)
    facets = fields.Dict(
        keys=fields.String(), values=fields.List(fields.Nested(FacetValueSchema)), required=True
    )
