"""Red flags find the planted cases, and only them, with one query each."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from funds.models import Batch, Disbursement
from tests.api.conftest import new_batch, pay
from tests.factories import make_program

pytestmark = pytest.mark.django_db

KINDS = [
    "person_in_two_households",
    "paid_twice",
    "shared_account",
    "amount_mismatch",
    "above_rate_or_cap",
    "age_rule",
    "changed_account",
    "exclusive_programs",
    "same_id_different_name",
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


def _farm_batch(world, n: int):
    farm, east = world.programs["farm"], world.villages["east"]
    return new_batch(farm, east.township, period="2026-05", status=Batch.Status.FINAL, n=n)


def test_a_roster_rate_other_than_the_catalogue_rate_is_not_above_rate(auditor_api, world):
    """A roster that declares 120.50 a mu where the catalogue says 100.00 is not flagged."""
    household = world.households[0]
    row = pay(
        _farm_batch(world, 50), household.head, household, "1506.25",
        quantity=Decimal("12.5"), rate=Decimal("120.50"),
    )  # fmt: skip
    assert row.pk not in {r["id"] for r in flagged(auditor_api, "above_rate_or_cap")}


def test_a_cent_of_rounding_is_not_above_rate(auditor_api, world):
    """quantity × rate rounded up to the cent is within the roster's own rate."""
    household = world.households[0]
    row = pay(
        _farm_batch(world, 51), household.head, household, "33.50",
        quantity=Decimal("0.3333"), rate=Decimal("100.50"),
    )  # 33.49665  # fmt: skip
    assert row.pk not in {r["id"] for r in flagged(auditor_api, "above_rate_or_cap")}


def test_above_rate_or_cap_says_the_rule_the_expected_amount_and_the_gap(auditor_api, world):
    """Each row over its own rate or the program's cap names the rule, expected and gap."""
    rows = {r["id"]: r for r in flagged(auditor_api, "above_rate_or_cap")}
    found = {(r["rule"], r["expected"], r["gap"], r["amount"]) for r in rows.values()}
    assert found == {
        ("rate_times_quantity", "1250.00", "50.00", "1300.00"),  # 12.5 mu × 100.00
        ("rate_per_person", "100.00", "50.00", "150.00"),  # the roster's 100.00 a person
        ("cap", "1000.00", "200.00", "1200.00"),  # the machinery program's cap
    }


def test_amount_mismatch_and_age_rule_say_expected_and_gap(auditor_api, world):
    """amount_mismatch gives quantity × rate; age_rule gives the age bound and years off."""
    (mismatch,) = flagged(auditor_api, "amount_mismatch")
    assert (mismatch["rule"], mismatch["expected"], mismatch["gap"]) == (
        "quantity_times_rate", "1250.00", "50.00",
    )  # fmt: skip
    (young,) = flagged(auditor_api, "age_rule")
    assert (young["rule"], young["expected"], young["gap"]) == ("min_age", "80", "-4")


def test_case_kinds_name_their_rule_without_an_expected_value(auditor_api, world):
    """Kinds that compare rows with each other name the rule and leave expected/gap empty."""
    for kind in ("person_in_two_households", "paid_twice", "shared_account"):
        rows = flagged(auditor_api, kind)
        assert rows and all(
            (r["rule"], r["expected"], r["gap"]) == (kind, None, None) for r in rows
        )


def test_a_person_paid_by_one_program_into_another_account_is_flagged(auditor_api, world):
    """Person 1's January farm subsidy went to a shared account; in February to another."""
    head, household = world.households[1].head, world.households[1]
    moved = pay(world.published[1], head, household, "1250.00", account="6228480000000000001")
    first = Disbursement.objects.get(batch=world.published[0], person=head)
    rows = flagged(auditor_api, "changed_account")
    assert {r["id"] for r in rows} == {first.pk, moved.pk}
    assert {r["rule"] for r in rows} == {"changed_account"} and len({r["group"] for r in rows}) == 1


def test_two_programs_that_exclude_each_other_in_one_period_are_flagged(
    auditor_api, world, settings
):
    dibao = make_program("农村低保（测试）", slug="dibao-test")
    tekun = make_program("特困供养（测试）", slug="tekun-test")
    settings.SUNLIGHT_EXCLUSIVE_PROGRAMS = [("dibao-test", "tekun-test")]
    town = world.villages["east"].township
    a = new_batch(dibao, town, period="2026-03", status=Batch.Status.PUBLICITY, n=71)
    b = new_batch(tekun, town, period="2026-03", status=Batch.Status.PUBLICITY, n=72)
    c = new_batch(tekun, town, period="2026-04", status=Batch.Status.PUBLICITY, n=73)
    head, household = world.households[2].head, world.households[2]
    both = {pay(a, head, household, "300.00").pk, pay(b, head, household, "500.00").pk}
    pay(c, world.households[3].head, world.households[3], "500.00")  # only one program
    pay(a, world.households[3].head, world.households[3], "300.00")
    rows = flagged(auditor_api, "exclusive_programs")
    assert {r["id"] for r in rows} == both
