"""API benchmark: the auditors' list page and summaries over 1,000,000 disbursements.

Run with ``python -m bench.api_bench`` (PostgreSQL; DATABASE_URL, default
postgres://postgres@127.0.0.1:5432/sunlight_bench_api). It

1. drops and recreates the database, migrates it and seeds 200 villages in 10 townships,
   100,000 households and persons, 840 batches (7 programs × 12 months × 10 townships,
   a few of them drafts) and 1,000,000 disbursements with INSERT … SELECT generate_series;
2. runs ANALYZE;
3. measures in-process server time (Django test client, after warm-up) of
   a. a filtered disbursement list page (program + village + period range + ordering,
      cursor pagination), beside the same page through LimitOffsetPagination (which runs
      COUNT(*)) and beside the page's own SQL run bare;
   b. summaries (by=village for one program; by=program for a half-year), beside their
      GROUP BY SQL run bare;
4. prints median and p95 for each and the ratios; targets: p95 < 50 ms list, < 200 ms summary.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable

from bench.common import (
    drop_secondary_indexes,
    fresh_database,
    p95,
    seed_villages_and_people,
    setup_django,
)

DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/sunlight_bench_api"
TOWNSHIPS, VILLAGES, HOUSEHOLDS, PERIODS = 10, 200, 100_000, 12
LIST_TARGET_MS, SUMMARY_TARGET_MS = 50, 200


def setup(url: str) -> None:
    """Set Django up on URL with test settings, the benchmark's client not rate-limited."""
    os.environ["SUNLIGHT_THROTTLE_ANON"] = "100000000/minute"
    setup_django(url, settings="config.settings.test")
    from django.test.utils import setup_test_environment

    setup_test_environment()


def seed(rows: int) -> list[int]:
    """Fill the database with SQL; return the program ids used."""
    from django.db import connection

    from funds.models import Program

    programs = list(Program.objects.order_by("id").values_list("id", flat=True)[:7])
    assert len(programs) == 7, "the built-in program catalogue should provide 7 programs"
    program_array = "ARRAY[" + ",".join(map(str, programs)) + "]::bigint[]"
    with connection.cursor() as cur:
        cur.execute(
            """INSERT INTO villages_township (id, name, code, county, created_at)
               SELECT t, '镇' || t, '', '测试县', now() FROM generate_series(1, %s) t""",
            [TOWNSHIPS],
        )
        seed_villages_and_people(
            cur,
            villages_per_township=VILLAGES // TOWNSHIPS,
            villages=VILLAGES,
            households=HOUSEHOLDS,
            id_masked="'341***********' || lpad((p %% 10000)::text, 4, '0')",
        )
        # Batch id = program index × 120 + month index × 10 + township: one per combination.
        cur.execute(
            f"""INSERT INTO funds_batch (id, program_id, period, year, township_id, title,
                   source_name, source_sha256, status, publicity_start, publicity_end,
                   published_at, corrects_id, row_count, household_count, person_count,
                   total_amount, reason, created_at, updated_at)
               SELECT p * 120 + m * 10 + t, ({program_array})[p + 1],
                      '2025-' || lpad((m + 1)::text, 2, '0'), 2025, t, '', 'bench.xlsx',
                      md5('b' || p || '-' || m || '-' || t) || md5('x' || p || m || t),
                      CASE WHEN t = 10 AND m = 11 THEN 'draft' ELSE 'final' END,
                      NULL, NULL, now(), NULL, 0, 0, 0, 0, '', now(), now()
               FROM generate_series(0, 6) p, generate_series(0, %s) m,
                    generate_series(1, %s) t""",
            [PERIODS - 1, TOWNSHIPS],
        )
        # Each (program, month) pays distinct households: there must be enough of them.
        per_group = rows // (7 * PERIODS) + 1
        assert per_group * 8 < HOUSEHOLDS + 8
        # Bulk-load practice: drop the secondary indexes, load, then build them once.
        indexes = drop_secondary_indexes(cur)
        # Row i: program i % 7, month (i / 7) % 12, k = i / 84 picks a distinct household
        # within each (program, month), so "paid once per program and period" holds.
        cur.execute(
            f"""INSERT INTO funds_disbursement (batch_id, program_id, period, village_id,
                   household_id, person_id, payee_id, quantity, rate, amount, pay_date,
                   account_masked, account_hash, status, is_reversal, corrects_id, note,
                   source_sheet, source_row, name_masked, name_hash)
               SELECT p * 120 + m * 10 + ((h - 1) %% {VILLAGES}) / {VILLAGES // TOWNSHIPS} + 1,
                      ({program_array})[p + 1], '2025-' || lpad((m + 1)::text, 2, '0'),
                      (h - 1) %% {VILLAGES} + 1, h, h, NULL,
                      (i %% 50 + 1)::numeric / 2, 100,
                      ((i::bigint * 7919) %% 100000)::numeric / 100 + 50,
                      make_date(2025, m + 1, 20), '6217****' || lpad((h %% 10000)::text, 4, '0'),
                      md5('a' || h), CASE WHEN i %% 97 = 0 THEN 'failed' ELSE 'paid' END,
                      false, NULL, '', 'Sheet1', i %% 5000 + 4, '张*', md5('n' || h)
               FROM (SELECT i, i %% 7 AS p, (i / 7) %% {PERIODS} AS m,
                            ((i / {7 * PERIODS}) * 8 + i %% 7) %% {HOUSEHOLDS} + 1 AS h
                     FROM generate_series(0, %s) i) s""",
            [rows - 1],
        )
        for definition in indexes:
            cur.execute(definition)
        cur.execute(
            """UPDATE funds_batch b SET row_count = s.n, total_amount = s.total
               FROM (SELECT batch_id, count(*) n, sum(amount) total FROM funds_disbursement
                     GROUP BY batch_id) s WHERE s.batch_id = b.id"""
        )
        for table in (
            "villages_township",
            "villages_village",
            "villages_household",
            "villages_person",
            "funds_disbursement",
        ):
            cur.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT max(id) FROM {table}))"
            )
        cur.execute("VACUUM ANALYZE")
    return programs


def timed(call: Callable[[int], None], *, n: int, warmup: int) -> list[float]:
    """Return N timings in ms of CALL(i) after WARMUP untimed calls."""
    for i in range(warmup):
        call(i)
    samples = []
    for i in range(n):
        started = time.perf_counter()
        call(i)
        samples.append((time.perf_counter() - started) * 1000)
    return samples


urlpatterns: list = []  # the site's URLs and the baseline's, filled by main()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--no-seed", action="store_true", help="reuse the seeded database")
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL", DEFAULT_DB)
    if not args.no_seed:
        fresh_database(url)
    setup(url)
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client, override_settings
    from django.urls import path
    from rest_framework.pagination import LimitOffsetPagination

    from api.selectors import visible_disbursements
    from api.serializers import DISBURSEMENT_VALUES
    from api.views import DisbursementViewSet
    from config import urls as site_urls
    from funds.models import Program
    from villages.models import Person

    class CountingList(DisbursementViewSet):
        """The same list through LimitOffsetPagination, which runs COUNT(*)."""

        pagination_class = LimitOffsetPagination

    # The baseline is served like the page: same URL resolution, middleware and rendering.
    urlpatterns[:] = [
        path("bench/counting-list/", CountingList.as_view({"get": "list"})),
        *site_urls.urlpatterns,
    ]
    override_settings(ROOT_URLCONF=__name__).enable()

    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    if not args.no_seed:
        programs = seed(args.rows)
        print(f"seeded {args.rows:,} disbursements in {time.perf_counter() - started:.0f} s")
    else:
        programs = list(Program.objects.order_by("id").values_list("id", flat=True)[:7])
        with connection.cursor() as cur:
            cur.execute("VACUUM ANALYZE funds_disbursement")

    client = Client()
    n, warmup = args.requests, 20

    def village_of(i: int) -> int:
        # Program index p pays households whose village is p + 1 modulo 8 (see seed()).
        return i % 7 + 1 + 8 * (i * 5 % (VILLAGES // 8))

    def list_params(i: int) -> dict:
        return {
            "program": programs[i % 7],
            "village": village_of(i),
            "period_after": "2025-03",
            "period_before": "2025-09",
            "ordering": "-amount",
            "page_size": 100,
        }

    def get(path: str, params: dict) -> None:
        response = client.get(path, params)
        assert response.status_code == 200, (response.status_code, response.content[:300])

    results: dict[str, list[float]] = {}
    results["list (cursor)"] = timed(
        lambda i: get("/api/v1/disbursements/", list_params(i)), n=n, warmup=warmup
    )

    def counting(i: int) -> None:
        params = {**list_params(i), "limit": 100}
        params.pop("page_size")
        response = client.get("/bench/counting-list/", params)
        assert response.status_code == 200 and response.json()["results"], "rows expected"

    results["list (limit/offset + COUNT)"] = timed(counting, n=n, warmup=warmup)

    def bare_list_sql(i: int) -> None:
        # The page's own two queries: the sorted, limited rows, then their persons' masks.
        rows = (
            visible_disbursements(auditor=False)
            .filter(
                program_id=programs[i % 7],
                village_id=village_of(i),
                period__gte="2025-03",
                period__lte="2025-09",
            )
            .values(*DISBURSEMENT_VALUES)
            .order_by("-amount", "id")[:101]
        )
        page = list(rows)
        assert page, "the list case should find rows"
        persons = Person.objects.filter(pk__in={r["person_id"] for r in page})
        list(persons.values_list("pk", "name_masked", "id_masked"))

    results["list SQL alone"] = timed(bare_list_sql, n=n, warmup=warmup)

    def summary_village(i: int) -> None:
        get("/api/v1/summary/", {"by": "village", "program": programs[i % 7]})

    def summary_program(i: int) -> None:
        months = [("2025-01", "2025-06"), ("2025-07", "2025-12")][i % 2]
        get(
            "/api/v1/summary/",
            {
                "by": "program",
                "period_after": months[0],
                "period_before": months[1],
                "township": i % TOWNSHIPS + 1,
            },
        )

    def summary_program_all(i: int) -> None:
        months = [("2025-01", "2025-06"), ("2025-07", "2025-12")][i % 2]
        get(
            "/api/v1/summary/",
            {"by": "program", "period_after": months[0], "period_before": months[1]},
        )

    summary_n = max(20, n // 4)
    results["summary by=village&program=…"] = timed(summary_village, n=summary_n, warmup=5)
    results["summary by=program&township=…&period range"] = timed(
        summary_program, n=summary_n, warmup=5
    )
    results["summary by=program&period range (half the table)"] = timed(
        summary_program_all, n=summary_n, warmup=5
    )

    def bare_summary_sql(i: int) -> None:
        from django.db.models import Count, F, Sum

        groups = (
            visible_disbursements(auditor=False)
            .filter(program_id=programs[i % 7])
            .order_by()
            .values(group_id=F("village_id"))
            .annotate(total=Sum("amount"), count=Count("*"))
            .order_by("group_id")[:1001]
        )
        sql, params = groups.query.sql_with_params()
        with connection.cursor() as cur:
            cur.execute(sql, params)
            cur.fetchall()

    results["summary by=village SQL alone"] = timed(bare_summary_sql, n=summary_n, warmup=5)

    print(f"\n{'case':52} {'median ms':>10} {'p95 ms':>10}")
    for label, samples in results.items():
        print(f"{label:52} {statistics.median(samples):10.1f} {p95(samples):10.1f}")
    med = {label: statistics.median(samples) for label, samples in results.items()}
    print(
        f"\nlist p95 {p95(results['list (cursor)']):.1f} ms (target < {LIST_TARGET_MS}); "
        f"limit/offset+COUNT / cursor = "
        f"{med['list (limit/offset + COUNT)'] / med['list (cursor)']:.1f}x; "
        f"cursor page / its bare SQL = {med['list (cursor)'] / med['list SQL alone']:.1f}x"
    )
    summaries = [k for k in results if k.startswith("summary by=") and "SQL" not in k]
    missed = p95(results["list (cursor)"]) >= LIST_TARGET_MS
    for label in summaries:
        verdict = "meets" if p95(results[label]) < SUMMARY_TARGET_MS else "MISSES"
        missed = missed or verdict == "MISSES"
        print(f"{label}: p95 {p95(results[label]):.1f} ms, {verdict} < {SUMMARY_TARGET_MS} ms")
    if missed:
        sys.exit(1)


if __name__ == "__main__":
    main()
