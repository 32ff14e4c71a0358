"""Liaison staff pages (their point only) and the drafting team's view across points."""

from flask import (
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required
from sqlalchemy import select

from portal.auth.decorators import role_required, staff_required
from portal.drafts import services as drafts
from portal.extensions import db
from portal.liaison import bp
from portal.liaison import services as liaison
from portal.liaison.forms import AssignForm, ConfirmForm, OpinionForm, SubmissionForm, UploadForm
from portal.liaison.messages import error_message
from portal.models import Comment, Identity, LiaisonPoint, Role, Stance, SubmissionStatus
from portal.numerals import parse_int

liaison_required = role_required(Role.liaison)


def _my_point() -> LiaisonPoint:
    point = current_user.liaison_point
    if point is None:
        abort(403)
    return point


def _own_submission(submission_id: int):
    """The submission if the current user may see it; otherwise 404, never a hint it exists."""
    return liaison.get_submission(current_user, submission_id) or abort(404)


def _window_refusal(submission, error: liaison.LiaisonError):
    """The batch page with the reason the draft takes no batch now, or None for other errors."""
    if error.code not in liaison.WINDOW_CODES:
        return None
    return _submission_page(submission, error=error_message(error), status=403)


def _own_editable(submission_id: int):
    submission = _own_submission(submission_id)
    if current_user.role != Role.liaison:
        abort(403)  # the drafting team reads submitted batches; it never edits them
    if submission.status != SubmissionStatus.draft:
        message = error_message(liaison.LiaisonError("already_submitted"))
        abort(make_response(_submission_page(submission, error=message, status=409)))
    return submission


# --- the point's own pages -----------------------------------------------------------------


@bp.route("/")
@liaison_required
def home():
    point = _my_point()
    return render_template("liaison/home.html", dashboard=liaison.point_dashboard(point))


@bp.route("/submissions/new", methods=["GET", "POST"])
@liaison_required
def submission_new():
    point = _my_point()
    available = liaison.open_drafts_for_point(point)
    form = SubmissionForm(drafts=available)
    if request.method == "GET" and request.args.get("draft"):
        form.draft.data = request.args["draft"]
    if form.validate_on_submit():
        draft = next(d for d in available if d.slug == form.draft.data)
        try:
            submission = liaison.create_submission(point, draft, form.to_data(), current_user)
        except liaison.LiaisonError as error:
            db.session.rollback()
            field = form.draft if error.code in liaison.WINDOW_CODES else form.participants
            field.errors.append(error_message(error))
        else:
            db.session.commit()
            flash(_("已创建意见汇总表，可以分几次添加意见，最后再报送。"), "success")
            return redirect(url_for("liaison.submission", submission_id=submission.id))
    return render_template("liaison/submission_new.html", form=form)


def _submission_page(
    submission, *, meta_form=None, opinion_form=None, import_errors=None, error=None, status=200
):
    meta_form = meta_form or SubmissionForm(obj=submission, drafts=[submission.draft])
    meta_form.draft.data = submission.draft.slug
    if meta_form.method.data is None or not meta_form.is_submitted():
        meta_form.method.data = submission.method.value
    editable = submission.status == SubmissionStatus.draft and current_user.role == Role.liaison
    closed = liaison.window_problem(submission.draft) if editable else None
    window_error = error_message(closed) if closed is not None else None
    return render_template(
        "liaison/submission.html",
        submission=submission,
        editable=editable,
        # Outside the window the batch can only be tidied up (deletions), not built or sent.
        can_build=editable and closed is None,
        window_error=window_error if window_error != error else None,
        repeats=liaison.find_repeats(submission) if editable and closed is None else [],
        meta_form=meta_form,
        opinion_form=opinion_form or OpinionForm(draft=submission.draft, prefix="op"),
        import_form=UploadForm(prefix="import"),
        attachment_form=UploadForm(prefix="attach"),
        confirm_form=ConfirmForm(),
        import_errors=import_errors or [],
        error=error,
    ), status


@bp.route("/submissions/<int:submission_id>")
@login_required
def submission(submission_id: int):
    item = _own_submission(submission_id)
    return _submission_page(item)


@bp.route("/submissions/<int:submission_id>/meta", methods=["POST"])
@liaison_required
def submission_meta(submission_id: int):
    item = _own_editable(submission_id)
    form = SubmissionForm(drafts=[item.draft])
    form.draft.data = item.draft.slug
    if form.validate_on_submit():
        try:
            liaison.update_submission(item, form.to_data(), current_user)
        except liaison.LiaisonError as error:
            db.session.rollback()
            if refused := _window_refusal(item, error):
                return refused
            form.participants.errors.append(error_message(error))
        else:
            db.session.commit()
            flash(_("已保存。"), "success")
            return redirect(url_for("liaison.submission", submission_id=item.id))
    return _submission_page(item, meta_form=form, status=422)


def _opinions_url(submission) -> str:
    return url_for("liaison.submission", submission_id=submission.id, _anchor="opinions")


def _opinion_data(form: OpinionForm) -> liaison.OpinionData:
    choice = form.article.data
    return liaison.OpinionData(
        body=form.body.data,
        article=parse_int(choice, minimum=1),
        article_fixed=choice != "auto",
        stance=Stance(form.stance.data),
        identity=Identity(form.identity.data) if form.identity.data else None,
        raised_by=form.raised_by.data or 1,
    )


@bp.route("/submissions/<int:submission_id>/opinions", methods=["POST"])
@liaison_required
def opinion_add(submission_id: int):
    item = _own_editable(submission_id)
    form = OpinionForm(draft=item.draft, prefix="op")
    if form.validate_on_submit():
        try:
            liaison.add_opinions(item, [_opinion_data(form)], current_user)
        except liaison.LiaisonError as error:
            db.session.rollback()
            if refused := _window_refusal(item, error):
                return refused
            form.body.errors.append(error_message(error))
        else:
            db.session.commit()
            flash(_("意见已添加。"), "success")
            return redirect(_opinions_url(item))
    return _submission_page(item, opinion_form=form, status=422)


@bp.route("/submissions/<int:submission_id>/opinions/<int:comment_id>", methods=["GET", "POST"])
@liaison_required
def opinion_edit(submission_id: int, comment_id: int):
    item = _own_editable(submission_id)
    comment = db.session.get(Comment, comment_id)
    if comment is None or comment.submission_id != item.id:
        abort(404)
    form = OpinionForm(draft=item.draft)
    if request.method == "GET":
        form.body.data = comment.body
        form.article.data = str(comment.article_number) if comment.article_number else "whole"
        form.stance.data = comment.stance.value
        form.identity.data = comment.identity.value if comment.identity else ""
        form.raised_by.data = comment.raised_by
    if form.validate_on_submit():
        try:
            liaison.update_opinion(comment, _opinion_data(form))
        except liaison.LiaisonError as error:
            db.session.rollback()
            if refused := _window_refusal(item, error):
                return refused
            form.body.errors.append(error_message(error))
        else:
            db.session.commit()
            flash(_("意见已修改。"), "success")
            return redirect(_opinions_url(item))
    return render_template("liaison/opinion_edit.html", submission=item, comment=comment, form=form)


@bp.route("/submissions/<int:submission_id>/opinions/<int:comment_id>/delete", methods=["POST"])
@liaison_required
def opinion_delete(submission_id: int, comment_id: int):
    item = _own_editable(submission_id)
    comment = db.session.get(Comment, comment_id)
    if comment is None or comment.submission_id != item.id:
        abort(404)
    if ConfirmForm().validate_on_submit():
        liaison.delete_opinion(comment)
        db.session.commit()
        flash(_("意见已删除。"), "success")
    return redirect(_opinions_url(item))


@bp.route("/submissions/<int:submission_id>/import", methods=["POST"])
@liaison_required
def opinion_import(submission_id: int):
    """Validate the whole file first; save every row or none."""
    item = _own_editable(submission_id)
    from portal.liaison import spreadsheet

    closed = liaison.window_problem(item.draft)
    if closed is not None:
        # Said before the file is read: no list of cell errors for a file that cannot go in.
        return _window_refusal(item, closed)

    form = UploadForm(prefix="import")
    if not form.validate_on_submit():
        return _submission_page(item, import_errors=[_("请选择要导入的文件。")], status=422)
    upload = form.file.data
    data = upload.read(spreadsheet.MAX_BYTES + 1)
    result = spreadsheet.read_upload(
        upload.filename or "", data, article_numbers={a.number for a in item.draft.articles}
    )
    if not result.ok:
        messages = [spreadsheet.error_message(e) for e in result.errors] or [_("文件中没有意见。")]
        return _submission_page(item, import_errors=messages, status=422)
    opinions = [
        liaison.OpinionData(
            body=row.body,
            article=row.article,
            article_fixed=True,
            stance=row.stance,
            identity=row.identity,
            raised_by=row.raised_by,
        )
        for row in result.rows
    ]
    try:
        liaison.add_opinions(item, opinions, current_user)
    except liaison.LiaisonError as error:
        db.session.rollback()
        if refused := _window_refusal(item, error):
            return refused
        return _submission_page(item, import_errors=[error_message(error)], status=422)
    db.session.commit()
    flash(ngettext_count(len(opinions)), "success")
    return redirect(_opinions_url(item))


def ngettext_count(n: int) -> str:
    return ngettext("已导入 %(num)d 条意见。", "已导入 %(num)d 条意见。", n)


@bp.route("/template.xlsx")
@login_required
def template():
    from portal.liaison import spreadsheet

    draft = (
        drafts.get_public_draft(request.args.get("draft", ""))
        if request.args.get("draft")
        else None
    )
    data = spreadsheet.build_template(
        [a.number for a in draft.articles] if draft else None, draft.title if draft else None
    )
    import io

    return send_file(
        io.BytesIO(data),
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        as_attachment=True,
        download_name="意见汇总表模板.xlsx",
    )


@bp.route("/submissions/<int:submission_id>/attachments", methods=["POST"])
@liaison_required
def attachment_add(submission_id: int):
    item = _own_editable(submission_id)
    form = UploadForm(prefix="attach")
    if not form.validate_on_submit():
        return _submission_page(item, status=422)
    upload = form.file.data
    data = upload.read(current_app.config["ATTACHMENT_MAX_BYTES"] + 1)
    try:
        liaison.save_attachment(item, upload.filename or "", data, current_user)
    except liaison.LiaisonError as error:
        db.session.rollback()
        if refused := _window_refusal(item, error):
            return refused
        flash(error_message(error), "danger")
        return redirect(url_for("liaison.submission", submission_id=item.id, _anchor="attachments"))
    db.session.commit()
    flash(_("附件已上传。"), "success")
    return redirect(url_for("liaison.submission", submission_id=item.id, _anchor="attachments"))


@bp.route("/attachments/<int:attachment_id>")
@login_required
def attachment(attachment_id: int):
    item = liaison.get_attachment(current_user, attachment_id) or abort(404)
    path = liaison.attachment_path(item)
    if not path.exists():
        abort(404)
    response = send_file(
        path, mimetype=item.content_type, as_attachment=True, download_name=item.filename
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.route("/attachments/<int:attachment_id>/delete", methods=["POST"])
@liaison_required
def attachment_delete(attachment_id: int):
    item = liaison.get_attachment(current_user, attachment_id) or abort(404)
    submission_id = item.submission_id
    if ConfirmForm().validate_on_submit():
        try:
            liaison.delete_attachment(item)
        except liaison.LiaisonError as error:
            db.session.rollback()
            flash(error_message(error), "danger")
        else:
            db.session.commit()
            flash(_("附件已删除。"), "success")
    return redirect(url_for("liaison.submission", submission_id=submission_id))


@bp.route("/submissions/<int:submission_id>/submit", methods=["POST"])
@liaison_required
def submission_submit(submission_id: int):
    item = _own_editable(submission_id)
    if ConfirmForm().validate_on_submit():
        # Sent only from the repeat warning's "submit anyway" button.
        anyway = request.form.get("repeats") == liaison.REPEATS_INCLUDE
        try:
            liaison.submit(
                item,
                current_user,
                repeats=liaison.REPEATS_INCLUDE if anyway else liaison.REPEATS_WARN,
            )
        except liaison.LiaisonError as error:
            db.session.rollback()
            if refused := _window_refusal(item, error):
                return refused
            if error.code == "repeats_found":
                # The page lists them with the two ways on: leave them out or send anyway.
                return _submission_page(item, error=error_message(error), status=409)
            flash(error_message(error), "danger")
        else:
            db.session.commit()
            flash(_("已报送，回执编号 %(code)s。", code=item.receipt_code), "success")
    return redirect(url_for("liaison.submission", submission_id=item.id))


@bp.route("/submissions/<int:submission_id>/repeats/leave-out", methods=["POST"])
@liaison_required
def repeats_leave_out(submission_id: int):
    """Remove in one action every opinion of the batch that the point already sent."""
    item = _own_editable(submission_id)
    if ConfirmForm().validate_on_submit():
        removed = liaison.leave_out_repeats(item, current_user)
        db.session.commit()
        flash(
            ngettext(
                "已去掉 %(num)d 条此前报送过的意见。",
                "已去掉 %(num)d 条此前报送过的意见。",
                len(removed),
            ),
            "success",
        )
    return redirect(_opinions_url(item))


@bp.route("/feedback")
@liaison_required
def feedback():
    point = _my_point()
    draft_slug = request.args.get("draft") or None
    draft = drafts.get_draft(draft_slug) if draft_slug else None
    opinions = liaison.point_opinions(point, draft.id if draft else None)
    return render_template("liaison/feedback.html", opinions=opinions, draft=draft, point=point)


# --- the drafting team's view across points -------------------------------------------------


@bp.route("/overview")
@staff_required
def overview():
    rows, city = liaison.overview()
    return render_template("liaison/overview.html", rows=rows, city=city)


@bp.route("/points/<int:point_id>/submissions")
@staff_required
def point_submissions(point_id: int):
    point = db.session.get(LiaisonPoint, point_id) or abort(404)
    items = [
        s for s in liaison.submissions_for_point(point) if s.status == SubmissionStatus.submitted
    ]
    return render_template("liaison/point_submissions.html", point=point, submissions=items)


@bp.route("/assign", methods=["GET", "POST"])
@staff_required
def assign():
    available = [d for d in drafts.public_drafts() if d.status.value == "consulting"]
    points = list(
        db.session.scalars(
            select(LiaisonPoint).where(LiaisonPoint.active.is_(True)).order_by(LiaisonPoint.code)
        )
    )
    form = AssignForm(drafts=available, points=points)
    if form.validate_on_submit():
        draft = next(d for d in available if d.slug == form.draft.data)
        chosen = (
            points
            if form.all_points.data
            else [p for p in points if str(p.id) in set(form.points.data or [])]
        )
        if not chosen:
            form.points.errors.append(_("请至少选择一个联系点，或勾选“发送给全部联系点”。"))
        else:
            try:
                liaison.assign_draft(
                    draft,
                    chosen,
                    due_on=form.due_on.data,
                    focus_questions=form.focus_questions.data or "",
                    actor=current_user,
                )
            except liaison.LiaisonError as error:
                db.session.rollback()
                form.draft.errors.append(error_message(error))
            else:
                db.session.commit()
                flash(_("已向 %(n)d 个联系点发送征询任务。", n=len(chosen)), "success")
                return redirect(url_for("liaison.overview"))
    return render_template("liaison/assign.html", form=form)
