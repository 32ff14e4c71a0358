"""Starting a job through its page and fetching what it made, as a person would."""

from __future__ import annotations

import re

from flask.testing import FlaskClient


def run_job(client: FlaskClient, url: str, data: dict | None = None) -> int:
    """POST the form that starts a job; return the job's id (tests run jobs at once)."""
    response = client.post(url, data=data or {})
    assert response.status_code == 302, f"{url} answered {response.status_code}, not a redirect"
    match = re.search(r"/jobs/(\d+)$", response.headers["Location"])
    assert match, response.headers["Location"]
    return int(match.group(1))


def job_download(client: FlaskClient, url: str, data: dict | None = None):
    """Start the job, check its page offers the download, and download it."""
    job_id = run_job(client, url, data)
    page = client.get(f"/jobs/{job_id}")
    assert page.status_code == 200
    assert f"/jobs/{job_id}/download".encode() in page.data, page.data.decode()[:2000]
    response = client.get(f"/jobs/{job_id}/download")
    response.get_data()  # read (and keep) the body, then close the file it streamed from
    response.close()
    return response
