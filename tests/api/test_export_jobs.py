"""Large exports run as jobs on the task worker, never in the request."""

import io
import uuid
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone
from openpyxl import load_workbook

from api import exportjobs
from funds.models import Batch, Disbursement
from funds.publishing import withdraw_batch

pytestmark = pytest.mark.django_db

EXPORT = "/api/v1/disbursements/export.{fmt}"


@pytest.fixture(autouse=True)
def _var_in_tmp(settings, tmp_path):
    settings.VAR_DIR = tmp_path / "var"


def _body(response) -> bytes:
    return b"".join(response.streaming_content)


def _start(client, settings, fmt="csv", query="", max_rows=2):
    settings.SUNLIGHT_EXPORT_SYNC_MAX_ROWS = max_rows
    response = client.get(EXPORT.format(fmt=fmt) + query)
    assert response.status_code == 202, response.content
    return response


def test_a_small_export_is_answered_at_once(api, world, settings):
    settings.SUNLIGHT_EXPORT_SYNC_MAX_ROWS = 10_000
    assert api.get(EXPORT.format(fmt="csv")).status_code == 200


def test_a_large_csv_export_becomes_a_job_whose_file_matches_the_sync_export(api, world, settings):
    query = "?ordering=-amount&period_after=2026-01"
    started = _start(api, settings, query=query)
    job = started.json()
    uuid.UUID(job["id"])  # an unguessable UUID
    assert started["Location"] == job["url"]
    assert job["rows"] == Disbursement.objects.published().count()
    status = api.get(job["url"])
    assert status.status_code == 200
    done = status.json()
    assert done["status"] == "done" and done["progress"] == 100
    assert done["rows_done"] == job["rows"]
    assert done["filters"] == [["ordering", "-amount"], ["period_after", "2026-01"]]
    download = api.get(done["download"])
    assert download.status_code == 200
    assert download["Content-Type"].startswith("text/csv")
    assert download["X-Sunlight-As-Of"] == done["as_of"]
    settings.SUNLIGHT_EXPORT_SYNC_MAX_ROWS = 10_000
    sync = api.get(EXPORT.format(fmt="csv") + query)
    assert sync.status_code == 200
    assert _body(download) == _body(sync)


def test_a_large_xlsx_export_becomes_a_job_with_the_same_rows(api, world, settings):
    job = _start(api, settings, fmt="xlsx").json()
    done = api.get(job["url"]).json()
    download = api.get(done["download"])
    assert download["Content-Type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    rows = list(load_workbook(io.BytesIO(_body(download)), read_only=True).active.values)
    settings.SUNLIGHT_EXPORT_SYNC_MAX_ROWS = 10_000
    sync = api.get(EXPORT.format(fmt="xlsx"))
    assert rows == list(load_workbook(io.BytesIO(_body(sync)), read_only=True).active.values)


def test_a_bad_filter_is_refused_before_any_job(api, world, settings):
    settings.SUNLIGHT_EXPORT_SYNC_MAX_ROWS = 0
    response = api.get(EXPORT.format(fmt="csv") + "?period_after=bad")
    assert response.status_code == 400
    assert not (settings.VAR_DIR / "exports").exists() or not any(
        (settings.VAR_DIR / "exports").iterdir()
    )


@pytest.mark.parametrize(
    "job_id",
    ["nope", str(uuid.uuid4()), "..", "..%2F..%2Fbulk", "00000000-0000-0000-0000-00000000000g"],
)
def test_a_bad_job_id_is_a_json_404(api, world, job_id):
    for suffix in ("", "download"):
        response = api.get(f"/api/v1/exports/{job_id}/{suffix}", follow=True)
        assert response.status_code == 404
        assert response["Content-Type"].startswith("application/json")


def test_an_auditors_job_is_not_anyone_elses(api, auditor_api, world, settings):
    job = _start(auditor_api, settings, query="?batch_status=draft", max_rows=0).json()
    assert auditor_api.get(job["url"]).json()["status"] == "done"
    assert api.get(job["url"]).status_code == 404
    assert api.get(job["url"] + "download").status_code == 404


def test_jobs_past_retention_are_gone(api, world, settings):
    job = _start(api, settings).json()
    settings.SUNLIGHT_EXPORT_RETENTION_HOURS = 1
    later = timezone.now() + timedelta(hours=2)
    assert api.get(job["url"]).status_code == 200
    assert exportjobs.purge_expired(now=later) == 1
    assert api.get(job["url"]).status_code == 404
    assert not (settings.VAR_DIR / "exports" / job["id"]).exists()


@pytest.mark.django_db(transaction=True)
def test_the_worker_runs_the_job_as_of_the_request(api, world, settings):
    """The job waits for the worker, then exports what was public when it was asked for."""
    settings.TASKS = {
        "default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}
    }
    gone = world.published[1]
    Batch.objects.filter(pk__in=[b.pk for b in world.published]).update(
        published_at=timezone.now() - timedelta(days=1)
    )
    before = Disbursement.objects.published().count()
    job = _start(api, settings).json()
    assert api.get(job["url"]).json()["status"] == "queued"
    withdraw_batch(batch=gone, reason="测试")  # after the request: the job still holds it
    call_command("db_worker", "--batch", "--no-startup-delay", stdout=StringIO(), stderr=StringIO())
    done = api.get(job["url"]).json()
    assert done["status"] == "done" and done["rows_done"] == before
    text = _body(api.get(done["download"])).decode("utf-8-sig")
    assert all(str(pk) in text for pk in gone.disbursements.values_list("id", flat=True))


def test_the_job_endpoints_are_in_the_schema(api, db):
    spec = api.get("/api/schema/?format=json").json()
    assert "/api/v1/exports/{id}/" in spec["paths"]
    assert "/api/v1/exports/{id}/download" in spec["paths"]
    assert "202" in spec["paths"]["/api/v1/disbursements/export.csv"]["get"]["responses"]


def test_a_job_that_fails_says_so_and_offers_no_file(api, world, settings, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(exportjobs, "_write_file", broken)
    job = _start(api, settings).json()
    status = api.get(job["url"]).json()
    assert status["status"] == "failed" and status["download"] is None
    assert api.get(job["url"] + "download").status_code == 404
    assert not list((settings.VAR_DIR / "exports" / job["id"]).glob("disbursements.*"))
