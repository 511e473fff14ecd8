"""Publishing, finalising, withdrawing and correcting batches; background import tasks."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from io import StringIO

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command

from funds.importing.tasks import create_job, request_confirm
from funds.models import Batch, Disbursement, ImportJob
from funds.publishing import (
    Replacement,
    correct_batch,
    finalize_batch,
    publish_batch,
    withdraw_batch,
)
from tests.factories import make_batch, make_program, make_village, person_name, unique_id_number
from tests.funds.importing.support import household_row, roster, use_roster

pytestmark = pytest.mark.django_db


@pytest.fixture
def draft():
    rows = [(person_name(n), unique_id_number(n), Decimal("100.00")) for n in range(3)]
    return make_batch(make_program(), make_village(), rows, status=Batch.Status.DRAFT)


def test_publishing_a_draft_opens_a_publicity_period_of_the_configured_days(draft, settings):
    settings.SUNLIGHT_PUBLICITY_DAYS = 5  # working days: Monday 2 to Friday 6 March 2026
    publish_batch(batch=draft, start=date(2026, 3, 2))
    draft.refresh_from_db()
    assert draft.status == Batch.Status.PUBLICITY
    assert (draft.publicity_start, draft.publicity_end) == (date(2026, 3, 2), date(2026, 3, 6))
    assert draft.published_at is not None
    assert Batch.objects.published().filter(pk=draft.pk).exists()


def test_only_a_draft_can_be_published_and_only_publicity_finalised(draft):
    with pytest.raises(ValidationError):
        finalize_batch(batch=draft)
    publish_batch(batch=draft, start=date(2026, 3, 2))  # its period has ended
    with pytest.raises(ValidationError):
        publish_batch(batch=draft)
    finalize_batch(batch=draft)
    assert Batch.objects.get(pk=draft.pk).status == Batch.Status.FINAL
    with pytest.raises(ValidationError):
        withdraw_batch(batch=draft)


def test_withdrawing_takes_a_batch_off_the_public_site(draft):
    publish_batch(batch=draft)
    withdraw_batch(batch=draft)
    assert not Batch.objects.published().filter(pk=draft.pk).exists()
    assert not Disbursement.objects.published().filter(batch=draft).exists()


def test_a_publicity_period_shorter_than_a_day_is_refused(draft):
    with pytest.raises(ValidationError):
        publish_batch(batch=draft, days=0)
    assert Batch.objects.get(pk=draft.pk).status == Batch.Status.DRAFT


def test_a_correction_reverses_and_replaces_rows_without_editing_the_original(draft):
    publish_batch(batch=draft)
    wrong, stopped = draft.disbursements.order_by("id")[:2]
    correction = correct_batch(
        original=draft,
        changes={wrong.pk: Replacement(amount=Decimal("80.00")), stopped.pk: Replacement(None)},
        source_name="更正.xlsx",
        source_sha256="c" * 64,
    )
    assert correction.corrects == draft and correction.status == Batch.Status.DRAFT
    reversals = correction.disbursements.filter(is_reversal=True)
    assert sorted(r.amount for r in reversals) == [Decimal("-100.00"), Decimal("-100.00")]
    assert {r.corrects_id for r in reversals} == {wrong.pk, stopped.pk}
    replacement = correction.disbursements.get(is_reversal=False)
    assert replacement.amount == Decimal("80.00") and replacement.corrects == wrong
    assert correction.total_amount == Decimal("-120.00")
    wrong.refresh_from_db()
    assert wrong.amount == Decimal("100.00") and wrong.batch_id == draft.pk


def test_a_draft_cannot_be_corrected_and_foreign_rows_are_refused(draft):
    with pytest.raises(ValidationError):
        correct_batch(original=draft, changes={}, source_name="x", source_sha256="d" * 64)
    publish_batch(batch=draft)
    with pytest.raises(ValidationError):
        correct_batch(
            original=draft,
            changes={10**9: Replacement(Decimal("1"))},
            source_name="x",
            source_sha256="e" * 64,
        )
    assert Batch.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_the_database_task_worker_stages_and_loads_a_job(settings, monkeypatch, tmp_path):
    """With the real django-tasks-db backend, jobs wait in the queue until a worker runs."""
    settings.TASKS = {
        "default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}
    }
    use_roster(monkeypatch, roster([household_row(1), household_row(2)]))
    upload = SimpleUploadedFile("r.csv", "姓名,金额\n张三,1\n".encode(), content_type="text/csv")
    job = create_job(upload=upload, program=make_program(), period="2026-03")
    assert job.status == ImportJob.Status.PENDING

    call_command("db_worker", "--batch", "--no-startup-delay", stdout=StringIO(), stderr=StringIO())
    job.refresh_from_db()
    assert job.status == ImportJob.Status.READY and job.report["rows"] == 2

    assert request_confirm(job=job, publish=True)
    assert not request_confirm(job=job, publish=True), "a second click queues nothing"
    call_command("db_worker", "--batch", "--no-startup-delay", stdout=StringIO(), stderr=StringIO())
    job.refresh_from_db()
    assert job.status == ImportJob.Status.IMPORTED
    assert job.batch.status == Batch.Status.PUBLICITY and job.batch.row_count == 2


def test_a_correction_note_is_scrubbed_whoever_calls(draft):
    """correct_batch scrubs the note itself: the staff form is not its only caller."""
    publish_batch(batch=draft)
    wrong = draft.disbursements.order_by("id").first()
    note = "身份证341122196001010013，电话13912345678"
    correction = correct_batch(
        original=draft,
        changes={wrong.pk: Replacement(Decimal("80.00"), note=note)},
        source_name="x",
        source_sha256="f" * 64,
    )
    stored = correction.disbursements.get(is_reversal=False).note
    assert "341122196001010013" not in stored and "13912345678" not in stored
    assert stored.startswith("身份证")


def test_a_correction_batch_is_titled_as_a_correction_and_keeps_its_reason_scrubbed(draft):
    """The reason is public on the correction's notice: names and numbers are gone before it is
    stored, whoever calls."""
    draft.title = "2026年3月耕地地力保护补贴"
    draft.save()
    publish_batch(batch=draft)
    wrong = draft.disbursements.order_by("id").select_related("person").first()
    name = person_name(0)
    correction = correct_batch(
        original=draft,
        changes={wrong.pk: Replacement(Decimal("80.00"))},
        source_name="x",
        source_sha256="a1" * 32,
        reason=f"{name}面积多报，电话13912345678",
    )
    correction.refresh_from_db()
    assert correction.title == "更正公示：2026年3月耕地地力保护补贴"
    assert correction.is_correction and not draft.is_correction
    assert name not in correction.reason and "13912345678" not in correction.reason
    assert wrong.person.name_masked in correction.reason and "面积多报" in correction.reason
    assert name not in correction.disbursements.get(is_reversal=False).note


def test_a_replacement_carries_the_corrected_quantity_and_rate(draft):
    publish_batch(batch=draft)
    wrong = draft.disbursements.order_by("id").first()
    Disbursement.objects.filter(pk=wrong.pk).update(quantity=Decimal("10"), rate=Decimal("82.569"))
    correction = correct_batch(
        original=draft,
        changes={
            wrong.pk: Replacement(
                Decimal("776.86"), quantity=Decimal("9.4086"), rate=Decimal("82.569")
            )
        },
        source_name="x",
        source_sha256="a2" * 32,
    )
    reversal = correction.disbursements.get(is_reversal=True)
    replacement = correction.disbursements.get(is_reversal=False)
    assert (reversal.quantity, reversal.rate) == (Decimal("10"), Decimal("82.569"))
    assert (replacement.quantity, replacement.rate) == (Decimal("9.4086"), Decimal("82.569"))
    assert replacement.amount == Decimal("776.86")


def test_every_row_of_a_chain_of_corrections_names_the_row_it_began_with(draft):
    publish_batch(batch=draft)
    wrong = draft.disbursements.order_by("id").first()
    first = correct_batch(
        original=draft,
        changes={wrong.pk: Replacement(Decimal("80.00"))},
        source_name="x",
        source_sha256="a3" * 32,
    )
    publish_batch(batch=first)
    replaced = first.disbursements.get(is_reversal=False)
    second = correct_batch(
        original=first,
        changes={replaced.pk: Replacement(Decimal("90.00"))},
        source_name="y",
        source_sha256="a4" * 32,
    )
    chain = Disbursement.objects.filter(batch__in=[first, second])
    assert {row.origin_row for row in chain} == {wrong.pk}
    assert second.disbursements.get(is_reversal=True).corrects_id == replaced.pk
    assert Disbursement.objects.get(pk=wrong.pk).origin_row is None
    assert second.title.startswith("更正公示：") and not second.title.startswith("更正公示：更正")
