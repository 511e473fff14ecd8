"""A job left running by a worker that died: swept to failed, retryable, never running for ever.

The real thing (a ``db_worker`` process killed with SIGKILL in the middle of a load) is in
``test_worker_killed.py``, on PostgreSQL; these tests drive the sweep and the retry on both
databases, with the job row put where a dead worker leaves it.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone, translation

from funds.importing import jobs
from funds.models import Batch, Disbursement, ImportJob
from tests.factories import make_program
from tests.funds.importing.support import household_row, roster, use_roster

pytestmark = pytest.mark.django_db

Status = ImportJob.Status


def _ready_job(staff_client, monkeypatch, rows: int = 5) -> ImportJob:
    use_roster(monkeypatch, roster([household_row(n) for n in range(rows)]))
    staff_client.post(
        reverse("funds:upload"),
        {
            "program": make_program().pk,
            "period": "2026-03",
            "township": "",
            "file": SimpleUploadedFile("花名册.csv", b"a,b\n1,2\n", content_type="text/csv"),
        },
    )
    job = ImportJob.objects.get()
    assert job.status == Status.READY and job.staged
    return job


def _left_by_a_dead_worker(job: ImportJob, status: str, *, ago: timedelta) -> None:
    """Put JOB where a worker killed in STATUS leaves it, last touched AGO."""
    ImportJob.objects.filter(pk=job.pk).update(
        status=status, progress=40, updated_at=timezone.now() - ago
    )


@pytest.fixture
def dead_load(staff_client, monkeypatch, settings):
    """A ready job whose loading worker died AGO (a function of AGO); the threshold is 600 s."""
    settings.SUNLIGHT_STALE_JOB_SECONDS = 600
    job = _ready_job(staff_client, monkeypatch)

    def left(ago: timedelta) -> ImportJob:
        _left_by_a_dead_worker(job, Status.IMPORTING, ago=ago)
        return job

    return left


def test_a_job_running_with_no_heartbeat_for_longer_than_the_setting_fails_and_says_retry(
    dead_load,
):
    job = dead_load(timedelta(minutes=11))

    assert jobs.sweep_stale_jobs() == 1

    job.refresh_from_db()
    assert job.status == Status.FAILED and job.progress == 100
    assert "重试" in job.message
    assert jobs.can_retry(job)
    assert not Batch.objects.exists() and not Disbursement.objects.exists()


def test_the_message_of_a_swept_job_is_translated(dead_load):
    job = dead_load(timedelta(hours=1))
    with translation.override("en"):
        jobs.sweep_stale_jobs()
    job.refresh_from_db()
    assert "retry" in job.message.lower() and "重试" not in job.message


def test_a_job_with_a_recent_heartbeat_or_waiting_in_the_queue_is_left_alone(dead_load):
    job = dead_load(timedelta(minutes=5))
    assert jobs.sweep_stale_jobs() == 0
    job.refresh_from_db()
    assert job.status == Status.IMPORTING

    for status in (Status.PENDING, Status.READY, Status.IMPORTED, Status.NEEDS_MAPPING):
        _left_by_a_dead_worker(job, status, ago=timedelta(days=1))
        assert jobs.sweep_stale_jobs() == 0, status
        job.refresh_from_db()
        assert job.status == status


def test_progress_is_the_heartbeat(staff_client, monkeypatch):
    job = _ready_job(staff_client, monkeypatch)
    _left_by_a_dead_worker(job, Status.PARSING, ago=timedelta(hours=1))
    before = ImportJob.objects.get(pk=job.pk).updated_at

    jobs._job_progress(job, 0, 90, "…")(10, 100)

    assert ImportJob.objects.get(pk=job.pk).updated_at > before + timedelta(minutes=59)


def test_staff_retry_a_swept_load_and_get_exactly_one_batch(staff_client, monkeypatch, settings):
    settings.SUNLIGHT_STALE_JOB_SECONDS = 60
    job = _ready_job(staff_client, monkeypatch, rows=7)
    _left_by_a_dead_worker(job, Status.IMPORTING, ago=timedelta(minutes=2))
    call_command("sweep_stale_jobs", verbosity=0)
    job.refresh_from_db()
    assert job.status == Status.FAILED
    page = staff_client.get(reverse("funds:job_detail", args=[job.pk])).content.decode()
    assert reverse("funds:job_retry", args=[job.pk]) in page

    response = staff_client.post(reverse("funds:job_retry", args=[job.pk]))

    assert response.status_code == 302
    job.refresh_from_db()
    assert job.status == Status.IMPORTED
    batch = Batch.objects.get()
    assert job.batch == batch and batch.row_count == 7
    assert Disbursement.objects.count() == 7
    # Retrying again does nothing: the job is done.
    staff_client.post(reverse("funds:job_retry", args=[job.pk]))
    assert Batch.objects.count() == 1


def test_a_swept_parse_keeps_its_upload_for_the_retry_and_reads_it_again(
    staff_client, monkeypatch, settings, tmp_path
):
    settings.SUNLIGHT_STALE_JOB_SECONDS = 60
    use_roster(monkeypatch, roster([household_row(n) for n in range(3)]))
    job = ImportJob.objects.create(
        program=make_program(), period="2026-03", original_name="a.csv", sha256="e" * 64,
        status=Status.PARSING,
    )  # fmt: skip
    job.file.save(f"{job.pk}.csv", SimpleUploadedFile("a.csv", b"a,b\n1,2\n"))
    _left_by_a_dead_worker(job, Status.PARSING, ago=timedelta(minutes=5))

    assert jobs.sweep_stale_jobs() == 1
    job.refresh_from_db()
    assert job.status == Status.FAILED and job.file and jobs.can_retry(job)

    staff_client.post(reverse("funds:job_retry", args=[job.pk]))
    job.refresh_from_db()
    assert job.status == Status.READY and not job.file


def test_a_failed_job_whose_upload_is_kept_is_abandoned_after_the_mapping_wait(settings):
    job = ImportJob.objects.create(
        program=make_program(), period="2026-03", original_name="a.csv", sha256="e" * 64,
        status=Status.FAILED,
    )  # fmt: skip
    job.file.save(f"{job.pk}.csv", SimpleUploadedFile("a.csv", b"a,b\n1,2\n"))
    stored = job.file.name
    assert jobs.abandon_stale_jobs(now=timezone.now() + jobs.MAPPING_WAIT * 2) == 1
    job.refresh_from_db()
    assert job.status == Status.ABANDONED and not job.file
    from django.core.files.storage import default_storage

    assert not default_storage.exists(stored)


def test_retry_is_refused_to_anonymous_callers_and_staff_without_the_permission(
    client, staff_client, dead_load, django_user_model
):
    job = dead_load(timedelta(minutes=20))
    jobs.sweep_stale_jobs()
    url = reverse("funds:job_retry", args=[job.pk])

    anonymous = client.__class__().post(url)
    assert anonymous.status_code == 302 and "login" in anonymous.url
    viewer = django_user_model.objects.create_user(username="viewer", password="x", is_staff=True)
    other = client.__class__()
    other.force_login(viewer)
    assert other.post(url).status_code in (403, 404)
    assert staff_client.get(url).status_code == 405
    job.refresh_from_db()
    assert job.status == Status.FAILED and not Batch.objects.exists()


def test_a_job_that_is_not_failed_cannot_be_retried(staff_client, monkeypatch):
    job = _ready_job(staff_client, monkeypatch)
    response = staff_client.post(reverse("funds:job_retry", args=[job.pk]), follow=True)
    job.refresh_from_db()
    assert job.status == Status.READY and not Batch.objects.exists()
    assert "不能重试" in response.content.decode()


@pytest.mark.django_db(transaction=True)  # the worker loop closes a connection not in autocommit
def test_the_worker_sweeps_when_it_starts(staff_client, monkeypatch, settings):
    settings.SUNLIGHT_STALE_JOB_SECONDS = 60
    job = _ready_job(staff_client, monkeypatch)
    _left_by_a_dead_worker(job, Status.IMPORTING, ago=timedelta(minutes=2))
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}

    call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload", verbosity=0)

    job.refresh_from_db()
    assert job.status == Status.FAILED and jobs.can_retry(job)


def test_a_job_queued_for_a_worker_is_not_swept_and_a_dead_workers_task_row_is_failed(
    staff_client, monkeypatch, settings
):
    from django_tasks import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    from funds.importing import tasks

    settings.SUNLIGHT_STALE_JOB_SECONDS = 60
    job = _ready_job(staff_client, monkeypatch)
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    assert tasks.request_confirm(job=job, publish=False)
    _left_by_a_dead_worker(job, Status.IMPORTING, ago=timedelta(hours=1))

    assert jobs.sweep_stale_jobs() == 0, "its task waits in the queue: no worker took it yet"

    task = DBTaskResult.objects.get(args_kwargs__args__0=str(job.pk))
    task.claim("a-worker-that-then-died")
    assert jobs.sweep_stale_jobs() == 1
    task.refresh_from_db()
    job.refresh_from_db()
    assert task.status == TaskResultStatus.FAILED and job.status == Status.FAILED
