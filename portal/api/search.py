"""The drafting team's endpoints: search every opinion, export a result set."""

from __future__ import annotations

import io

from flask import send_file
from flask_smorest import Blueprint, abort
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from werkzeug.datastructures import MultiDict

from portal.api.schemas import ExportArgs, SearchArgs, SearchSchema
from portal.api.security import BEARER_SCHEME, api_user, limit, token_required
from portal.audit import record
from portal.comments.services import staff_visible
from portal.drafts import services as drafts
from portal.extensions import db
from portal.models import Comment, Draft, Role, Submission
from portal.review import search_params

blp = Blueprint(
    "api_search",
    __name__,
    url_prefix="/api/v1/search",
    description="For the drafting team, with a personal token: search and export opinions.",
)
limit(blp)

MAX_EXPORT = 100_000
MIMETYPES = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv",
}


def _params(args: dict):
    """The same parameters as the search page's URL, read by the same function."""
    draft = None
    if args.get("draft"):
        draft = drafts.get_draft(args["draft"])
        if draft is None:
            abort(404, code="draft_not_found")
    url = MultiDict()
    for key, value in args.items():
        if key in ("draft", "page", "per_page", "format", "date_from", "date_to"):
            continue
        for item in value if isinstance(value, list) else [value]:
            url.add(key, str(item))
    for key, name in (("date_from", "from"), ("date_to", "to")):
        if args.get(key):
            url.add(name, args[key].isoformat())
    return search_params.params_from(url, draft), draft


def _load(ids: list[int]) -> list[Comment]:
    rows = {
        c.id: c
        for c in db.session.scalars(
            select(Comment)
            .where(Comment.id.in_(ids), staff_visible())
            .options(
                selectinload(Comment.categories),
                selectinload(Comment.submission).selectinload(Submission.liaison_point),
            )
        )
    }
    return [rows[i] for i in ids if i in rows]


def _facet_value(name: str, value, slugs: dict[int, str]) -> str:
    if name == "draft":
        return slugs.get(value, str(value))
    return str(value)


@blp.route("")
@token_required(Role.drafter, Role.admin)
@blp.arguments(SearchArgs, location="query", as_kwargs=True)
@blp.response(200, SearchSchema)
@blp.alt_response(401, response="UNAUTHORIZED")
@blp.alt_response(403, response="FORBIDDEN")
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(429, response="TOO_MANY_REQUESTS")
@blp.doc(security=[BEARER_SCHEME])
def search(page: int, per_page: int, **args):
    """Opinions matching a query (the search page's syntax), with filters and facet counts."""
    from portal.search import get_backend

    params, _draft = _params(args)
    result = get_backend().search(params, page=page, per_page=per_page)
    slugs = dict(db.session.execute(select(Draft.id, Draft.slug)).all())
    items = []
    for comment in _load(result.ids):
        submission = comment.submission
        items.append(
            {
                "id": comment.id,
                "body": comment.body,
                "highlight": str(result.highlights.get(comment.id, "")),
                "draft": slugs.get(comment.draft_id, ""),
                "article": comment.article_number,
                "categories": sorted(c.name for c in comment.categories),
                "channel": comment.channel.value,
                "liaison_point": submission.liaison_point.code if submission else None,
                "decision": comment.decision.value if comment.decision else None,
                "stance": comment.stance.value,
                "identity": comment.identity.value if comment.identity else None,
                "created_at": comment.created_at,
            }
        )
    return {
        "total": result.total,
        "page": page,
        "per_page": per_page,
        "pages": result.pages,
        "items": items,
        "facets": {
            name: [{"value": _facet_value(name, v, slugs), "count": n} for v, n in values]
            for name, values in result.facets.items()
        },
    }


@blp.route("/export")
@token_required(Role.drafter, Role.admin)
@blp.arguments(ExportArgs, location="query", as_kwargs=True)
@blp.alt_response(401, response="UNAUTHORIZED")
@blp.alt_response(403, response="FORBIDDEN")
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(429, response="TOO_MANY_REQUESTS")
@blp.doc(
    security=[BEARER_SCHEME],
    responses={
        "200": {
            "description": "The result set as XLSX (format=xlsx) or UTF-8 CSV (format=csv).",
            "content": {
                mimetype: {"schema": {"type": "string", "format": "binary"}}
                for mimetype in MIMETYPES.values()
            },
        }
    },
)
def export(page: int, per_page: int, **args):
    """Every opinion matching the query, safe against spreadsheet formula injection."""
    from portal.review import exports
    from portal.search import get_backend

    fmt = args.pop("format")
    params, draft = _params(args)
    ids = get_backend().matching_ids(params, limit=MAX_EXPORT)
    rows = exports.iter_for_export(ids)
    user = api_user()
    # The same rule as the workbench: drafters and admins see contact details.
    include_contact = user.is_staff
    if fmt == "xlsx":
        data = exports.export_xlsx(rows, include_contact=include_contact)
    else:
        data = exports.export_csv(rows, include_contact=include_contact)
    record(user, "export", draft or user, {"format": fmt, "opinions": len(ids), "api": True})
    db.session.commit()
    name = exports.export_filename(draft.slug if draft else "all", fmt)
    response = send_file(
        io.BytesIO(data), mimetype=MIMETYPES[fmt], as_attachment=True, download_name=name
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response
