"""The API gives each disbursement its payment state and history, and batches and summaries
their paid, failed and re-sent amounts."""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal

import pytest

from funds.models import Disbursement
from funds.payments import MatchedLine, record_payment_results

pytestmark = pytest.mark.django_db

NOTE = "其他：请联系代领人"


def record(batch, row: Disbursement, outcome: str, day: date, name: str) -> None:
    failed = outcome == "failed"
    line = MatchedLine(
        row.pk, outcome, row.amount, day, "name_mismatch" if failed else "",
        NOTE if failed else "", "Sheet1", 3,
    )  # fmt: skip
    record_payment_results(batch=batch, lines=[line], original_name=name, sha256=name)


@pytest.fixture
def results(world):
    batch = world.published[0]
    first, second = batch.disbursements.filter(status="paid").order_by("id")[:2]
    record(batch, first, "failed", date(2026, 3, 20), "a")
    record(batch, first, "succeeded", date(2026, 4, 2), "b")
    record(batch, second, "failed", date(2026, 4, 2), "c")
    return batch, first, second


def test_a_disbursement_carries_its_state_and_history(api, results):
    _batch, first, second = results
    body = api.get(f"/api/v1/disbursements/{first.pk}/").json()
    assert body["payment_state"] == "resent"
    assert body["payment_history"] == [
        {"date": "2026-03-20", "kind": "failed", "reason": "name_mismatch",
         "reason_label": "户名不符", "amount": f"{first.amount:.2f}"},
        {"date": "2026-04-02", "kind": "resent", "reason": "", "reason_label": "",
         "amount": f"{first.amount:.2f}"},
    ]  # fmt: skip
    listed = api.get("/api/v1/disbursements/?page_size=500").json()["results"]
    states = {row["id"]: row["payment_state"] for row in listed}
    assert states[second.pk] == "failed"
    assert NOTE not in api.get("/api/v1/disbursements/?page_size=500").content.decode()


def test_a_row_without_results_keeps_its_roster_status(api, world, results):
    listed = api.get("/api/v1/disbursements/?page_size=500").json()["results"]
    plain = [row for row in listed if not row["payment_history"]]
    assert plain and all(row["payment_state"] == row["status"] for row in plain)


def test_the_batch_endpoint_gives_paid_failed_and_resent_amounts(api, results):
    batch, first, second = results
    body = api.get(f"/api/v1/batches/{batch.pk}/").json()
    assert body["failed_amount"] == f"{second.amount:.2f}"
    assert body["resent_amount"] == f"{first.amount:.2f}"
    assert Decimal(body["paid_amount"]) == batch.total_amount - second.amount
    listed = {b["id"]: b for b in api.get("/api/v1/batches/").json()["results"]}
    assert listed[batch.pk]["failed_amount"] == f"{second.amount:.2f}"


@pytest.mark.parametrize("by", ["village", "program", "period", "township", "household"])
def test_the_summary_gives_paid_failed_and_resent_amounts(api, results, by):
    _batch, first, second = results
    groups = api.get(f"/api/v1/summary/?by={by}").json()["results"]
    assert sum(Decimal(g["resent_amount"]) for g in groups) == first.amount
    failed = sum(Decimal(g["failed_amount"]) for g in groups)
    roster_failed = sum(r.amount for r in Disbursement.objects.published().filter(status="failed"))
    assert failed == second.amount + roster_failed
    for g in groups:
        assert Decimal(g["paid_amount"]) + Decimal(g["failed_amount"]) == Decimal(g["total"])


def test_the_disbursement_list_runs_no_query_per_result(
    api, world, results, django_assert_max_num_queries
):
    batch = world.published[0]
    for n, row in enumerate(batch.disbursements.filter(status="paid").order_by("id")[2:]):
        record(batch, row, "failed", date(2026, 4, 3), f"more-{n}")
    with django_assert_max_num_queries(5):
        response = api.get("/api/v1/disbursements/?page_size=500")
    assert response.status_code == 200


def test_the_export_carries_the_current_state(api, results):
    _batch, first, second = results
    text = b"".join(api.get("/api/v1/disbursements/export.csv").streaming_content).decode()
    table = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert table[0][-1] == "当前状态"
    by_id = {int(row[0]): row[-1] for row in table[1:]}
    assert (by_id[first.pk], by_id[second.pk]) == ("已重发", "发放失败")
