"""Summaries: grouped totals that equal the sum of their rows to the cent."""

import random
from collections import defaultdict
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from funds.models import Batch, Disbursement
from funds.publishing import Replacement, correct_batch, publish_batch
from tests.api.conftest import new_batch, pay, settle
from tests.factories import make_household, make_program, make_village, unique_id_number

pytestmark = pytest.mark.django_db


@pytest.fixture
def random_rows(db):
    """Sixty published rows with random amounts to the cent over 3 villages and 4 months."""
    rng = random.Random(20260301)
    program = make_program("随机补贴")
    villages = [make_village(f"随机{i}村", f"随机{i % 2}镇") for i in range(3)]
    rows = []
    for month in range(1, 5):
        for village in villages:
            batch = new_batch(
                program,
                village.township,
                period=f"2025-{month:02d}",
                status=Batch.Status.FINAL,
                n=month * 100 + village.pk,
            )
            for k in range(5):
                n = village.pk * 10 + k
                household = make_household(village, head_name="随机", head_id=unique_id_number(n))
                amount = Decimal(rng.randint(1, 99_999_999)) / 100
                rows.append(pay(batch, household.head, household, amount))
            settle([batch])
    return rows


EVERY_ROW = "amount_min=-999999999999.99"  # a row-level filter that keeps every row

KEYS = {
    "village": lambda d: d.village_id,
    "township": lambda d: d.batch.township_id,
    "program": lambda d: d.program_id,
    "period": lambda d: d.period,
    "household": lambda d: d.household_id,
}


@pytest.mark.parametrize("path", ["batch totals", "rows"])
@pytest.mark.parametrize("by", KEYS)
def test_totals_equal_the_sum_of_rows_to_the_cent(api, random_rows, by, path):
    """Each group's total and count equal those of its rows, exactly, whichever path answers
    (a row-level filter that keeps every row makes by=program|township|period read rows)."""
    want = defaultdict(lambda: [Decimal("0.00"), 0])
    for row in Disbursement.objects.select_related("batch"):
        want[KEYS[by](row)][0] += row.amount
        want[KEYS[by](row)][1] += 1
    extra = f"&{EVERY_ROW}" if path == "rows" else ""
    body = api.get(f"/api/v1/summary/?by={by}&page_size=1000{extra}").json()
    got = {g["id"]: [Decimal(g["total"]), g["count"]] for g in body["results"]}
    assert got == {k: v for k, v in want.items()}
    assert all(len(g["total"].split(".")[1]) == 2 for g in body["results"])


def test_period_groups_are_named_by_the_period(api, random_rows):
    """by=period gives the period string as id and name."""
    groups = api.get("/api/v1/summary/?by=period").json()["results"]
    assert [(g["id"], g["name"]) for g in groups] == [
        ("2025-01", "2025-01"),
        ("2025-02", "2025-02"),
        ("2025-03", "2025-03"),
        ("2025-04", "2025-04"),
    ]


def test_village_groups_carry_names(api, random_rows):
    """by=village names each village."""
    names = {g["name"] for g in api.get("/api/v1/summary/?by=village").json()["results"]}
    assert names == {"随机0村", "随机1村", "随机2村"}


def test_summary_combines_with_filters(api, random_rows):
    """Filters narrow the rows before they are grouped."""
    village = random_rows[0].village
    body = api.get(
        f"/api/v1/summary/?by=period&village={village.pk}&period_after=2025-02&amount_min=1"
    ).json()
    rows = Disbursement.objects.filter(village=village, period__gte="2025-02", amount__gte=1)
    assert sum(Decimal(g["total"]) for g in body["results"]) == sum(r.amount for r in rows)
    assert sum(g["count"] for g in body["results"]) == rows.count()


def test_summary_leaves_out_drafts(api, world):
    """Draft rows never count in an anonymous summary."""
    body = api.get("/api/v1/summary/?by=program").json()
    total = sum(Decimal(g["total"]) for g in body["results"])
    assert total == sum(d.amount for d in Disbursement.objects.published())


def test_summary_pages_have_next_links(api, random_rows):
    """Many groups are paged without counting them."""
    body = api.get("/api/v1/summary/?by=household&page_size=7").json()
    assert len(body["results"]) == 7 and body["next"] and "count" not in body
    second = api.get(body["next"]).json()
    assert not {g["id"] for g in second["results"]} & {g["id"] for g in body["results"]}


@pytest.mark.parametrize("query", ["by=person", "by=", "by=village&period_after=2025-1"])
def test_bad_summary_requests_are_400(api, world, query):
    """An unknown grouping or bad filter is refused with 400."""
    assert api.get(f"/api/v1/summary/?{query}").status_code == 400


# amount_min at the filter's floor keeps every row but needs the rows: the per-row path.
BATCH_LEVEL_QUERIES = [
    "",
    "program={farm}",
    "township={north_town}",
    "period_after=2026-02",
    "period_after=2026-01&period_before=2026-01",
    "program={farm}&township={east_town}&period_after=2026-01&period_before=2026-03",
    "batch={b5}",
    "batch_status=final",
    "batch_status=draft",
]


@pytest.mark.parametrize("by", ["program", "township", "period"])
@pytest.mark.parametrize("query", BATCH_LEVEL_QUERIES)
@pytest.mark.parametrize("who", ["api", "auditor_api"])
def test_batch_totals_answer_as_the_rows_do(request, world, by, query, who):
    """Summaries from batch totals equal, to the cent and count, those from the rows."""
    client = request.getfixturevalue(who)
    ids = {
        "farm": world.programs["farm"].pk,
        "east_town": world.villages["east"].township_id,
        "north_town": world.villages["north"].township_id,
        "b5": world.published[4].pk,
    }
    query = query.format(**ids)
    with CaptureQueriesContext(connection) as fast_queries:
        fast = client.get(f"/api/v1/summary/?by={by}&{query}")
    slow = client.get(f"/api/v1/summary/?by={by}&{query}&{EVERY_ROW}")
    assert fast.status_code == slow.status_code == 200
    assert fast.json()["results"] == slow.json()["results"]
    assert not any("funds_disbursement" in q["sql"] for q in fast_queries.captured_queries)


def test_corrections_keep_batch_totals_exact(api, world):
    """A correction made by the corrections job sums and counts its reversal rows too."""
    original = world.published[0]
    first, second = original.disbursements.order_by("id")[:2]
    correction = correct_batch(
        original=original,
        changes={first.pk: Replacement(amount=Decimal("1200.55")), second.pk: Replacement(None)},
        source_name="fix.xlsx",
        source_sha256="f" * 64,
    )
    publish_batch(batch=correction)
    for by in ("program", "period", "township"):
        query = f"/api/v1/summary/?by={by}&batch={correction.pk}"
        fast = api.get(query).json()["results"]
        assert fast == api.get(f"{query}&{EVERY_ROW}").json()["results"]
        assert fast[0]["count"] == 3
        assert fast[0]["total"] == f"{Decimal('1200.55') - first.amount - second.amount:.2f}"


@pytest.mark.parametrize("by", ["village", "household"])
def test_row_groupings_read_the_rows(api, world, by):
    """Groupings that are not batch properties are answered from the rows."""
    with CaptureQueriesContext(connection) as queries:
        response = api.get(f"/api/v1/summary/?by={by}&program={world.programs['farm'].pk}")
    assert response.status_code == 200
    assert any("funds_disbursement" in q["sql"] for q in queries.captured_queries)


def test_a_row_filter_reads_the_rows(api, world):
    """A row-level filter (here a village) is never answered from batch totals."""
    village = world.villages["east"]
    body = api.get(f"/api/v1/summary/?by=program&village={village.pk}").json()
    rows = Disbursement.objects.published().filter(village=village)
    assert sum(g["count"] for g in body["results"]) == rows.count()
    assert sum(Decimal(g["total"]) for g in body["results"]) == sum(r.amount for r in rows)
