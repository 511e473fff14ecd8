"""Background tasks for the import flow (Django's tasks API via the django-tasks backport)."""

from __future__ import annotations

import logging

from django.contrib.auth import get_user_model
from django.utils.translation import gettext as _
from django_tasks import task

from funds.importing.jobs import confirm_import, stage_roster
from funds.models import ImportJob
from privacy.logs import log_failure

log = logging.getLogger(__name__)


def _failed(job_id: str) -> None:
    log_failure(log, "import job %s failed", job_id)
    ImportJob.objects.filter(pk=job_id).update(
        status=ImportJob.Status.FAILED, message=_("处理出错，请联系管理员"), progress=100
    )


@task()
def stage_import_task(job_id: str) -> str:
    """Parse and validate the uploaded roster of a job and stage it for confirmation."""
    job = ImportJob.objects.select_related("program").get(pk=job_id)
    if job.status not in (ImportJob.Status.PENDING, ImportJob.Status.PARSING):
        return job.status
    try:
        stage_roster(job=job)
    except Exception:
        _failed(job_id)
        return ImportJob.Status.FAILED
    return job.status


@task()
def confirm_import_task(job_id: str, publish: bool = False, user_id: int | None = None) -> str:
    """Load a staged job into the database, as a draft or published."""
    job = ImportJob.objects.select_related("program").get(pk=job_id)
    if job.status not in (ImportJob.Status.READY, ImportJob.Status.IMPORTING):
        return job.status
    user = get_user_model().objects.filter(pk=user_id).first() if user_id else None
    try:
        confirm_import(job=job, user=user, publish=publish)
    except Exception:
        _failed(job_id)
        return ImportJob.Status.FAILED
    return job.status
