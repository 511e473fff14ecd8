"""Public pages show each payment's current state and history, and paid/failed/re-sent totals."""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse

from funds import payments
from funds.models import Batch, Disbursement
from tests.factories import id_number, make_batch, person_name

pytestmark = pytest.mark.django_db

NOTE = "其他：请联系代领人"


def record(batch: Batch, rows: list[Disbursement], outcome: str, day: date, name: str) -> None:
    lines = [
        payments.MatchedLine(
            row.pk, outcome, row.amount, day, "account_closed" if outcome == "failed" else "",
            NOTE if outcome == "failed" else "", "Sheet1", 3 + n,
        )
        for n, row in enumerate(rows)
    ]  # fmt: skip
    payments.record_payment_results(
        batch=batch, lines=lines, original_name=name, sha256=name * 4, today=date(2026, 4, 30)
    )


@pytest.fixture
def results(site):
    """Row 0 of the published batch failed and was re-sent; row 1 failed."""
    first, second = site.published.disbursements.order_by("id")[:2]
    record(site.published, [first, second], "failed", date(2026, 3, 20), "a" * 16)
    record(site.published, [first], "succeeded", date(2026, 4, 2), "b" * 16)
    return first, second


def test_the_batch_page_shows_state_history_and_totals(client, site, results):
    first, second = results
    response = client.get(reverse("publicity:batch", args=[site.published.pk]))
    rows = {row["id"]: row for row in response.context["page"].object_list}
    assert rows[first.pk]["payment_state"] == "resent"
    assert [h["kind"] for h in rows[first.pk]["payment_history"]] == ["failed", "resent"]
    assert rows[second.pk]["payment_state"] == "failed"
    totals = response.context["totals"]
    assert totals["failed_amount"] == second.amount
    assert totals["resent_amount"] == first.amount
    assert totals["paid_amount"] == site.published.total_amount - second.amount
    body = response.content.decode()
    assert "已重发" in body and "账户已销户" in body and "2026-03-20" in body
    assert NOTE not in body  # the free text stays on staff pages


def test_the_village_and_household_pages_show_the_state(client, site, results):
    _first, second = results
    village = client.get(reverse("publicity:village", args=[site.village.pk]))
    states = {row["id"]: row["payment_state"] for row in village.context["page"].object_list}
    assert states[second.pk] == "failed"
    assert village.context["totals"]["failed_amount"] == second.amount
    household = client.get(reverse("publicity:household", args=[second.household_id]))
    assert [e["payment_state"] for e in household.context["entries"]] == ["failed"]
    assert "发放失败" in household.content.decode()


def test_pages_with_results_show_no_unmasked_data(client, site, results):
    for url in (
        reverse("publicity:batch", args=[site.published.pk]),
        reverse("publicity:village", args=[site.village.pk]),
        reverse("publicity:household", args=[results[0].household_id]),
    ):
        body = client.get(url).content.decode()
        for n in range(3):
            assert id_number(n) not in body and person_name(n) not in body


def test_the_download_carries_the_current_state(client, site, results):
    response = client.get(reverse("publicity:batch_download", args=[site.published.pk, "csv"]))
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    table = list(csv.reader(io.StringIO(text)))
    state = table[0].index("当前状态")
    assert sorted(row[state] for row in table[1:]) == ["发放失败", "已发放", "已重发"]


def test_the_batch_page_runs_no_query_per_row_with_results(
    client, site, django_assert_max_num_queries
):
    small = make_batch(
        site.program, site.village, [(person_name(400), id_number(400), Decimal("5.00"))],
        period="2026-07",
    )  # fmt: skip
    record(small, list(small.disbursements.all()), "failed", date(2026, 3, 20), "c" * 16)
    with django_assert_max_num_queries(100) as captured:
        client.get(reverse("publicity:batch", args=[small.pk]))
    baseline = len(captured.captured_queries)
    rows = [(person_name(n), id_number(n), Decimal("5.00")) for n in range(300, 340)]
    big = make_batch(site.program, site.village, rows, period="2026-08")
    record(big, list(big.disbursements.all()), "failed", date(2026, 3, 20), "d" * 16)
    with django_assert_max_num_queries(baseline):
        response = client.get(reverse("publicity:batch", args=[big.pk]))
    assert response.context["totals"]["failed_amount"] == Decimal("200.00")
