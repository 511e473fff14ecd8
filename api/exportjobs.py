"""Export jobs: a filtered export too large to build in the request runs on the task worker.

The export endpoints count the matching rows (one COUNT query); above
``SUNLIGHT_EXPORT_SYNC_MAX_ROWS`` they answer 202 with the URL of a job instead of the file.
A job lives in ``<SUNLIGHT_VAR_DIR>/exports/<id>/``: ``job.json`` (written by the request:
format, query, the moment it reflects, who may read it, the task's id) and ``state.json``
(written by the task: status, progress, row count), then the file itself. The id is a random
UUID; the task result (django-tasks; with ``django_tasks_db``, its ``DBTaskResult`` row) says
whether the job waits, runs or failed. Jobs are deleted ``SUNLIGHT_EXPORT_RETENTION_HOURS``
after they were asked for (``purge_expired``, run whenever a job is asked for or runs).

The job filters with the very backends of the export view (``ExportFiltering``), on the query
the request validated, in the request's language, and counts the rows public at the request's
moment (``selectors.frozen_disbursements``): its file is the one the request would have sent.
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.http import HttpRequest, QueryDict
from django.utils import timezone, translation
from django_filters.rest_framework import DjangoFilterBackend
from django_tasks import TaskResultStatus, task
from django_tasks.exceptions import TaskException
from rest_framework.request import Request

from api import filters, selectors
from publicity.exports import CSV_CONTENT_TYPE, XLSX_CONTENT_TYPE, Cell, write_csv, write_xlsx

FORMATS = {"csv": CSV_CONTENT_TYPE, "xlsx": XLSX_CONTENT_TYPE}
PROGRESS_EVERY = 5000  # rows between two progress reports


class ExportFiltering:
    """The filters and ordering of an export, shared by its view and its job."""

    filterset_class = filters.DisbursementFilter
    filter_backends = [DjangoFilterBackend, filters.DisbursementOrdering]


def filtered(request: Request, rows: Any) -> Any:
    """Apply the export's filters and ordering from REQUEST's query to ROWS (as the view does)."""
    view = ExportFiltering()
    view.request = request  # type: ignore[attr-defined]
    for backend in view.filter_backends:
        rows = backend().filter_queryset(request, rows, view)
    return rows


# Where jobs live


def jobs_dir() -> Path:
    return Path(settings.VAR_DIR) / "exports"


def job_dir(job_id: str) -> Path | None:
    """Return the folder of job JOB_ID, or None if the id is no UUID or names no job."""
    try:
        canonical = str(uuid.UUID(job_id))
    except (TypeError, ValueError, AttributeError):
        return None
    if canonical != job_id:
        return None
    folder = jobs_dir() / canonical
    return folder if (folder / "job.json").is_file() else None


def _read(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return {}


def _write(path: Path, data: dict[str, Any]) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    tmp.replace(path)


def file_name(job: dict[str, Any]) -> str:
    return f"disbursements.{job['format']}"


def retention() -> timedelta:
    return timedelta(hours=settings.SUNLIGHT_EXPORT_RETENTION_HOURS)


def expired(job: dict[str, Any], now: datetime | None = None) -> bool:
    return datetime.fromisoformat(job["created_at"]) + retention() <= (now or timezone.now())


def purge_expired(now: datetime | None = None) -> int:
    """Delete the jobs asked for longer ago than the retention; return how many."""
    root = jobs_dir()
    if not root.is_dir():
        return 0
    gone = 0
    for folder in root.iterdir():
        job = _read(folder / "job.json")
        if folder.is_dir() and (not job or expired(job, now)):
            shutil.rmtree(folder, ignore_errors=True)
            gone += 1
    return gone


# Asking for a job


def start(
    *, fmt: str, query: list[tuple[str, str]], as_of: datetime | None, auditor: bool, rows: int
) -> str:
    """Record a job for the export FMT of QUERY and queue it; return its id.

    AS_OF is the moment the caller asked about (None: the request's moment, fixed now).
    """
    purge_expired()
    job_id = str(uuid.uuid4())
    folder = jobs_dir() / job_id
    folder.mkdir(parents=True)
    now = timezone.now()
    job = {
        "id": job_id,
        "format": fmt,
        "query": query,
        "as_of": as_of.isoformat() if as_of else None,
        "frozen_at": now.isoformat(),
        "auditor": auditor,
        "language": translation.get_language() or settings.LANGUAGE_CODE,
        "rows": rows,
        "created_at": now.isoformat(),
        "task_id": None,
    }
    _write(folder / "job.json", job)
    _write(folder / "state.json", {"status": "queued", "rows_done": 0})
    result = run_export_job.enqueue(job_id)
    _write(folder / "job.json", {**job, "task_id": str(result.id)})
    return job_id


def read(job_id: str, *, auditor: bool) -> dict[str, Any] | None:
    """Return job JOB_ID as its status answer says it, or None if there is no such job for
    this caller (an auditor's job is only for auditors; a job past retention is gone)."""
    folder = job_dir(job_id)
    if folder is None:
        return None
    job = _read(folder / "job.json")
    if not job or expired(job) or (job["auditor"] and not auditor):
        return None
    state = _read(folder / "state.json")
    status = state.get("status", "queued")
    task_status = _task_status(job.get("task_id"))
    if task_status == TaskResultStatus.FAILED or (
        task_status == TaskResultStatus.SUCCESSFUL and status != "done"
    ):
        status = "failed"  # the worker died or the task raised before it could say so
    total = job["rows"]
    done = state.get("rows_done", 0)
    progress = 100 if status == "done" else min(99, done * 100 // total) if total else 0
    return {
        **job,
        "status": status,
        "rows_done": done,
        "progress": progress,
        "as_of": job["as_of"] or job["frozen_at"],
        "expires_at": (datetime.fromisoformat(job["created_at"]) + retention()).isoformat(),
        "path": folder / file_name(job) if status == "done" else None,
    }


def _task_status(task_id: str | None) -> str | None:
    """The status of the job's task as the task backend knows it (None if it cannot say)."""
    backend = run_export_job.get_backend()
    if not task_id or not backend.supports_get_result:
        return None
    try:
        return run_export_job.get_result(task_id).status
    except TaskException:  # a result pruned or unknown: the job's own state stands
        return None


# Running a job


@task()
def run_export_job(job_id: str) -> dict[str, Any]:
    """Write the file of export job JOB_ID, reporting progress; a failure marks it failed."""
    purge_expired()
    folder = job_dir(job_id)
    if folder is None:
        return {"status": "gone"}
    job = _read(folder / "job.json")
    state = folder / "state.json"
    _write(state, {"status": "running", "rows_done": 0})
    try:
        with translation.override(job["language"]):
            done = _write_file(
                folder, job, lambda n: _write(state, {"status": "running", "rows_done": n})
            )
    except Exception:
        _write(state, {"status": "failed", "rows_done": 0})
        (folder / (file_name(job) + ".tmp")).unlink(missing_ok=True)
        raise
    _write(state, {"status": "done", "rows_done": done})
    return {"status": "done", "rows": done}


def job_request(job: dict[str, Any]) -> Request:
    """Rebuild the request's query for the filter backends."""
    http = HttpRequest()
    http.method = "GET"
    http.GET = QueryDict(mutable=True)
    for name, value in job["query"]:
        http.GET.appendlist(name, value)
    return Request(http)


def _write_file(folder: Path, job: dict[str, Any], report) -> int:
    as_of = datetime.fromisoformat(job["as_of"]) if job["as_of"] else None
    frozen_at = datetime.fromisoformat(job["frozen_at"])
    request = job_request(job)
    asked = request.query_params.getlist("batch_status")
    rows = selectors.frozen_disbursements(
        auditor=job["auditor"], asked=asked, as_of=as_of, frozen_at=frozen_at
    )
    rows = filtered(request, rows)
    counter = {"rows": 0}

    def counted(cells: Iterator[list[Cell]]) -> Iterator[list[Cell]]:
        for row in cells:
            counter["rows"] += 1
            if counter["rows"] % PROGRESS_EVERY == 0:
                report(counter["rows"])
            yield row

    header = selectors.export_header()
    tmp = folder / (file_name(job) + ".tmp")
    with tmp.open("wb") as out:
        if job["format"] == "xlsx":
            cap = getattr(settings, "SUNLIGHT_API_XLSX_MAX_ROWS", 1_000_000)
            write_xlsx(
                out, header, counted(selectors.export_rows(rows=rows, limit=cap)),
                title="disbursements", number_formats=selectors.EXPORT_NUMBER_FORMATS,
                notes=selectors.export_notes(as_of=as_of or frozen_at, query=job["query"]),
            )  # fmt: skip
        else:
            write_csv(out, header, counted(selectors.export_rows(rows=rows)))
        out.flush()
        os.fsync(out.fileno())
    tmp.replace(folder / file_name(job))
    return counter["rows"]
