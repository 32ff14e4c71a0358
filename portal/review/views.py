"""The drafting team's workbench: search, bulk actions, categories, clause review, statistics."""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select
from werkzeug.datastructures import MultiDict

from portal.auth.decorators import staff_required
from portal.comments import services as comments
from portal.drafts import services as drafts
from portal.extensions import db, talisman
from portal.jobs import services as jobs
from portal.models import (
    Category,
    Comment,
    CommentStatus,
    Decision,
    Draft,
    LiaisonPoint,
    ResponseTemplate,
    comment_categories,
)
from portal.numerals import parse_int
from portal.review import bp, charts, search_params
from portal.review import services as review
from portal.review.charts import charts_policy
from portal.review.forms import (
    BulkForm,
    CategoryForm,
    ClusterDecisionForm,
    ConfirmForm,
    DecisionForm,
    MergeForm,
    TemplateForm,
)
from portal.search import get_backend

PAGE_SIZE = 50
PER_PAGE = 20
# "All results" bulk actions touch at most this many opinions at once.
MAX_BULK = 20_000
# Pages beyond this hold nothing anyway; a bigger number would only overflow an OFFSET.
MAX_PAGE = 100_000


def review_error(error: review.ReviewError) -> str:
    messages = {
        "category_exists": _("已有名为“%(name)s”的分类。", name=error.params.get("name", "")),
        "category_name_required": _("请填写分类名称。"),
        "bad_merge": _("请选择两个不同的分类。"),
        "template_incomplete": _("请填写模板名称和答复内容。"),
        "article_unknown": _("草案中没有第 %(n)s 条。", n=error.params.get("number", "?")),
        "category_unknown": _("这个分类不属于本草案。"),
        "bad_target": _("请填写本草案中一条意见的编号。"),
        "decision_required": _("请选择处理结果。"),
    }
    return messages.get(error.code, _("操作未成功，请检查后重试。"))


def _page() -> int:
    """?page=N: any junk, or a page beyond any result, is page 1 / an empty page, never a 500."""
    return parse_int(request.args.get("page"), 1, minimum=1, maximum=MAX_PAGE)


def _draft(slug: str) -> Draft:
    return drafts.get_draft(slug) or abort(404)


@bp.route("/")
@staff_required
def index():
    from portal.figures import Scope, compute

    items = list(db.session.scalars(select(Draft).order_by(Draft.id.desc())))
    per_draft = compute(Scope.staff, by="draft")  # docs/figures.md
    counts = {draft_id: f.opinions for draft_id, f in per_draft.items()}
    undecided = {draft_id: f.undecided for draft_id, f in per_draft.items()}
    return render_template("review/index.html", drafts=items, counts=counts, undecided=undecided)


@bp.route("/drafts/<slug>/comments")
@staff_required
def draft_comments(slug: str):
    draft = _draft(slug)
    page = db.paginate(
        select(Comment)
        .where(Comment.draft_id == draft.id, comments.staff_visible())
        .order_by(Comment.created_at.desc(), Comment.id.desc()),
        page=_page(),
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
    from portal.models import AuditEntry

    history = list(
        db.session.scalars(
            select(AuditEntry)
            .where(AuditEntry.object_type == "Comment", AuditEntry.object_id == item.id)
            .order_by(AuditEntry.created_at.desc())
        )
    )
    return render_template("review/comment.html", comment=item, form=form, history=history)


# --- search and bulk actions -------------------------------------------------------------------


def _load(ids: list[int]) -> list[Comment]:
    """Rows for the ids the index returned, in rank order, checked again for visibility."""
    if not ids:
        return []
    rows = {
        c.id: c
        for c in db.session.scalars(
            select(Comment).where(Comment.id.in_(ids), comments.staff_visible())
        )
    }
    return [rows[i] for i in ids if i in rows]


@bp.route("/drafts/<slug>/search")
@staff_required
def search(slug: str):
    draft = _draft(slug)
    params = search_params.params_from(request.args, draft)
    page = _page()
    result = get_backend().search(params, page=page, per_page=PER_PAGE)
    categories = review.categories_for(draft)
    db.session.commit()  # the default categories, created on first use
    form = BulkForm(
        draft=draft,
        categories=categories,
        templates=review.response_templates(draft),
        total=result.total,
    )
    form.query.data = request.query_string.decode()
    items = _load(result.ids)
    from portal.review import clustering, suggest

    model = suggest.model_for(draft.id)
    opinions, distinct = clustering.cluster_counts(draft.id)
    return render_template(
        "review/search.html",
        draft=draft,
        params=params,
        result=result,
        items=items,
        suggestions=suggest.suggestions_for(items, draft, model=model),
        points={p.code: p for p in db.session.scalars(select(LiaisonPoint))},
        model=model,
        distinct=distinct,
        opinions=opinions,
        confirm=ConfirmForm(),
        categories={c.id: c for c in categories},
        form=form,
        args=request.args,
        url_args=search_params.url_args,
        toggle_category=search_params.toggle_category,
    )


@bp.route("/search")
@staff_required
def search_all():
    """Every opinion on every draft; the draft is a facet like the others."""
    params = search_params.params_from(request.args, None)
    page = _page()
    result = get_backend().search(params, page=page, per_page=PER_PAGE)
    drafts_by_id = {d.id: d for d in db.session.scalars(select(Draft))}
    return render_template(
        "review/search_all.html",
        params=params,
        result=result,
        items=_load(result.ids),
        drafts_by_id=drafts_by_id,
        args=request.args,
        url_args=search_params.url_args,
    )


@bp.route("/drafts/<slug>/bulk", methods=["POST"])
@staff_required
def bulk(slug: str):
    from urllib.parse import parse_qs

    from werkzeug.datastructures import MultiDict

    draft = _draft(slug)
    categories = review.categories_for(draft)
    form = BulkForm(draft=draft, categories=categories, templates=review.response_templates(draft))
    query_args = MultiDict(
        [(k, v) for k, values in parse_qs(form.query.data or "").items() for v in values]
    )
    back = url_for("review.search", slug=draft.slug, **query_args)
    if not form.validate_on_submit():
        flash(_("请求无法处理。如果您在提交表单，页面可能已过期，请刷新后重试。"), "danger")
        return redirect(back)
    if form.scope.data == "all":
        ids = _all_matching_ids(draft, query_args)
    else:
        ids = [n for v in request.form.getlist("ids") if (n := parse_int(v)) is not None]
    items = review.visible_comments(draft, ids)
    if not items:
        flash(_("请先勾选意见。"), "warning")
        return redirect(back)
    try:
        result = _apply_bulk(form, draft, items, categories)
    except review.ReviewError as error:
        db.session.rollback()
        flash(review_error(error), "danger")
        return redirect(back)
    except comments.CommentRejected:
        db.session.rollback()
        flash(_("公开答复前，请选择处理结果并填写答复。"), "danger")
        return redirect(back)
    db.session.commit()
    flash(
        _(
            "已处理 %(changed)d 条意见（%(skipped)d 条无需改动）。",
            changed=result.changed,
            skipped=result.skipped,
        ),
        "success",
    )
    return redirect(back)


def _all_matching_ids(draft, query_args) -> list[int]:
    params = search_params.params_from(query_args, draft)
    return get_backend().matching_ids(params, limit=MAX_BULK)


def _apply_bulk(form: BulkForm, draft: Draft, items, categories):
    action = form.action.data
    by_id = {str(c.id): c for c in categories}
    if action in ("add_category", "remove_category"):
        category = by_id.get(form.category.data) or abort(400)
        apply = review.add_category if action == "add_category" else review.remove_category
        return apply(items, category, current_user)
    if action == "set_article":
        number = parse_int(form.article.data, minimum=1)
        return review.set_article(items, draft, number, current_user)
    response = form.response.data or ""
    if form.template.data:
        template_id = parse_int(form.template.data)
        template = db.session.get(ResponseTemplate, template_id) if template_id else None
        if template is not None and not response:
            response = template.body
    if action == "decide":
        if not form.decision.data:  # optional for the other actions, so "" passes the form
            raise review.ReviewError("decision_required")
        return review.decide(
            items,
            decision=Decision(form.decision.data),
            response=response,
            publish=form.publish.data,
            actor=current_user,
        )
    if action == "merge_into":
        target_id = (form.target.data or "").strip().lstrip("#")
        target_number = parse_int(target_id, minimum=1)
        target = comments.get_for_staff(target_number) if target_number else None
        if target is None or target.draft_id != draft.id:
            raise review.ReviewError("bad_target")
        return review.merge_into(
            items, target, response=response, publish=form.publish.data, actor=current_user
        )
    abort(400)


# --- categories and response templates -------------------------------------------------------


@bp.route("/drafts/<slug>/categories", methods=["GET", "POST"])
@staff_required
def categories(slug: str):
    draft = _draft(slug)
    items = review.categories_for(draft)
    db.session.commit()
    form = CategoryForm(prefix="new")
    merge_form = MergeForm(prefix="merge", categories=items)
    template_form = TemplateForm(prefix="tpl")
    try:
        if form.submit.data and form.validate_on_submit():
            review.save_category(
                draft,
                None,
                name=form.name.data,
                name_en=form.name_en.data or "",
                keywords=form.keywords.data or "",
                actor=current_user,
            )
            db.session.commit()
            flash(_("分类已添加。"), "success")
            return redirect(url_for("review.categories", slug=draft.slug))
        if merge_form.submit.data and merge_form.validate_on_submit():
            source = db.session.get(Category, int(merge_form.source.data))
            target = db.session.get(Category, int(merge_form.target.data))
            if source is None or target is None or source.draft_id != draft.id:
                abort(400)
            moved = review.merge_categories(source, target, current_user)
            db.session.commit()
            flash(_("已合并，%(n)d 条意见移入“%(name)s”。", n=moved, name=target.name), "success")
            return redirect(url_for("review.categories", slug=draft.slug))
        if template_form.submit.data and template_form.validate_on_submit():
            review.save_template(
                draft,
                title=template_form.title.data,
                body=template_form.body.data,
                actor=current_user,
            )
            db.session.commit()
            flash(_("答复模板已保存。"), "success")
            return redirect(url_for("review.categories", slug=draft.slug))
    except review.ReviewError as error:
        db.session.rollback()
        flash(review_error(error), "danger")
    link = comment_categories.c.category_id
    counts = dict(db.session.execute(select(link, func.count()).group_by(link)).all())
    return render_template(
        "review/categories.html",
        draft=draft,
        categories=items,
        counts=counts,
        form=form,
        merge_form=merge_form,
        template_form=template_form,
        templates=review.response_templates(draft),
    )


@bp.route("/drafts/<slug>/categories/<int:category_id>", methods=["GET", "POST"])
@staff_required
def category_edit(slug: str, category_id: int):
    draft = _draft(slug)
    category = db.session.get(Category, category_id)
    if category is None or category.draft_id != draft.id:
        abort(404)
    form = CategoryForm(obj=category)
    if form.validate_on_submit():
        try:
            review.save_category(
                draft,
                category,
                name=form.name.data,
                name_en=form.name_en.data or "",
                keywords=form.keywords.data or "",
                actor=current_user,
            )
        except review.ReviewError as error:
            db.session.rollback()
            form.name.errors.append(review_error(error))
        else:
            db.session.commit()
            flash(_("分类已保存。"), "success")
            return redirect(url_for("review.categories", slug=draft.slug))
    return render_template("review/category_edit.html", draft=draft, category=category, form=form)


# --- clause-by-clause review ---------------------------------------------------------------------


@bp.route("/drafts/<slug>/articles/<int:number>")
@bp.route("/drafts/<slug>/articles/whole", defaults={"number": None})
@staff_required
def clause(slug: str, number: int | None):
    draft = drafts.get_readable_draft(slug, current_user) or abort(404)
    try:
        view = review.clause_review(draft, number)
    except review.ReviewError:
        abort(404)
    return render_template("review/clause.html", draft=draft, view=view)


# --- statistics ----------------------------------------------------------------------------------


@bp.route("/drafts/<slug>/stats")
@staff_required
def stats(slug: str):
    from portal.drafts import results

    draft = drafts.get_readable_draft(slug, current_user) or abort(404)
    return render_template(
        "review/stats.html",
        draft=draft,
        stats=review.draft_stats(draft),
        can_publish=results.can_publish(draft),
        confirm=ConfirmForm(),
    )


@bp.route("/drafts/<slug>/results", methods=["POST"])
@staff_required
def publish_results(slug: str):
    """Publish (or withdraw) the consultation's results on the public results page."""
    from portal.drafts import results

    draft = drafts.get_readable_draft(slug, current_user) or abort(404)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    if request.form.get("action") == "withdraw":
        results.withdraw_results(draft, current_user)
        db.session.commit()
        flash(_("征求意见结果已撤回，公众不再能看到。"), "success")
        return redirect(url_for("review.stats", slug=draft.slug))
    try:
        results.publish_results(draft, current_user)
    except results.ResultsError:
        db.session.rollback()
        flash(_("征求意见结束后才能发布结果。"), "warning")
        return redirect(url_for("review.stats", slug=draft.slug))
    db.session.commit()
    flash(_("征求意见结果已发布。"), "success")
    return redirect(url_for("drafts.results_page", slug=draft.slug))


@bp.route("/drafts/<slug>/charts/<name>.svg")
@talisman(content_security_policy=charts_policy())
@staff_required
def chart(slug: str, name: str):
    draft = drafts.get_readable_draft(slug, current_user) or abort(404)
    svg = charts.render(name, review.draft_stats(draft))
    if svg is None:
        abort(404)
    return charts.svg_response(svg)


# --- exports and the adoption report ------------------------------------------------------------


@bp.route("/drafts/<slug>/export.<fmt>", methods=["GET", "POST"])
@staff_required
def export(slug: str, fmt: str):
    """GET asks (a bookmarked or shared link starts nothing); POST starts the export job."""
    if fmt not in ("xlsx", "csv"):
        abort(404)
    draft = _draft(slug)
    form = ConfirmForm()
    # The search the person saw: from the form's hidden fields on POST, the URL on GET.
    source = request.form if request.method == "POST" else request.args
    args = [(k, v) for k, v in source.items(multi=True) if k in search_params.URL_KEYS]
    if form.validate_on_submit():
        from portal.audit import record

        job = jobs.start(
            "review.export",
            current_user,
            draft_id=draft.id,
            slug=draft.slug,
            draft_title=draft.title,
            fmt=fmt,
            args=args,
            limit=MAX_BULK,
            locale=str(get_locale()),
        )
        record(current_user, "export", draft, {"format": fmt, "job": job.id})
        db.session.commit()
        return redirect(url_for("jobs.show", job_id=job.id))
    return render_template(
        "jobs/confirm.html",
        draft=draft,
        title=_("导出意见"),
        text=_(
            "导出当前筛选条件下的全部意见（%(fmt)s 格式）。导出在后台进行，完成后可下载。",
            fmt=fmt.upper(),
        ),
        action=url_for("review.export", slug=draft.slug, fmt=fmt),
        hidden=args,
        form=form,
        button=_("开始导出"),
        back=url_for("review.search", slug=draft.slug, **MultiDict(args).to_dict(flat=False)),
    )


@bp.route("/drafts/<slug>/report.docx", methods=["GET", "POST"])
@staff_required
def report(slug: str):
    draft = _draft(slug)
    form = ConfirmForm()
    if form.validate_on_submit():
        job = jobs.start(
            "review.report",
            current_user,
            draft_id=draft.id,
            slug=draft.slug,
            draft_title=draft.title,
            locale=str(get_locale()),
        )
        db.session.commit()
        return redirect(url_for("jobs.show", job_id=job.id))
    return render_template(
        "jobs/confirm.html",
        draft=draft,
        title=_("意见采纳情况说明"),
        text=_("生成本草案的意见采纳情况说明（Word 文档）。生成在后台进行，完成后可下载。"),
        action=url_for("review.report", slug=draft.slug),
        hidden=[],
        form=form,
        button=_("开始生成"),
        back=url_for("review.stats", slug=draft.slug),
    )


# --- near-duplicates and suggestions ------------------------------------------------------------


@bp.route("/drafts/<slug>/clusters")
@staff_required
def clusters(slug: str):
    from portal.review import clustering

    draft = _draft(slug)
    opinions, distinct = clustering.cluster_counts(draft.id)
    return render_template(
        "review/clusters.html",
        draft=draft,
        clusters=clustering.clusters_for_draft(draft.id),
        opinions=opinions,
        distinct=distinct,
        form_for=lambda cluster_id: ClusterDecisionForm(prefix=f"cluster{cluster_id}"),
        confirm=ConfirmForm(),
    )


@bp.route("/drafts/<slug>/recluster", methods=["POST"])
@staff_required
def recluster(slug: str):
    draft = _draft(slug)
    if ConfirmForm().validate_on_submit():
        job = jobs.start(
            "review.recluster",
            current_user,
            draft_id=draft.id,
            slug=draft.slug,
            draft_title=draft.title,
        )
        db.session.commit()
        return redirect(url_for("jobs.show", job_id=job.id))
    return redirect(url_for("review.clusters", slug=draft.slug))


@bp.route("/clusters/<int:cluster_id>/decide", methods=["POST"])
@staff_required
def cluster_decide(cluster_id: int):
    from portal.models import DuplicateCluster
    from portal.review import clustering

    cluster = db.session.get(DuplicateCluster, cluster_id) or abort(404)
    draft = db.session.get(Draft, cluster.draft_id)
    form = ClusterDecisionForm(prefix=f"cluster{cluster.id}")
    if form.validate_on_submit():
        try:
            changed = clustering.apply_decision_to_cluster(
                cluster,
                actor=current_user,
                decision=Decision(form.decision.data),
                response=form.response.data or "",
                publish=form.publish.data,
            )
        except comments.CommentRejected:
            db.session.rollback()
            flash(_("公开答复前，请选择处理结果并填写答复。"), "danger")
        else:
            db.session.commit()
            flash(_("已对这一组的 %(n)d 条意见作出处理。", n=changed), "success")
    return redirect(url_for("review.clusters", slug=draft.slug))


@bp.route("/comments/<int:comment_id>/accept", methods=["POST"])
@staff_required
def accept(comment_id: int):
    """Confirm a suggestion with one click: an article or a category."""
    from portal.review import suggest

    item = comments.get_for_staff(comment_id) or abort(404)
    back = _safe_back(request.form.get("next")) or url_for("review.comment", comment_id=item.id)
    if not ConfirmForm().validate_on_submit():
        return redirect(back)
    kind, value = request.form.get("kind"), request.form.get("value", "")
    try:
        number = parse_int(value, minimum=1)
        if kind == "article" and number is not None:
            suggest.accept_article(item, number, current_user)
        elif kind == "category" and number is not None:
            category = db.session.get(Category, number) or abort(400)
            suggest.accept_category(item, category, current_user)
        else:
            abort(400)
    except review.ReviewError as error:
        db.session.rollback()
        flash(review_error(error), "danger")
        return redirect(back)
    db.session.commit()
    flash(_("已采用建议。"), "success")
    return redirect(back)


def _safe_back(target: str | None) -> str | None:
    from portal.urls import safe_next_url

    return safe_next_url(target)
