"""Commenting on a draft, the receipt, the status lookup and "my comments"."""

import uuid

from flask import abort, current_app, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy.exc import IntegrityError

from portal.comments import bp
from portal.comments import services as comments
from portal.comments.browser import (
    account_rate_key,
    browser_id,
    is_anonymous,
    session_rate_key,
)
from portal.comments.forms import CommentForm, TrackForm
from portal.comments.messages import rejection_message
from portal.drafts import services as drafts
from portal.extensions import db, deducted, limiter, spare_rate_limits
from portal.models import Identity, Stance, utcnow
from portal.numerals import parse_int


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="comment-form-started")


def _check_timing(token: str | None) -> str | None:
    """A code if the form came back faster than a person can fill it in, or not from us."""
    minimum = current_app.config["COMMENT_MIN_SECONDS"]
    try:
        started = _serializer().loads(token or "", max_age=24 * 3600)
    except BadSignature:
        return "form_expired"
    if utcnow().timestamp() - float(started) < minimum:
        return "too_fast"
    return None


def _client() -> comments.ClientInfo:
    return comments.ClientInfo(
        address=request.remote_addr or "",
        user_agent=request.headers.get("User-Agent", "")[:300],
        browser_id=browser_id(),
    )


def _form_key(posted: str | None) -> str | None:
    """The form's idempotency key bound to this browser and account: a key posted from another
    session (guessed or copied) is another key, and never returns someone else's opinion."""
    account = current_user.get_id() if current_user.is_authenticated else ""
    return comments.scoped_idempotency_key(posted, "form", browser_id(), f"user:{account}")


def _remember_receipt(code: str) -> None:
    """Keep this browser's recent receipts, so an anonymous commenter can find them again."""
    codes = [c for c in session.get("receipts", []) if c != code]
    session["receipts"] = [code, *codes][:20]


@bp.route("/drafts/<slug>/comment", methods=["GET", "POST"])
@limiter.limit(
    lambda: current_app.config["COMMENT_RATE_LIMIT"], methods=["POST"], deduct_when=deducted
)
@limiter.limit(
    lambda: current_app.config["COMMENT_SESSION_RATE_LIMIT"],
    key_func=session_rate_key,
    methods=["POST"],
    deduct_when=deducted,
)
@limiter.limit(
    lambda: current_app.config["COMMENT_ACCOUNT_RATE_LIMIT"],
    key_func=account_rate_key,
    methods=["POST"],
    exempt_when=is_anonymous,
    deduct_when=deducted,
)
def new(slug: str):
    draft = drafts.get_public_draft(slug) or abort(404)
    if not draft.is_open():
        status = 403 if request.method == "POST" else 200
        return render_template(
            "comments/closed.html", draft=draft, message=rejection_message("window_closed")
        ), status

    browser_id()  # the form's key is bound to this browser from its first showing
    form = CommentForm(draft)
    if request.method == "GET":
        # ?article=12, ?article=１２ and ?article=十二 all preselect 第十二条; junk is ignored.
        article = parse_int(request.args.get("article"), minimum=1, chinese=True)
        chapter = parse_int(request.args.get("chapter"), minimum=1, chinese=True)
        if article is not None:
            form.target.data = f"article-{article}"
        elif chapter is not None:
            form.target.data = f"chapter-{chapter}"
        else:
            form.target.data = "draft"
    selected_article = _selected_article(draft, form.target.data)
    error = None

    if form.validate_on_submit():
        error = "honeypot" if form.website.data else _check_timing(form.started.data)
        if error is None:
            data = comments.CommentInput(
                body=form.body.data,
                stance=Stance(form.stance.data),
                target=form.target.data,
                quote=form.quote.data or "",
                name=form.name.data or "",
                contact=form.contact.data or "",
                identity=Identity(form.identity.data) if form.identity.data else None,
                district=form.district.data or "",
                consent=form.consent.data,
                idempotency_key=_form_key(form.idempotency_key.data),
            )
            author = current_user if current_user.is_authenticated else None
            try:
                result = comments.submit_comment(draft, data, author=author, client=_client())
                db.session.commit()
            except comments.CommentRejected as rejected:
                db.session.rollback()
                error = rejected.code
                if rejected.field and hasattr(form, rejected.field):
                    getattr(form, rejected.field).errors.append(rejection_message(error))
                    spare_rate_limits()  # a mistake to correct, not another attempt
            except IntegrityError:
                # A double click raced us to the same idempotency key: show the first one.
                db.session.rollback()
                result = None
                existing = comments.find_by_idempotency_key(data.idempotency_key)
                if existing is None:
                    raise
                result = comments.SubmitResult(existing, created=False)
            if error is None:
                _remember_receipt(result.comment.tracking_code)
                return redirect(
                    url_for(
                        "comments.receipt",
                        code=result.comment.tracking_code,
                        again=None if result.created else 1,
                    )
                )
        if error in ("window_closed",):
            return render_template(
                "comments/closed.html", draft=draft, message=rejection_message(error)
            ), 403
    elif request.method == "POST":
        spare_rate_limits()  # the form told the visitor what to correct

    if request.method == "GET" or not form.idempotency_key.data:
        form.idempotency_key.data = uuid.uuid4().hex
    # A fresh start time each time the form is shown: the minimum counts from this showing.
    form.started.data = _serializer().dumps(str(utcnow().timestamp()))
    form.website.data = ""
    status = 422 if request.method == "POST" else 200
    return render_template(
        "comments/new.html",
        draft=draft,
        form=form,
        article=selected_article,
        error=rejection_message(error) if error else None,
        max_body=comments.MAX_BODY,
    ), status


def _selected_article(draft, target: str | None):
    number = parse_int(target[8:], minimum=1) if target and target.startswith("article-") else None
    if number is not None:
        return next((a for a in draft.articles if a.number == number), None)
    return None


def _lookup_limits(view):
    """Per address (sized for shared addresses) and, tighter, per browser."""
    view = limiter.limit(
        lambda: current_app.config["LOOKUP_SESSION_RATE_LIMIT"], key_func=session_rate_key
    )(view)
    return limiter.limit(lambda: current_app.config["LOOKUP_RATE_LIMIT"])(view)


@bp.route("/receipts/<code>")
@_lookup_limits
def receipt(code: str):
    comment = comments.find_by_code(code)
    if comment is None:
        form = TrackForm(meta={"csrf": False})
        form.code.errors = [_("没有找到这个回执编号，请检查后重新输入。")]
        return render_template("comments/track.html", form=form), 404
    if comment.tracking_code != code:
        return redirect(url_for("comments.receipt", code=comment.tracking_code))
    return render_template(
        "comments/receipt.html",
        comment=comment,
        status=comments.public_status(comment),
        # "Already received" only to the browser that sent it; anyone else sees a plain receipt.
        again=request.args.get("again") == "1" and code in session.get("receipts", []),
        masked_contact=comments.mask_contact(comment.contact),
        masked_name=comments.mask_name(comment.name),
    )


@bp.route("/track")
@_lookup_limits
def track():
    form = TrackForm(request.args, meta={"csrf": False})
    if "code" in request.args and form.validate():
        comment = comments.find_by_code(form.code.data)
        if comment is not None:
            return redirect(url_for("comments.receipt", code=comment.tracking_code))
        form.code.errors = [_("没有找到这个回执编号，请检查后重新输入。")]
        return render_template("comments/track.html", form=form), 404
    recent = session.get("receipts", [])
    return render_template("comments/track.html", form=form, recent=recent)


@bp.route("/my/comments")
@login_required
def mine():
    items = comments.comments_by_author(current_user)
    return render_template(
        "comments/mine.html",
        comments=items,
        statuses={c.id: comments.public_status(c) for c in items},
    )
