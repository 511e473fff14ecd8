"""Scale benchmark: the API's list and summaries at 10,000,000 disbursements against 1,000,000.

Run with ``make bench-scale`` or ``python -m bench.scale_bench`` (PostgreSQL; DATABASE_URL,
default postgres://postgres@127.0.0.1:5432/sunlight_bench_scale; not in CI). In one run it

1. drops and recreates the database, migrates it and seeds, with set-based SQL
   (INSERT … SELECT generate_series), a province's places and people: 60 townships of 20
   villages, 600,000 households and persons, 7 programs paid monthly over five years
   (2021-01 … 2025-12) in each township: 25,200 batches, most final, the last two months in
   publicity, a few drafts and withdrawn batches; every program pays in every village;
2. loads the first 1,000,000 disbursements (row i: program i mod 7, month (i / 7) mod 60,
   a household distinct within its program and month), rebuilds the indexes, ANALYZEs and
   measures;
3. extends the same table to 10,000,000 rows with the same distribution and measures again;
4. prints each case's median and p95 at both sizes and the ratio 10M / 1M.

Cases (in-process through Django's test client, anonymous caller, after a warm-up): the
list's first page and a deep keyset page (a cursor 90 % into the table), each bare and with
common filters (program + township + a year; program + village), and the summaries by
township, by village, and by program for one year.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable

from bench.api_bench import setup, timed
from bench.common import (
    drop_secondary_indexes,
    fresh_database,
    p95,
    seed_villages_and_people,
)

DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/sunlight_bench_scale"
TOWNSHIPS, VILLAGES_PER_TOWNSHIP, HOUSEHOLDS = 60, 20, 600_000
VILLAGES = TOWNSHIPS * VILLAGES_PER_TOWNSHIP
FIRST_YEAR, MONTHS, PROGRAMS = 2021, 60, 7
SIZES = (1_000_000, 10_000_000)


def _period(m: str) -> str:
    """SQL for the period 'YYYY-MM' of month index M (0 = 2021-01)."""
    return f"({FIRST_YEAR} + ({m}) / 12)::text || '-' || lpad((({m}) % 12 + 1)::text, 2, '0')"


def seed_places(programs: list[int]) -> None:
    """Townships, villages, households, persons and every batch, in set-based SQL."""
    from django.db import connection

    array = "ARRAY[" + ",".join(map(str, programs)) + "]::bigint[]"
    with connection.cursor() as cur:
        cur.execute(
            """INSERT INTO villages_township (id, name, code, county, created_at)
               SELECT t, '镇' || t, '', '县' || ((t - 1) / 10 + 1), now()
               FROM generate_series(1, %s) t""",
            [TOWNSHIPS],
        )
        seed_villages_and_people(
            cur, villages_per_township=VILLAGES_PER_TOWNSHIP, villages=VILLAGES,
            households=HOUSEHOLDS, id_masked="'341**************' || (p %% 10)::text",
        )  # fmt: skip
        # Batch id = (program index × months + month index) × townships + township.
        cur.execute(
            f"""INSERT INTO funds_batch (id, program_id, period, year, township_id, title,
                   source_name, source_sha256, status, publicity_start, publicity_end,
                   published_at, corrects_id, row_count, household_count, person_count,
                   total_amount, reason, created_at, updated_at)
               SELECT (p * {MONTHS} + m) * {TOWNSHIPS} + t, ({array})[p + 1], {_period("m")},
                      {FIRST_YEAR} + m / 12, t, '', 'bench.xlsx',
                      md5('b' || p || '-' || m || '-' || t) || md5('x' || p || m || t),
                      CASE WHEN m >= {MONTHS - 1} AND t % 10 = 0 THEN 'draft'
                           WHEN (p * 31 + m * 7 + t) % 211 = 0 THEN 'withdrawn'
                           WHEN m >= {MONTHS - 2} THEN 'publicity'
                           ELSE 'final' END,
                      NULL, NULL, now(), NULL, 0, 0, 0, 0, '', now(), now()
               FROM generate_series(0, {PROGRAMS - 1}) p, generate_series(0, {MONTHS - 1}) m,
                    generate_series(1, {TOWNSHIPS}) t"""
        )
        for table in ("villages_township", "villages_village", "villages_household"):
            cur.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT max(id) FROM {table}))"
            )
        cur.execute(
            "SELECT setval(pg_get_serial_sequence('villages_person', 'id'), "
            "(SELECT max(id) FROM villages_person))"
        )
        cur.execute("ANALYZE")


def add_rows(programs: list[int], start: int, end: int) -> float:
    """Load disbursements START … END-1 (indexes dropped and rebuilt); return the seconds."""
    from django.db import connection

    started = time.perf_counter()
    array = "ARRAY[" + ",".join(map(str, programs)) + "]::bigint[]"
    group = PROGRAMS * MONTHS
    assert (end // group + 1) < HOUSEHOLDS, "each program and month pays distinct households"
    with connection.cursor() as cur:
        indexes = drop_secondary_indexes(cur)
        # k = i / (programs × months) is distinct within a program and month; 7919 is prime
        # to HOUSEHOLDS, so k → household is one-to-one there, spread over every village.
        cur.execute(
            f"""INSERT INTO funds_disbursement (id, batch_id, program_id, period, village_id,
                   household_id, person_id, payee_id, quantity, rate, amount, pay_date,
                   account_masked, account_hash, status, is_reversal, corrects_id, note,
                   source_sheet, source_row, origin_row)
               SELECT i + 1, (p * {MONTHS} + m) * {TOWNSHIPS}
                          + ((h - 1) % {VILLAGES}) / {VILLAGES_PER_TOWNSHIP} + 1,
                      ({array})[p + 1], {_period("m")}, (h - 1) % {VILLAGES} + 1, h, h, NULL,
                      (i % 50 + 1)::numeric / 2, 100,
                      ((i::bigint * 7919) % 100000)::numeric / 100 + 50,
                      make_date({FIRST_YEAR} + m / 12, m % 12 + 1, 20),
                      '6217****' || lpad((h % 10000)::text, 4, '0'), md5('a' || h),
                      CASE WHEN i % 97 = 0 THEN 'failed' WHEN i % 211 = 0 THEN 'stopped'
                           ELSE 'paid' END,
                      false, NULL, '', 'Sheet1', i % 5000 + 4, NULL
               FROM (SELECT i, (i % {PROGRAMS})::int AS p, ((i / {PROGRAMS}) % {MONTHS})::int AS m,
                            ((i / {group})::bigint * 7919 + i % {PROGRAMS} * 104729)
                              % {HOUSEHOLDS} + 1 AS h
                     FROM generate_series({start}::bigint, {end - 1}::bigint) i) s"""
        )
        for definition in indexes:
            cur.execute(definition)
        cur.execute(
            """UPDATE funds_batch b SET row_count = s.n, total_amount = s.total,
                      household_count = s.n, person_count = s.n
               FROM (SELECT batch_id, count(*) n, sum(amount) total FROM funds_disbursement
                     GROUP BY batch_id) s WHERE s.batch_id = b.id"""
        )
        cur.execute(
            "SELECT setval(pg_get_serial_sequence('funds_disbursement', 'id'), "
            "(SELECT max(id) FROM funds_disbursement))"
        )
        # VACUUM sets the visibility map that index-only scans need (autovacuum may be off).
        cur.execute("VACUUM ANALYZE funds_disbursement")
        cur.execute("VACUUM ANALYZE funds_batch")
    return time.perf_counter() - started


def cases(programs: list[int], rows: int) -> dict[str, Callable[[int], str]]:
    """The requests measured, as functions of the request number returning a URL."""
    from django.core import signing
    from django.utils.http import urlencode

    from api.pagination import KeysetCursorPagination

    def deep(i: int, ordering: str = "id") -> str:
        position = {"o": [ordering], "v": None, "i": rows * 9 // 10 + i, "b": False}
        return signing.dumps(position, salt=KeysetCursorPagination.salt, compress=True)

    def program(i: int) -> int:
        return programs[i % PROGRAMS]

    def year(i: int) -> dict:
        y = FIRST_YEAR + 1 + i % 4
        return {"period_after": f"{y}-01", "period_before": f"{y}-12"}

    def url(path: str, params: dict) -> str:
        return f"/api/v1/{path}?{urlencode(params)}"

    township = TOWNSHIPS // 2 + 1
    return {
        "list first page": lambda i: url("disbursements/", {"page_size": 100}),
        "list deep keyset page (90 %)": lambda i: url(
            "disbursements/", {"page_size": 100, "cursor": deep(i)}
        ),
        "list program+township+year, first page": lambda i: url(
            "disbursements/",
            {"page_size": 100, "program": program(i), "township": i % TOWNSHIPS + 1, **year(i)},
        ),
        "list program+township+year, deep page": lambda i: url(
            "disbursements/",
            {
                "page_size": 100,
                "program": program(i),
                "township": township,
                **year(i),
                "cursor": deep(i),
            },
        ),
        "list program+village, first page": lambda i: url(
            "disbursements/", {"page_size": 100, "program": program(i), "village": i % 997 + 1}
        ),
        "summary by=township": lambda i: url("summary/", {"by": "township"}),
        "summary by=village": lambda i: url("summary/", {"by": "village", "page_size": 100}),
        "summary by=village&program=…&year": lambda i: url(
            "summary/", {"by": "village", "program": program(i), **year(i)}
        ),
        "summary by=program&year": lambda i: url("summary/", {"by": "program", **year(i)}),
        "summary by=program&village=…&year": lambda i: url(
            "summary/", {"by": "program", "village": i % 997 + 1, **year(i)}
        ),
    }


def measure(programs: list[int], rows: int, *, n: int) -> dict[str, list[float]]:
    from django.test import Client

    client = Client()
    results = {}
    for label, make in cases(programs, rows).items():

        def call(i: int, make=make) -> None:
            response = client.get(make(i))
            assert response.status_code == 200, (response.status_code, response.content[:300])

        count = n if label.startswith("list") else max(10, n // 5)
        results[label] = timed(call, n=count, warmup=3)
        print(f"  {rows:>10,} {label:44} p95 {p95(results[label]):8.1f} ms", flush=True)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)), help="row counts, rising")
    parser.add_argument("--requests", type=int, default=100, help="per list case (summaries /5)")
    parser.add_argument(
        "--measure-only",
        type=int,
        metavar="ROWS",
        help="measure the database seeded by an earlier run (ROWS rows), migrated since",
    )
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    url = os.environ.get("DATABASE_URL", DEFAULT_DB)
    if not args.measure_only:
        fresh_database(url)
    setup(url)
    from funds.models import Program

    programs = list(Program.objects.order_by("id").values_list("id", flat=True)[:PROGRAMS])
    assert len(programs) == PROGRAMS, "the built-in program catalogue should provide 7 programs"
    if args.measure_only:
        measure(programs, args.measure_only, n=args.requests)
        return
    started = time.perf_counter()
    seed_places(programs)
    print(f"places, people and batches in {time.perf_counter() - started:.0f} s", flush=True)
    measured: dict[int, dict[str, list[float]]] = {}
    loaded = 0
    for size in sizes:
        seconds = add_rows(programs, loaded, size)
        print(f"rows {loaded:,} → {size:,} loaded in {seconds:.0f} s", flush=True)
        loaded = size
        measured[size] = measure(programs, size, n=args.requests)
    small, large = sizes[0], sizes[-1]
    print(f"\n{'case':44} " + " ".join(f"{f'{s:,} med/p95 ms':>24}" for s in sizes) + "  p95 ratio")
    for label in measured[small]:
        cells = [
            f"{statistics.median(measured[s][label]):10.1f} /{p95(measured[s][label]):10.1f}"
            for s in sizes
        ]
        ratio = p95(measured[large][label]) / p95(measured[small][label])
        print(f"{label:44} " + " ".join(f"{c:>24}" for c in cells) + f"  {ratio:8.2f}x")


if __name__ == "__main__":
    main()
