"""Citizens' endpoints: send an opinion on a draft, follow it by its tracking code."""

from __future__ import annotations

import hashlib

from flask import current_app, request, url_for
from flask_smorest import Blueprint, abort
from sqlalchemy.exc import IntegrityError

from portal.api.schemas import (
    CommentCreatedSchema,
    CommentRequestSchema,
    IdempotencyHeader,
    ReceiptSchema,
)
from portal.api.security import BEARER_SCHEME, api_user, has_no_token, limit
from portal.comments import services as comments
from portal.comments.messages import rejection_message
from portal.drafts import services as drafts
from portal.extensions import db, limiter
from portal.models import Channel, Comment, Identity, Stance
from portal.urls import external_url

blp = Blueprint(
    "api_comments",
    __name__,
    url_prefix="/api/v1",
    description="Send an opinion and follow it with its tracking code (public).",
)
limit(blp)

# The service's refusals: HTTP status, and the request field the message belongs to.
_REFUSALS = {
    "window_closed": 403,
    "bad_idempotency_key": 409,
}


def receipt_dict(comment: Comment) -> dict:
    status = comments.public_status(comment)
    return {
        "tracking_code": comment.tracking_code,
        "status": status.status.value,
        "draft": comment.draft.slug,
        "article": comment.article_number,
        "created_at": comment.created_at,
        "decision": status.decision.value if status.decision else None,
        "response": status.response or None,
        "responded_at": status.published_at,
        "url": external_url("comments.receipt", code=comment.tracking_code),
    }


def scoped_key(key: str | None, author, client: comments.ClientInfo, payload: bytes) -> str | None:
    """The caller's key, bound to the caller: another client choosing the same key (they are
    chosen by outside systems, and may be guessable) never receives someone else's receipt.

    A token names its account. Without one, many people may call from one address with one app
    (a carrier's NAT): the key is bound to the address, the User-Agent and the exact request
    body, so a replayed key only returns an opinion whose sender sent that very body.
    """
    if author is not None:
        return comments.scoped_idempotency_key(key, "api", f"user:{author.id}")
    body = hashlib.sha256(payload).hexdigest()
    return comments.scoped_idempotency_key(
        key, "api", "anonymous", client.address, client.user_agent, body
    )


def _client() -> comments.ClientInfo:
    return comments.ClientInfo(
        address=request.remote_addr or "", user_agent=request.headers.get("User-Agent", "")[:300]
    )


def _account_key() -> str:
    user = api_user()
    return f"user:{user.id}" if user is not None else "anonymous"


def _accepted(response) -> bool:
    """Only an accepted opinion uses up the commenting limits (the API's own count them all)."""
    return response.status_code < 400


@blp.route("/drafts/<slug>/comments", methods=["POST"])
@limiter.limit(lambda: current_app.config["COMMENT_RATE_LIMIT"], deduct_when=_accepted)
@limiter.limit(
    lambda: current_app.config["COMMENT_ACCOUNT_RATE_LIMIT"],
    key_func=_account_key,
    exempt_when=has_no_token,
    deduct_when=_accepted,
)
@blp.arguments(IdempotencyHeader, location="headers", as_kwargs=True)
@blp.arguments(CommentRequestSchema)
@blp.response(201, CommentCreatedSchema)
@blp.alt_response(200, schema=CommentCreatedSchema, description="A retry: the first answer.")
@blp.alt_response(400, response="BAD_REQUEST")
@blp.alt_response(401, response="UNAUTHORIZED", description="A token was given but is invalid.")
@blp.alt_response(403, response="FORBIDDEN", description="The consultation window is closed.")
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(409, response="CONFLICT", description="The key was used for another draft.")
@blp.alt_response(413, response="REQUEST_ENTITY_TOO_LARGE")
@blp.alt_response(429, response="TOO_MANY_REQUESTS")
@blp.doc(security=[{}, BEARER_SCHEME])
def create_comment(data: dict, slug: str, idempotency_key: str | None = None):
    """Send an opinion on the whole draft or one article, under the same rules as the form.

    Anonymous unless a token is given (then the opinion belongs to the token's account).
    """
    author = api_user()
    client = _client()
    draft = drafts.get_public_draft(slug)
    if draft is None:
        abort(404, code="draft_not_found")
    article = data.get("article")
    comment_input = comments.CommentInput(
        body=data["body"],
        stance=Stance(data["stance"]),
        target=f"article-{article}" if article else "draft",
        quote=data["quote"],
        name=data["name"],
        contact=data["contact"],
        identity=Identity(data["identity"]) if data.get("identity") else None,
        district=data["district"],
        consent=data["consent"],
        idempotency_key=scoped_key(idempotency_key, author, client, request.get_data()),
        channel=Channel.api,
    )
    try:
        result = comments.submit_comment(draft, comment_input, author=author, client=client)
        db.session.commit()
    except comments.CommentRejected as rejected:
        db.session.rollback()
        message = rejection_message(rejected.code)
        status = _REFUSALS.get(rejected.code, 422)
        field = {"target": "article"}.get(rejected.field, rejected.field)
        errors = [{"field": field, "code": rejected.code, "detail": message}] if field else None
        abort(status, code=rejected.code, message=message, errors=errors)
    except IntegrityError:
        # Two retries with the same key raced: answer with the one that won.
        db.session.rollback()
        existing = comments.find_by_idempotency_key(comment_input.idempotency_key)
        if existing is None:
            raise
        result = comments.SubmitResult(existing, created=False)
    body = receipt_dict(result.comment)
    headers = {"Location": url_for("api_comments.get_receipt", code=result.comment.tracking_code)}
    return body, 201 if result.created else 200, headers


@blp.route("/receipts/<code>")
@limiter.limit(lambda: current_app.config["LOOKUP_RATE_LIMIT"])
@blp.response(200, ReceiptSchema)
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(429, response="TOO_MANY_REQUESTS")
def get_receipt(code: str):
    """An opinion's status and, once published, the decision and the response."""
    comment = comments.find_by_code(code)
    if comment is None:
        abort(404, code="receipt_not_found", message=_not_found_message())
    return receipt_dict(comment)


def _not_found_message() -> str:
    from flask_babel import gettext as _

    return _("没有找到这个回执编号，请检查后重新输入。")
