"""The pages where a person watches their job and downloads what it made."""

from __future__ import annotations

from flask import abort, jsonify, render_template, send_file, url_for
from flask_babel import format_decimal
from flask_babel import gettext as _
from flask_login import current_user, login_required

from portal.jobs import bp
from portal.jobs import services as jobs


def _own_job(job_id: int):
    # Another person's job is "not found", never "forbidden": its existence is not theirs.
    job = jobs.visible_job(job_id, current_user)
    if job is None:
        abort(404)
    return job


def status_of(job) -> dict:
    """What the page's script polls: the same facts the page shows."""
    return {
        "id": job.id,
        "state": job.state.value,
        "done": job.done,
        "total": job.total,
        "percent": job.percent,
        "finished": job.finished,
        "url": url_for("jobs.show", job_id=job.id),
        "count_text": count_text(job),
    }


def count_text(job) -> str:
    if not job.total:
        return ""
    return _(
        "已处理 %(done)s / %(total)s",
        done=format_decimal(job.done),
        total=format_decimal(job.total),
    )


@bp.route("/")
@login_required
def index():
    return render_template("jobs/index.html", jobs=jobs.recent_jobs(current_user), kinds=jobs.KINDS)


@bp.route("/<int:job_id>")
@login_required
def show(job_id: int):
    job = _own_job(job_id)
    kind = jobs.KINDS.get(job.kind)
    return render_template(
        "jobs/show.html",
        job=job,
        kind=kind,
        back=kind.back(job) if kind and kind.back else None,
        summary=kind.summary(job) if kind and kind.summary and job.state.value == "done" else None,
        error=jobs.error_text(job) if job.state.value == "failed" else None,
        file=jobs.result_path(job),
        count_text=count_text(job),
    )


@bp.route("/<int:job_id>/status")
@login_required
def status(job_id: int):
    response = jsonify(status_of(_own_job(job_id)))
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.route("/<int:job_id>/download")
@login_required
def download(job_id: int):
    job = _own_job(job_id)
    path = jobs.result_path(job)
    if path is None:
        abort(404)
    response = send_file(
        path, mimetype=job.result_mime, as_attachment=True, download_name=job.result_name
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response
