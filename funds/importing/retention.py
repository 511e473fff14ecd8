"""Keep the files an import leaves behind only as long as they serve: then delete them.

An upload holds raw ID numbers and accounts: it is deleted when staging ends (kept only while
a job waits for staff to map its columns, at most ``MAPPING_WAIT``). Staged rows and error
reports hold masks and keyed hashes only, but they are still personal data at rest: the staged
file goes when the job is confirmed or given up, and both go once the retention period
(``SUNLIGHT_IMPORT_FILE_RETENTION_DAYS``, 7 by default) has passed. Files in the import
folders that no job points at (a crash between saving a file and saving its job) are swept too.

``purge_import_files`` does all of it; the worker runs it after each upload
(``tasks.purge_import_files_task``) and ``manage.py purge_import_files`` runs it from cron.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.files.storage import default_storage
from django.db.models import Q
from django.utils import timezone

from funds.importing.jobs import abandon_stale_jobs, delete_report
from funds.models import ImportJob

log = logging.getLogger(__name__)

#: The folders import files are written to (upload_to of ImportJob's fields, and the reports).
FOLDERS = ("imports", "staged", "reports")
#: A file younger than this may belong to a job being saved right now: the sweep leaves it.
ORPHAN_GRACE = timedelta(hours=1)


@dataclass
class Purged:
    """What a purge deleted."""

    abandoned: int = 0
    staged: int = 0
    reports: int = 0
    orphans: int = 0


def retention() -> timedelta:
    """Return how long staged files and error reports are kept."""
    return timedelta(days=settings.SUNLIGHT_IMPORT_FILE_RETENTION_DAYS)


def purge_import_files(*, now: datetime | None = None) -> Purged:
    """Delete the staged files and error reports past retention, stale uploads and orphans."""
    now = now or timezone.now()
    purged = Purged(abandoned=abandon_stale_jobs(now=now))
    old = ImportJob.objects.filter(updated_at__lt=now - retention())
    for job in old.exclude(staged="").only("pk", "staged"):
        job.staged.delete(save=False)
        ImportJob.objects.filter(pk=job.pk).update(staged="")
        purged.staged += 1
    for job in old.filter(report__has_key="error_report").exclude(
        report__error_report=""
    ).only("pk", "report"):  # fmt: skip
        delete_report(job)
        purged.reports += 1
    purged.orphans = _sweep_orphans(now)
    log.info("purged import files: %s", purged)
    return purged


def _referenced() -> set[str]:
    """Return every storage name a job points at."""
    names: set[str] = set()
    rows = ImportJob.objects.filter(~Q(file="") | ~Q(staged="") | Q(report__has_key="error_report"))
    for file, staged, report in rows.values_list("file", "staged", "report"):
        names.update(n for n in (file, staged, (report or {}).get("error_report")) if n)
    return names


def _sweep_orphans(now: datetime) -> int:
    """Delete files in the import folders that no job points at and that are not brand new."""
    referenced = _referenced()
    deleted = 0
    for name in _files():
        if name in referenced:
            continue
        try:
            modified = default_storage.get_modified_time(name)
        except (OSError, NotImplementedError):
            continue
        if modified < now - ORPHAN_GRACE:
            default_storage.delete(name)
            deleted += 1
    return deleted


def _files() -> list[str]:
    """Return the storage names of every file under the import folders."""
    found: list[str] = []
    stack = [folder for folder in FOLDERS if default_storage.exists(folder)]
    while stack:
        folder = stack.pop()
        dirs, files = default_storage.listdir(folder)
        found += [f"{folder}/{name}" for name in files]
        stack += [f"{folder}/{name}" for name in dirs]
    return found
