"""Run the staff flow's two halves in the background (Django's tasks API, django-tasks backport).

``create_job`` saves an upload and queues its staging; ``request_mapping`` stores the columns
staff mapped on a job waiting for them and queues the staging again; ``request_confirm`` queues
the load of a ready job once. The work itself is ``funds.importing.jobs``; a worker
(``manage.py db_worker``) runs the tasks, and the page polls the job row for progress.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_tasks import task

from funds import access, audit
from funds.importing.jobs import (
    abandon_stale_jobs,
    can_retry,
    confirm_import,
    drop_upload,
    remap_roster,
    stage_roster,
)
from funds.importing.retention import purge_import_files
from funds.models import ImportJob, ImportStatus, Program
from privacy import personal
from privacy.logs import log_failure
from villages.models import Township

log = logging.getLogger(__name__)


def _failed(job_id: str) -> None:
    log_failure(log, "import job %s failed", job_id)
    ImportJob.objects.filter(pk=job_id).update(
        status=ImportStatus.FAILED, message=_("处理出错，请联系管理员"), progress=100
    )
    # A failed job is never read again: its upload (raw IDs) goes, as after any staging.
    job = ImportJob.objects.filter(pk=job_id).first()
    if job is not None and job.file:
        drop_upload(job)
        ImportJob.objects.filter(pk=job_id).update(file="")


@task()
def purge_import_files_task() -> str:
    """Delete import files past retention, stale uploads and orphans (the worker's clock)."""
    return str(purge_import_files())


def _run(job_id: str, ready: tuple[str, ...], work: Callable[[ImportJob], object]) -> str:
    """Run WORK on a job in one of the READY states; a failure fails the job, not the worker."""
    job = ImportJob.objects.select_related("program").get(pk=job_id)
    if job.status not in ready:
        return job.status  # already done, or taken by another worker
    try:
        work(job)
    except Exception:
        _failed(job_id)
        return ImportStatus.FAILED
    return job.status


def _user(user_id: int | None) -> Any:
    return get_user_model().objects.filter(pk=user_id).first() if user_id else None


_QUEUED = (ImportStatus.PENDING, ImportStatus.PARSING)


@task()
def stage_import_task(job_id: str) -> str:
    """Parse and validate the uploaded roster of a job and stage it for confirmation."""
    return _run(job_id, _QUEUED, lambda job: stage_roster(job=job))


@task()
def remap_import_task(job_id: str, template_name: str = "", user_id: int | None = None) -> str:
    """Read a job's kept upload again with the columns staff mapped; remember them if asked."""
    return _run(
        job_id, _QUEUED,
        lambda job: remap_roster(job=job, template_name=template_name, user=_user(user_id)),
    )  # fmt: skip


@task()
def confirm_import_task(
    job_id: str, publish: bool = False, user_id: int | None = None, override_reason: str = ""
) -> str:
    """Load a staged job into the database, as a draft or published."""
    return _run(
        job_id, (ImportStatus.READY, ImportStatus.IMPORTING),
        lambda job: confirm_import(
            job=job, user=_user(user_id), publish=publish, override_reason=override_reason
        ),
    )  # fmt: skip


def create_job(
    *, upload: Any, program: Program, period: str, township: str = "", user: Any = None
) -> ImportJob:
    """Save an uploaded roster as a pending job and queue its staging.

    Uploads left waiting for mapping too long are deleted first: there is no other clock.
    A USER needs the upload permission in TOWNSHIP (only a superuser may leave it to the
    roster); the upload is recorded in the audit record.
    """
    town = Township.objects.filter(name=township.strip()).first() if township.strip() else None
    if user is not None:
        access.require(user, "funds.upload_roster", town)
    abandon_stale_jobs()
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    job = ImportJob(
        program=program,
        period=period,
        township_name=township.strip(),
        original_name=Path(upload.name).name[:255],
        sha256=digest.hexdigest(),
        created_by=user if getattr(user, "pk", None) else None,
        message=_("排队等待解析"),
    )
    # A random name on disk: the original name may itself carry personal data.
    job.file.save(f"{job.pk}{Path(upload.name).suffix.lower()}", upload, save=False)
    with transaction.atomic():
        job.save()
        audit.record(
            audit.Kind.UPLOAD, user=user, township=town, obj=job,
            program=program.pk, period=period, sha256=job.sha256,
        )  # fmt: skip
    stage_import_task.enqueue(str(job.pk))
    purge_import_files_task.enqueue()
    job.refresh_from_db()
    return job


def request_confirm(
    *,
    job: ImportJob,
    publish: bool,
    user: Any = None,
    override_reason: str = "",
    acknowledged: list[str] | None = None,
) -> bool:
    """Queue the loading of a ready job once; say whether this call queued it.

    OVERRIDE_REASON (scrubbed of names and numbers here, before the queue stores it) lets a
    roster that repeats a live batch through (funds.duplicates); ACKNOWLEDGED lists the rows
    needing a yes that staff ticked as checked (funds.importing.anomalies), kept in the report.
    """
    report = {**(job.report or {}), "acknowledged": list(acknowledged or [])}
    claimed = ImportJob.objects.filter(pk=job.pk, status=ImportStatus.READY).update(
        status=ImportStatus.IMPORTING, progress=0, message=_("排队等待导入"), publish=publish,
        report=report, updated_at=timezone.now(),
    )  # fmt: skip
    if claimed:
        reason = personal.scrub_text(override_reason.strip())[:500]
        confirm_import_task.enqueue(str(job.pk), publish, getattr(user, "pk", None), reason)
    job.refresh_from_db()
    return bool(claimed)


def request_mapping(
    *, job: ImportJob, mapping: dict[str, str], template_name: str = "", user: Any = None
) -> bool:
    """Store the columns staff mapped on a job waiting for them and queue its staging again.

    Say whether this call queued it (a second click, or a job no longer waiting, does not).
    TEMPLATE_NAME, when given, saves the mapping as the program's template once it works.
    """
    claimed = ImportJob.objects.filter(pk=job.pk, status=ImportStatus.NEEDS_MAPPING).update(
        status=ImportStatus.PENDING, progress=0, message=_("排队等待按指定的列重新检查"),
        mapping=mapping, updated_at=timezone.now(),
    )  # fmt: skip
    if claimed:
        remap_import_task.enqueue(str(job.pk), template_name, getattr(user, "pk", None))
    job.refresh_from_db()
    return bool(claimed)


def request_retry(*, job: ImportJob, user: Any = None) -> bool:
    """Queue a failed job again from where it stopped; say whether this call queued it.

    A job with staged rows is loaded again (as it was asked: draft or published); one whose
    upload was kept (its worker died while parsing) is read again. Nothing of the failed
    attempt was written: a load runs in one transaction. A USER needs the permission for that
    step in the job's township.
    """
    if not can_retry(job):
        return False
    town = Township.objects.filter(name=job.township_name).first() if job.township_name else None
    loading = bool(job.staged)
    if user is not None:
        access.require(user, "funds.confirm_import" if loading else "funds.upload_roster", town)
        if loading and job.publish:
            access.require(user, "funds.publish_batch", town)
    status = ImportStatus.IMPORTING if loading else ImportStatus.PENDING
    message = _("排队等待重新导入") if loading else _("排队等待重新检查")
    claimed = ImportJob.objects.filter(pk=job.pk, status=ImportStatus.FAILED).update(
        status=status, progress=0, message=message, updated_at=timezone.now()
    )
    if claimed:
        user_id = getattr(user, "pk", None)
        if loading:  # the load records who confirmed it (funds.importing.jobs._accept)
            confirm_import_task.enqueue(str(job.pk), job.publish, user_id, "")
            job.refresh_from_db()
            return True
        audit.record(audit.Kind.UPLOAD, user=user, township=town, obj=job, retry=True)
        if job.mapping:
            remap_import_task.enqueue(str(job.pk), "", user_id)
        else:
            stage_import_task.enqueue(str(job.pk))
    job.refresh_from_db()
    return bool(claimed)
