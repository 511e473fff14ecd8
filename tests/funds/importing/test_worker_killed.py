"""A real ``manage.py db_worker`` killed with SIGKILL in the middle of a load (PostgreSQL).

The worker runs as a separate process on the test database (a transactional test, so that
both see committed rows), stages a generated 40,000-row roster, and is killed once its load
transaction is writing disbursements. Nothing of the batch may survive; the sweep fails the
job, retryably; a fresh worker retries it into exactly one batch with the staged totals.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import connection

from demo.rostergen import generate_roster
from funds.importing import jobs, tasks
from funds.models import Batch, Disbursement, ImportJob
from tests.factories import make_program

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[3]
ROWS = 40_000
Status = ImportJob.Status


def _database_url() -> str:
    db = connection.settings_dict
    password = f":{db['PASSWORD']}" if db["PASSWORD"] else ""
    host, port = db["HOST"] or "127.0.0.1", db["PORT"] or 5432
    return f"postgres://{db['USER']}{password}@{host}:{port}/{db['NAME']}"


def _start_worker(tmp_path: Path, name: str) -> subprocess.Popen:
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(),
        "DJANGO_SETTINGS_MODULE": "config.settings.dev",
        "SUNLIGHT_VAR_DIR": str(tmp_path),  # MEDIA_ROOT = tmp_path/media, as in the test
        "SUNLIGHT_TASKS_BACKEND": "django_tasks_db.DatabaseBackend",
        "SUNLIGHT_LOG_LEVEL": "WARNING",
    }
    log = (tmp_path / f"{name}.log").open("wb")
    command = [sys.executable, "manage.py", "db_worker", "--no-startup-delay", "--no-reload"]
    return subprocess.Popen(
        [*command, "--interval", "0.1", "--worker-id", name],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip


def _wait(condition: Callable[[], bool], what: str, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.01)


def _status(job: ImportJob) -> str:
    return ImportJob.objects.values_list("status", flat=True).get(pk=job.pk)


def _others_writing_disbursements() -> bool:
    """Whether another session holds a write lock on the disbursement table (a load running)."""
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation
               WHERE c.relname = 'funds_disbursement' AND l.mode = 'RowExclusiveLock'
                 AND l.pid <> pg_backend_pid()"""
        )
        return cursor.fetchone()[0] > 0


def test_a_worker_killed_during_a_load_leaves_nothing_and_the_retry_loads_once(settings, tmp_path):
    if connection.vendor != "postgresql":
        pytest.skip("a worker process beside the test needs a shared server database")
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    assert Path(django_settings.MEDIA_ROOT) == tmp_path / "media"
    roster = generate_roster(tmp_path / "花名册.xlsx", fmt="xlsx", rows=ROWS, seed=15)
    program = make_program()
    upload = SimpleUploadedFile("花名册.xlsx", roster.path.read_bytes())
    job = tasks.create_job(upload=upload, program=program, period="2026-03")

    first = _start_worker(tmp_path, "first")
    try:
        _wait(lambda: _status(job) not in (Status.PENDING, Status.PARSING), "staging")
        job.refresh_from_db()
        assert job.status == Status.READY, (job.status, job.message)
        expected = job.report
        assert tasks.request_confirm(job=job, publish=False)

        _wait(_others_writing_disbursements, "the load to write disbursements")
        # While the load runs its job row is held: even a zero threshold leaves it alone.
        settings.SUNLIGHT_STALE_JOB_SECONDS = 0
        assert jobs.sweep_stale_jobs() == 0
        first.send_signal(signal.SIGKILL)
    finally:
        first.kill()
        first.wait(30)
    _wait(lambda: not _others_writing_disbursements(), "the server to roll the load back", 60)

    assert not Batch.objects.exists()
    assert not Disbursement.objects.exists()
    assert _status(job) == Status.IMPORTING, "left running by the dead worker"

    call_command("sweep_stale_jobs", verbosity=0)
    job.refresh_from_db()
    assert job.status == Status.FAILED and jobs.can_retry(job)
    assert "重试" in job.message

    assert tasks.request_retry(job=job)
    second = _start_worker(tmp_path, "second")
    try:
        _wait(lambda: _status(job) not in (Status.IMPORTING,), "the retried load")
    finally:
        second.terminate()
        second.wait(30)
    job.refresh_from_db()
    assert job.status == Status.IMPORTED, (job.status, job.message)
    batch = Batch.objects.get()
    assert job.batch == batch
    assert batch.row_count == expected["rows"] == Disbursement.objects.count()
    assert batch.total_amount == Decimal(expected["total"]) == roster.total
    assert batch.row_count == roster.rows
