"""The drafting team's long work as jobs (portal/jobs): exports, the adoption report and
reclustering. Each runs in the worker in the language of the person who asked for it."""

from __future__ import annotations

from flask import url_for
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from werkzeug.datastructures import MultiDict

from portal.extensions import db
from portal.jobs.services import JobFailed, Outcome, Progress, job_kind
from portal.models import Draft, Job, Role, User

STAFF = (Role.drafter, Role.admin)
MIMETYPES = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv; charset=utf-8",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
}
_GONE = {"draft_gone": _l("这部草案已被删除。")}


def _draft(job: Job) -> Draft:
    draft = db.session.get(Draft, job.params.get("draft_id"))
    if draft is None:
        raise JobFailed("draft_gone")
    return draft


def _back_to(endpoint: str):
    def back(job: Job) -> str:
        args = MultiDict(job.params.get("args", [])).to_dict(flat=False)
        return url_for(endpoint, slug=job.params.get("slug", ""), **args)

    return back


@job_kind(
    "review.export",
    title=_l("导出意见"),
    roles=STAFF,
    back=_back_to("review.search"),
    errors=_GONE,
    summary=lambda job: _l("已导出 %(n)d 条意见。") % {"n": job.result.get("opinions", 0)},
)
def export_opinions(job: Job, progress: Progress) -> Outcome:
    """Every opinion matching the search the person saw, as .xlsx or .csv."""
    # Imported here: the views import this module, and exports pulls openpyxl (slow to import).
    from portal.review import exports, search_params
    from portal.search.backend import get_backend

    draft = _draft(job)
    fmt = job.params["fmt"]
    owner = db.session.get(User, job.owner_id)
    with force_locale(job.params.get("locale", "zh_Hans_CN")):
        params = search_params.params_from(MultiDict(job.params.get("args", [])), draft)
        ids = get_backend().matching_ids(params, limit=job.params.get("limit"))
        items = progress.iterate(exports.iter_for_export(ids), len(ids))
        # Contact details only for the roles that may see them, as they hold it now.
        include_contact = bool(owner and owner.is_staff)
        writer = exports.export_xlsx if fmt == "xlsx" else exports.export_csv
        data = writer(items, include_contact=include_contact)
    return Outcome(data, f"{draft.slug}-opinions.{fmt}", MIMETYPES[fmt], {"opinions": len(ids)})


@job_kind(
    "review.report",
    title=_l("意见采纳情况说明"),
    roles=STAFF,
    back=_back_to("review.stats"),
    errors=_GONE,
)
def adoption_report(job: Job, progress: Progress) -> Outcome:
    from portal.review import report

    draft = _draft(job)
    with force_locale(job.params.get("locale", "zh_Hans_CN")):
        data = report.build_adoption_report(draft)
        name = report.report_filename(draft)
    return Outcome(data, name, MIMETYPES["docx"])


@job_kind(
    "review.recluster",
    title=_l("重新识别雷同意见"),
    roles=STAFF,
    back=_back_to("review.clusters"),
    errors=_GONE,
    summary=lambda job: _l("已重新识别雷同意见：%(clusters)d 组，共 %(clustered)d 条。")
    % {"clusters": job.result.get("clusters", 0), "clustered": job.result.get("clustered", 0)},
)
def recluster(job: Job, progress: Progress) -> Outcome:
    from portal.review import clustering

    draft = _draft(job)
    result = clustering.recluster_draft(draft.id)
    return Outcome(
        result={
            "clusters": result.clusters,
            "clustered": result.clustered,
            "changed": result.changed,
        }
    )


@job_kind("review.train", title=_l("学习分类建议"), roles=())
def train_suggestions(job: Job, progress: Progress) -> Outcome:
    """Fit the draft's category suggestions on the team's labels (portal/review/suggest.py)."""
    from portal.review import suggest

    draft = _draft(job)
    key = suggest.labels_key(draft.id)
    model = suggest.train(draft.id)
    suggest.store_model(draft.id, key, model)
    return Outcome(result={"labelled": key[0], "trained": model is not None})
