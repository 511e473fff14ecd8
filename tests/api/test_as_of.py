"""As of any moment: an auditor reproduces a total from a month ago, to the cent, after later
corrections and withdrawals."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from urllib.parse import quote

import pytest
from django.utils import timezone

from funds.models import Batch
from funds.publishing import Replacement, correct_batch, publish_batch, withdraw_batch
from tests.factories import make_batch, make_program, make_village, person_name, unique_id_number

pytestmark = pytest.mark.django_db


def _published(program, numbers, *, days_ago: int, amount: str = "100.00") -> Batch:
    rows = [(person_name(n), unique_id_number(n), Decimal(amount)) for n in numbers]
    batch = make_batch(program, make_village(), rows, status=Batch.Status.DRAFT, period="2026-0"
                       + str(1 + days_ago % 9))  # fmt: skip
    publish_batch(batch=batch)
    Batch.objects.filter(pk=batch.pk).update(published_at=timezone.now() - timedelta(days=days_ago))
    return Batch.objects.get(pk=batch.pk)


def _total(client, query: str) -> Decimal:
    body = client.get(f"/api/v1/summary/?by=program&{query}").json()
    return sum((Decimal(g["total"]) for g in body["results"]), Decimal("0.00"))


def test_a_total_from_a_month_ago_is_reproduced_after_corrections_and_withdrawals(auditor_api):
    program = make_program()
    kept = _published(program, range(3), days_ago=40)
    dropped = _published(program, range(10, 12), days_ago=35, amount="250.00")
    month_ago = quote((timezone.now() - timedelta(days=30)).isoformat())
    then = _total(auditor_api, f"as_of={month_ago}")
    assert then == Decimal("800.00")

    # Later: a correction of the first batch, the second withdrawn, a new batch published.
    row = kept.disbursements.order_by("id").first()
    correction = correct_batch(
        original=kept, changes={row.pk: Replacement(Decimal("1.00"))},
        source_name="c.xlsx", source_sha256="c" * 64,
    )  # fmt: skip
    publish_batch(batch=correction)
    withdraw_batch(batch=dropped, reason="重复")
    _published(program, range(20, 21), days_ago=1, amount="7.00")

    now = _total(auditor_api, "")
    assert now == Decimal("300.00") - Decimal("99.00") + Decimal("7.00")
    assert _total(auditor_api, f"as_of={month_ago}") == then, "the past does not move"
    # Every path agrees: the rows themselves, and the list.
    every_row = "amount_min=-999999999999.99"
    assert _total(auditor_api, f"as_of={month_ago}&{every_row}") == then
    ids, url = [], f"/api/v1/disbursements/?as_of={month_ago}&page_size=500"
    while url:
        body = auditor_api.get(url).json()
        ids += [r["id"] for r in body["results"]]
        url = body["next"]
    assert len(ids) == 5


def test_the_summary_says_the_moment_it_reflects(api):
    body = api.get("/api/v1/summary/?by=program&as_of=2026-03-01T08:00:00%2B08:00").json()
    assert body["as_of"] == "2026-03-01T00:00:00+00:00" and body["batch_status"] == []
    assert api.get("/api/v1/summary/?by=program").json()["as_of"]


@pytest.mark.parametrize("query", ["as_of=yesterday", "as_of=2026-02-30T00:00:00Z"])
def test_a_bad_moment_is_a_400(auditor_api, query):
    response = auditor_api.get(f"/api/v1/summary/?by=program&{query}")
    assert response.status_code == 400 and "as_of" in response.json()
