"""The drafting team's pages: the opinions on a draft and the decision on one opinion."""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from portal.auth.decorators import staff_required
from portal.comments import services as comments
from portal.drafts import services as drafts
from portal.extensions import db
from portal.models import Comment, CommentStatus, Decision
from portal.review import bp
from portal.review.forms import DecisionForm

PAGE_SIZE = 50


@bp.route("/drafts/<slug>/comments")
@staff_required
def draft_comments(slug: str):
    draft = drafts.get_draft(slug) or abort(404)
    page = db.paginate(
        select(Comment)
        .where(Comment.draft_id == draft.id, comments.staff_visible())
        .order_by(Comment.created_at.desc(), Comment.id.desc()),
        page=request.args.get("page", 1, type=int),
        per_page=PAGE_SIZE,
        error_out=False,
    )
    return render_template("review/draft_comments.html", draft=draft, page=page)


@bp.route("/comments/<int:comment_id>", methods=["GET", "POST"])
@staff_required
def comment(comment_id: int):
    item = comments.get_for_staff(comment_id) or abort(404)
    form = DecisionForm()
    if request.method == "GET":
        form.status.data = item.status.value
        form.decision.data = item.decision.value if item.decision else ""
        form.response.data = item.response
        form.publish.data = item.response_published_at is not None
        form.show_publicly.data = item.published
    if form.validate_on_submit():
        try:
            comments.record_decision(
                item,
                actor=current_user,
                status=CommentStatus(form.status.data),
                decision=Decision(form.decision.data) if form.decision.data else None,
                response=form.response.data or "",
                publish=form.publish.data,
            )
            comments.set_published(item, form.show_publicly.data, current_user)
        except comments.CommentRejected:
            db.session.rollback()
            form.response.errors.append(_("公开答复前，请选择处理结果并填写答复。"))
        else:
            db.session.commit()
            flash(_("处理结果已保存。"), "success")
            return redirect(url_for("review.comment", comment_id=item.id))
    return render_template("review/comment.html", comment=item, form=form)
