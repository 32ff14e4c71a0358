"""Jobs: work too long for a request (exports, the report, reclustering, retraining), run by the
worker, with progress the person who started it can watch."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from portal.extensions import db
from portal.models.enums import JobState, enum_type
from portal.models.types import UTCDateTime, utcnow


class Job(db.Model):
    """One run of a job kind (portal/jobs/kinds.py) for one person.

    The row is the record: the queue (Huey) only carries its id, so a lost queue message is
    re-sent by the worker's sweep and a second delivery finds the job already claimed.
    """

    __tablename__ = "jobs"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(64))
    owner_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    # What the job works on, for the page that shows it (a draft's slug, say) and the handler.
    params: Mapped[dict] = mapped_column(JSON, default=dict)
    state: Mapped[JobState] = mapped_column(enum_type(JobState), default=JobState.queued)
    # Progress: `done` of `total` steps (total 0 while unknown).
    done: Mapped[int] = mapped_column(default=0)
    total: Mapped[int] = mapped_column(default=0)
    attempts: Mapped[int] = mapped_column(default=0)
    # What the job produced: a file under the instance folder's jobs/ and/or a few figures.
    result_file: Mapped[str] = mapped_column(String(255), default="")
    result_name: Mapped[str] = mapped_column(String(255), default="")
    result_mime: Mapped[str] = mapped_column(String(127), default="")
    result: Mapped[dict] = mapped_column(JSON, default=dict)
    # A message for the person when the job could not do its work (already translated at
    # the time; the technical detail goes to the log only).
    error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Written with each progress report: a running job whose heartbeat stops was lost with its
    # worker (kill -9, a crash) and is queued again by the sweep.
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    @property
    def finished(self) -> bool:
        return self.state in (JobState.done, JobState.failed)

    @property
    def percent(self) -> int | None:
        if self.state is JobState.done:
            return 100
        if not self.total:
            return None
        return min(99, int(100 * self.done / self.total))

    def __repr__(self) -> str:
        return f"<Job {self.id} {self.kind} {self.state}>"
