"""Every disbursement filter and ordering, checked against the same question asked of the ORM."""

from datetime import date
from decimal import Decimal

import pytest

from funds.models import Disbursement

pytestmark = pytest.mark.django_db


def listed(api, query: str) -> list[dict]:
    response = api.get(f"/api/v1/disbursements/?page_size=500&{query}")
    assert response.status_code == 200, response.content
    return response.json()["results"]


def expected(**lookups) -> set[int]:
    return set(Disbursement.objects.published().filter(**lookups).values_list("id", flat=True))


CASES = {
    "program": lambda w: (f"program={w.programs['farm'].pk}", {"program": w.programs["farm"]}),
    "township": lambda w: (
        f"township={w.villages['north'].township_id}",
        {"batch__township_id": w.villages["north"].township_id},
    ),
    "village": lambda w: (f"village={w.villages['west'].pk}", {"village": w.villages["west"]}),
    "household": lambda w: (
        f"household={w.households[0].pk}",
        {"household": w.households[0]},
    ),
    "person": lambda w: (f"person={w.households[3].head_id}", {"person": w.households[3].head}),
    "batch": lambda w: (f"batch={w.published[1].pk}", {"batch": w.published[1]}),
    "period range": lambda w: (
        "period_after=2026-02&period_before=2026-03",
        {"period__gte": "2026-02", "period__lte": "2026-03"},
    ),
    "period_after": lambda w: ("period_after=2026-03", {"period__gte": "2026-03"}),
    "pay-date range": lambda w: (
        "pay_date_after=2026-01-21&pay_date_before=2026-02-20",
        {"pay_date__gte": date(2026, 1, 21), "pay_date__lte": date(2026, 2, 20)},
    ),
    "amount range": lambda w: (
        "amount_min=800&amount_max=1250.00",
        {"amount__gte": Decimal("800"), "amount__lte": Decimal("1250")},
    ),
    "amount_min": lambda w: ("amount_min=999.99", {"amount__gte": Decimal("999.99")}),
    "status": lambda w: ("status=failed", {"status": "failed"}),
    "combined": lambda w: (
        f"program={w.programs['farm'].pk}&village={w.villages['east'].pk}&period_before=2026-01",
        {"program": w.programs["farm"], "village": w.villages["east"], "period__lte": "2026-01"},
    ),
}


@pytest.mark.parametrize("case", CASES)
def test_filter_returns_exactly_the_matching_published_rows(api, world, case):
    """Each filter returns the rows the ORM finds for the same condition, and no others."""
    query, lookups = CASES[case](world)
    want = expected(**lookups)
    assert want, "the seed should give this filter something to find"
    assert want != expected(), "the filter should leave something out"
    assert {row["id"] for row in listed(api, query)} == want


@pytest.mark.parametrize(
    ("ordering", "key", "reverse"),
    [
        ("amount", "amount", False),
        ("-amount", "amount", True),
        ("period", "period", False),
        ("-id", "id", True),
        ("pay_date", "pay_date", False),
    ],
)
def test_ordering(api, world, ordering, key, reverse):
    """ordering sorts the rows by the field, descending with a leading minus."""
    rows = listed(api, f"ordering={ordering}")
    values = [Decimal(r[key]) if key == "amount" else r[key] for r in rows]
    if key == "pay_date":
        values = [v for v in values if v is not None]
    assert values == sorted(values, reverse=reverse)


@pytest.mark.parametrize(
    "query",
    [
        "period_after=2026-13",
        "period_before=26-01",
        "pay_date_after=2026-02-30",
        "amount_min=abc",
        "amount_max=1e400",
        "program=-1",
        "village=99999999999999999999",
        "status=unknown",
        "batch_status=nope",
    ],
)
def test_invalid_filter_values_are_400_not_500(api, world, query):
    """A malformed filter value is refused with 400 and a message."""
    response = api.get(f"/api/v1/disbursements/?{query}")
    assert response.status_code == 400
    assert response.json()


def test_unknown_ids_match_nothing(api, world):
    """An id that names nothing gives an empty page, not an error."""
    assert listed(api, "village=987654321") == []


@pytest.mark.parametrize(("text", "value"), [("true", True), ("false", False), ("", None)])
def test_a_flag_reads_true_and_false_as_openapi_sends_them(text, value):
    from api.filters import FlagField

    assert FlagField(required=False).clean(text) is value


@pytest.mark.parametrize("text", ["1", "0", "yes", "True", "FALSE", " true", "on"])
def test_a_flag_refuses_every_other_spelling(text):
    """Django's boolean field would read "yes" as no filter at all: an answer to another
    question. A flag takes the schema's `true` or `false` only."""
    from django import forms

    from api.filters import FlagField

    with pytest.raises(forms.ValidationError):
        FlagField(required=False).clean(text)
