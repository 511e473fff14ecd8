"""Publicity rules that hold: working-day periods, finalising only after them and with no open
objection, withdrawals that cannot strand a correction, corrections of withdrawn batches."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.utils import timezone

from config.env import env_dates
from funds import workdays
from funds.models import Batch, Disbursement
from funds.publishing import (
    Replacement,
    correct_batch,
    finalize_batch,
    publish_batch,
    withdraw_batch,
)
from publicity.models import Objection
from tests.factories import make_batch, make_program, make_village, person_name, unique_id_number

pytestmark = pytest.mark.django_db


@pytest.fixture
def draft():
    rows = [(person_name(n), unique_id_number(n), Decimal("100.00")) for n in range(3)]
    return make_batch(make_program(), make_village(), rows, status=Batch.Status.DRAFT)


def _published_long_ago(batch: Batch) -> Batch:
    publish_batch(batch=batch, start=timezone.localdate() - timedelta(days=60))
    return batch


# --- working days ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "days", "end"),
    [
        # Mon 2 March 2026 + 7 working days: the week, then Mon 9 and Tue 10.
        (date(2026, 3, 2), 7, date(2026, 3, 10)),
        # Published on a Saturday: the period starts on the next working day.
        (date(2026, 3, 7), 1, date(2026, 3, 9)),
        # National Day 2026: 1–7 October off; Sun 20 Sept and Sat 10 Oct are make-up days.
        (date(2026, 9, 30), 2, date(2026, 10, 8)),
        (date(2026, 9, 18), 2, date(2026, 9, 20)),
        # Mid-Autumn Festival, Friday 25 September 2026.
        (date(2026, 9, 24), 2, date(2026, 9, 28)),
        (date(2026, 10, 9), 2, date(2026, 10, 10)),
        # Spring Festival 2026 (15–23 February off; Sat 14 and Sat 28 Feb are working days).
        (date(2026, 2, 13), 3, date(2026, 2, 24)),
    ],
)
def test_the_period_is_counted_in_working_days_of_the_official_calendar(start, days, end):
    assert workdays.add_workdays(start, days) == end


def test_a_deployment_adds_its_own_holidays_and_working_days(settings):
    assert workdays.add_workdays(date(2026, 3, 2), 3) == date(2026, 3, 4)
    settings.SUNLIGHT_EXTRA_HOLIDAYS = [date(2026, 3, 3)]
    assert workdays.add_workdays(date(2026, 3, 2), 3) == date(2026, 3, 5)
    settings.SUNLIGHT_EXTRA_WORKDAYS = [date(2026, 3, 7)]
    assert workdays.add_workdays(date(2026, 3, 5), 3) == date(2026, 3, 7)


def test_years_the_calendar_does_not_cover_count_weekdays_and_say_so(caplog):
    # Mon 1 March 2100: no official calendar yet; weekends still do not count.
    assert workdays.add_workdays(date(2100, 3, 5), 2) == date(2100, 3, 8)
    assert "2100" in caplog.text


def test_the_setting_reads_iso_dates_and_rejects_others(monkeypatch):
    monkeypatch.setenv("X_DATES", "2026-03-03, 2026-03-04")
    assert env_dates("X_DATES") == [date(2026, 3, 3), date(2026, 3, 4)]
    monkeypatch.setenv("X_DATES", "3/3/2026")
    with pytest.raises(ImproperlyConfigured, match="X_DATES"):
        env_dates("X_DATES")


def test_publishing_opens_a_period_of_seven_working_days_by_default(draft):
    publish_batch(batch=draft, start=date(2026, 9, 30))
    draft.refresh_from_db()
    assert (draft.publicity_start, draft.publicity_end) == (date(2026, 9, 30), date(2026, 10, 14))


# --- finalising ------------------------------------------------------------------------------


def test_a_batch_cannot_be_finalised_before_its_period_has_ended(draft):
    publish_batch(batch=draft)
    with pytest.raises(ValidationError) as refused:
        finalize_batch(batch=draft)
    assert refused.value.code == "period_running"
    assert Batch.objects.get(pk=draft.pk).status == Batch.Status.PUBLICITY


def test_the_last_day_of_the_period_is_still_the_period(draft):
    today = timezone.localdate()
    publish_batch(batch=draft, start=today - timedelta(days=30))
    Batch.objects.filter(pk=draft.pk).update(publicity_end=today)
    with pytest.raises(ValidationError):
        finalize_batch(batch=draft)
    Batch.objects.filter(pk=draft.pk).update(publicity_end=today - timedelta(days=1))
    finalize_batch(batch=draft)
    assert Batch.objects.get(pk=draft.pk).status == Batch.Status.FINAL


def test_a_batch_with_an_open_objection_cannot_be_finalised(draft):
    _published_long_ago(draft)
    objection = Objection.objects.create(batch=draft, text="名单有误")
    with pytest.raises(ValidationError) as refused:
        finalize_batch(batch=draft)
    assert refused.value.code == "objections_open"
    assert Batch.objects.get(pk=draft.pk).status == Batch.Status.PUBLICITY

    objection.status = Objection.Status.DISMISSED
    objection.save()
    finalize_batch(batch=draft)
    assert Batch.objects.get(pk=draft.pk).status == Batch.Status.FINAL


# --- withdrawing and corrections ---------------------------------------------------------------


def _correct(batch: Batch, sha: str = "c" * 64) -> Batch:
    row = batch.disbursements.order_by("id").first()
    return correct_batch(
        original=batch, changes={row.pk: Replacement(Decimal("80.00"))},
        source_name="更正.xlsx", source_sha256=sha,
    )  # fmt: skip


def test_a_batch_a_standing_correction_points_at_cannot_be_withdrawn(draft):
    _published_long_ago(draft)
    correction = _correct(draft)
    publish_batch(batch=correction)
    with pytest.raises(ValidationError) as refused:
        withdraw_batch(batch=draft)
    assert refused.value.code == "corrected"
    assert str(correction.pk) in refused.value.messages[0]
    assert Batch.objects.get(pk=draft.pk).status == Batch.Status.PUBLICITY

    withdraw_batch(batch=correction)
    withdraw_batch(batch=draft)
    assert Batch.objects.get(pk=draft.pk).status == Batch.Status.WITHDRAWN


def test_a_draft_correction_also_stands_until_it_is_withdrawn(draft):
    _published_long_ago(draft)
    _correct(draft)
    with pytest.raises(ValidationError):
        withdraw_batch(batch=draft)
    assert Batch.objects.get(pk=draft.pk).status == Batch.Status.PUBLICITY


def test_a_correction_of_a_withdrawn_batch_cannot_be_published(draft):
    _published_long_ago(draft)
    correction = _correct(draft)
    # As the database would have it had the original been withdrawn before these rules.
    Batch.objects.filter(pk=draft.pk).update(status=Batch.Status.WITHDRAWN)
    with pytest.raises(ValidationError) as refused:
        publish_batch(batch=correction)
    assert refused.value.code == "corrects_withdrawn"
    assert Batch.objects.get(pk=correction.pk).status == Batch.Status.DRAFT
    assert not Disbursement.objects.published().filter(is_reversal=True).exists()
