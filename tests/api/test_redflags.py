"""Red flags find the planted cases, and only them, with one query each."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from funds.models import Batch
from tests.api.conftest import new_batch, pay

pytestmark = pytest.mark.django_db

KINDS = [
    "person_in_two_households",
    "paid_twice",
    "shared_account",
    "amount_mismatch",
    "above_rate_or_cap",
    "age_rule",
]


def flagged(client, kind: str, query: str = "") -> list[dict]:
    response = client.get(f"/api/v1/redflags/{kind}/?page_size=1000&{query}")
    assert response.status_code == 200, response.content
    return response.json()["results"]


@pytest.mark.parametrize("kind", KINDS)
def test_red_flag_lists_exactly_the_planted_rows(auditor_api, world, kind):
    """Each red flag lists the rows planted for it and no clean row."""
    assert {row["id"] for row in flagged(auditor_api, kind)} == world.flagged[kind]


@pytest.mark.parametrize("kind", KINDS)
def test_red_flag_rows_show_masked_person_batch_village_and_amount(auditor_api, world, kind):
    """Each row names the masked person, batch, village and amount, grouped by case."""
    rows = flagged(auditor_api, kind)
    for row in rows:
        assert "*" in row["person_name_masked"] and "*" in row["person_id_masked"]
        assert row["batch"] and row["village_name"] and row["amount"].count(".") == 1
    groups = [row["group"] for row in rows]
    assert groups == sorted(groups, key=groups.index)  # a case's rows are adjacent


def test_index_counts_each_kind(auditor_api, world):
    """The index gives each kind's row count and a link to its list."""
    results = auditor_api.get("/api/v1/redflags/").json()["results"]
    assert {r["kind"]: r["rows"] for r in results} == {k: len(world.flagged[k]) for k in KINDS}
    assert all(r["url"].endswith(f"/api/v1/redflags/{r['kind']}/") for r in results)


@pytest.mark.parametrize("kind", KINDS)
def test_red_flags_run_a_fixed_number_of_queries(auditor_api, world, kind):
    """A red-flag page is found by aggregate SQL, not by a loop over rows."""
    with CaptureQueriesContext(connection) as queries:
        flagged(auditor_api, kind)
    # token lookup, last-used stamp, ETag aggregate, the page itself
    assert len(queries.captured_queries) <= 4


def test_reversed_and_failed_payments_are_not_paid_twice(auditor_api, world):
    """A corrected row (reversed and replaced) and a failed attempt are not double payments."""
    ids = {row["id"] for row in flagged(auditor_api, "paid_twice")}
    person4 = world.households[4].head_id
    failed_person = world.households[2].head_id
    rows = flagged(auditor_api, "paid_twice")
    assert not {r["person"] for r in rows} & {person4, failed_person}
    assert ids == world.flagged["paid_twice"]


def test_withdrawn_batches_raise_no_flags(auditor_api, world):
    """A withdrawn batch paying the same person again is not a double payment."""
    farm, east = world.programs["farm"], world.villages["east"]
    withdrawn = new_batch(
        farm, east.township, period="2026-02", status=Batch.Status.WITHDRAWN, n=99
    )
    household = world.households[0]
    pay(withdrawn, household.head, household, "1250.00")
    assert {r["id"] for r in flagged(auditor_api, "paid_twice")} == world.flagged["paid_twice"]


def test_red_flags_take_the_list_filters(auditor_api, world):
    """Filters narrow the rows a red flag looks at."""
    north = world.villages["north"]
    rows = flagged(auditor_api, "above_rate_or_cap", f"village={north.pk}")
    assert rows and all(row["village"] == north.pk for row in rows)


def test_unknown_kind_is_404(auditor_api, world):
    """Asking for a kind that does not exist answers 404."""
    assert auditor_api.get("/api/v1/redflags/nonsense/").status_code == 404
