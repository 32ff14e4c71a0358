"""Public reading of drafts, and the drafting team's import of a draft's text."""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.auth.decorators import staff_required
from portal.drafts import bp, importer
from portal.drafts import services as drafts
from portal.drafts.forms import DraftMetaForm, DraftTextForm, StatusFilterForm
from portal.extensions import db
from portal.models import Draft, DraftStatus


@bp.route("/drafts")
def index():
    form = StatusFilterForm(request.args, meta={"csrf": False})
    status = DraftStatus(form.status.data) if form.validate() and form.status.data else None
    items = drafts.public_drafts(status)
    counts = drafts.participation_by_draft([d.id for d in items])
    return render_template("drafts/index.html", drafts=items, counts=counts, form=form)


@bp.route("/drafts/<slug>")
def show(slug: str):
    draft = drafts.get_readable_draft(slug, current_user) or abort(404)
    counts = drafts.participation_by_draft([draft.id]).get(draft.id, drafts.Participation())
    article_counts = drafts.participation_by_article(draft.id)
    return render_template(
        "drafts/show.html", draft=draft, counts=counts, article_counts=article_counts
    )


@bp.route("/drafts/<slug>/print")
def print_view(slug: str):
    draft = drafts.get_readable_draft(slug, current_user) or abort(404)
    return render_template("drafts/print.html", draft=draft)


@bp.route("/manage/drafts")
@staff_required
def manage_index():
    items = list(db.session.scalars(db.select(Draft).order_by(Draft.id.desc())))
    return render_template("drafts/manage_index.html", drafts=items)


@bp.route("/manage/drafts/new", methods=["GET", "POST"])
@staff_required
def create():
    form = DraftMetaForm()
    if form.validate_on_submit():
        draft = drafts.create_draft(form.to_data(), current_user)
        db.session.commit()
        flash(_("草案已创建，请导入正文。"), "success")
        return redirect(url_for("drafts.import_text", slug=draft.slug))
    return render_template("drafts/manage_meta.html", form=form, draft=None)


@bp.route("/manage/drafts/<slug>/edit", methods=["GET", "POST"])
@staff_required
def edit(slug: str):
    draft = drafts.get_draft(slug) or abort(404)
    form = DraftMetaForm(obj=draft, draft=draft)
    if form.validate_on_submit():
        drafts.update_draft(draft, form.to_data(), current_user)
        db.session.commit()
        flash(_("草案信息已保存。"), "success")
        return redirect(url_for("drafts.manage_index"))
    return render_template("drafts/manage_meta.html", form=form, draft=draft)


@bp.route("/manage/drafts/<slug>/text", methods=["GET", "POST"])
@staff_required
def import_text(slug: str):
    """Paste or upload the text, see a preview, then publish it; nothing is saved before."""
    draft = drafts.get_draft(slug) or abort(404)
    form = DraftTextForm()
    preview = None
    status = 200
    if form.validate_on_submit():
        result = importer.read_and_parse(form)
        if result.error:
            form.text.errors.append(result.error)
            status = 422
        elif form.publish.data and form.confirmed.data == "1":
            drafts.replace_text(draft, result.parsed, current_user)
            db.session.commit()
            flash(
                _("正文已更新：%(n)d 条。", n=len(result.parsed.articles)),
                "success",
            )
            return redirect(url_for("drafts.show", slug=draft.slug))
        else:
            preview = importer.Preview.of(result.parsed)
            form.text.data = result.text
            form.confirmed.data = "1"
    return (
        render_template("drafts/manage_text.html", form=form, draft=draft, preview=preview),
        status,
    )


@bp.route("/drafts/<slug>/opinions")
def published_opinions(slug: str):
    """The opinions the drafting team chose to publish, without any personal data."""
    from portal.comments.services import published_comments

    draft = drafts.get_public_draft(slug) or abort(404)
    return render_template("drafts/opinions.html", draft=draft, comments=published_comments(draft))


@bp.route("/drafts/<slug>/results")
def results_page(slug: str):
    """A closed consultation's results, once the drafting team has published them."""
    from portal.drafts import results

    draft = drafts.get_public_draft(slug) or abort(404)
    if draft.results_published_at is None:
        abort(404)
    return render_template(
        "drafts/results.html", draft=draft, figures=results.figures(draft, with_responses=True)
    )


@bp.route("/drafts/<slug>/results/report.docx")
def results_report(slug: str):
    """The adoption report, public with the results (it never holds personal data)."""
    import io

    from flask import send_file

    from portal.figures import Scope
    from portal.review.report import build_adoption_report, report_filename

    draft = drafts.get_public_draft(slug) or abort(404)
    if draft.results_published_at is None:
        abort(404)
    return send_file(
        # Public scope: only published decisions, like the results page (docs/figures.md).
        io.BytesIO(build_adoption_report(draft, Scope.public)),
        mimetype="application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        as_attachment=True,
        download_name=report_filename(draft),
    )
