"""Import files live only as long as they serve: confirm, discard, retention, failure, orphans."""

from __future__ import annotations

import os
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from funds.importing.jobs import abandon_job
from funds.importing.parsed import Issue
from funds.importing.retention import purge_import_files
from funds.models import ImportJob
from tests.factories import make_program
from tests.funds.importing.support import household_row, roster, use_roster
from tests.funds.test_staff_views import _upload

pytestmark = pytest.mark.django_db


def _files(settings) -> list[str]:
    root = Path(settings.MEDIA_ROOT)
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def _warned_job(staff_client, monkeypatch) -> ImportJob:
    """A ready job with a warning: it has staged rows and an error report on disk."""
    warning = Issue("Sheet1", 4, "金额", "数量×标准与金额不符", "amount_mismatch")
    use_roster(monkeypatch, roster([household_row(n) for n in range(3)], warnings=[warning]))
    _upload(staff_client, make_program())
    job = ImportJob.objects.get()
    assert job.status == ImportJob.Status.READY and job.staged and job.report["error_report"]
    return job


def test_confirming_a_job_deletes_its_staged_rows_and_its_report(
    staff_client, monkeypatch, settings
):
    job = _warned_job(staff_client, monkeypatch)
    staff_client.post(
        reverse("funds:job_confirm", args=[job.pk]), {"new_township": "on", "checked": ["Sheet1:4"]}
    )
    job.refresh_from_db()
    assert job.status == ImportJob.Status.IMPORTED
    assert _files(settings) == [] and job.report["error_report"] == ""
    assert job.report["warnings"], "the problems stay listed on the job"


def test_discarding_a_ready_job_deletes_its_files(staff_client, monkeypatch, settings):
    job = _warned_job(staff_client, monkeypatch)
    response = staff_client.post(reverse("funds:job_abandon", args=[job.pk]))
    job.refresh_from_db()
    assert response.status_code == 302 and job.status == ImportJob.Status.ABANDONED
    assert _files(settings) == [] and not job.staged


def test_an_imported_job_cannot_be_discarded(staff_client, monkeypatch):
    job = _warned_job(staff_client, monkeypatch)
    staff_client.post(
        reverse("funds:job_confirm", args=[job.pk]), {"new_township": "on", "checked": ["Sheet1:4"]}
    )
    job.refresh_from_db()
    assert abandon_job(job=job) is False
    assert ImportJob.objects.get(pk=job.pk).status == ImportJob.Status.IMPORTED


def test_files_past_retention_are_purged_and_newer_ones_kept(staff_client, monkeypatch, settings):
    job = _warned_job(staff_client, monkeypatch)
    assert purge_import_files().staged == 0 and _files(settings)
    later = timezone.now() + timedelta(days=settings.SUNLIGHT_IMPORT_FILE_RETENTION_DAYS, hours=1)

    purged = purge_import_files(now=later)

    job.refresh_from_db()
    assert (purged.staged, purged.reports) == (1, 1)
    assert _files(settings) == [] and not job.staged and job.report["error_report"] == ""


def test_orphan_files_are_swept_once_they_are_not_brand_new(settings):
    name = default_storage.save("imports/2026/03/lost.xlsx", ContentFile(b"raw"))
    kept = default_storage.save("staged/young.jsonl.gz", ContentFile(b"x"))
    old = time.time() - 7200
    os.utime(default_storage.path(name), (old, old))

    assert purge_import_files().orphans == 1
    assert _files(settings) == [kept]


def test_a_staging_that_fails_deletes_the_upload(staff_client, monkeypatch, settings):
    """An exception anywhere in staging (here: in the reader) leaves no raw file behind."""

    def broken(source, **options):
        raise RuntimeError("boom")

    monkeypatch.setattr("funds.importing.jobs._read_roster", broken)
    monkeypatch.setattr("funds.importing.jobs._prepare", lambda *a, **k: broken(None))
    _upload(staff_client, make_program())
    job = ImportJob.objects.get()
    assert job.status == ImportJob.Status.FAILED and not job.file
    assert _files(settings) == []


def test_the_purge_command_deletes_and_says_what(capsys, settings):
    name = default_storage.save("reports/lost-errors.xlsx", ContentFile(b"x"))
    old = time.time() - 7200
    os.utime(default_storage.path(name), (old, old))
    call_command("purge_import_files")
    assert "无主文件 1 个" in capsys.readouterr().out and _files(settings) == []
