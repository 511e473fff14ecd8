"""Village page benchmark: server time of the public village page at 2,000 households.

Run with ``make bench`` (or ``python -m bench.village_page_bench``). One run:

1. creates a fresh database (DATABASE_URL, default sunlight_bench_page on PostgreSQL; a
   ``sqlite:///path`` URL works too) and migrates it;
2. seeds one village with 2,000 households (about 5,000 persons) paid by four programs over
   many periods: 10,000 published disbursements in 21 batches, plus a draft batch that
   must not show (bulk_create, masked values and keyed hashes as the importer makes them);
3. requests, through Django's test Client (all middleware, templates, context processors),
   after a warm-up, N times each, interleaved (one of each case per round):
   a. the village page, page 1;
   b. the village page filtered by program and year;
   c. a deep page (page 150 of 200);
   and, side by side in the same run, two baselines:
   d. naive: the same 50 rows rendered from ORM objects without select_related (the N+1
      page a first draft would be), with the totals summed in Python;
   e. floor: a view returning a fixed short page through the same middleware stack.

It prints median and p95 milliseconds and queries per request, the ratios to the
baselines, and the target (median under 100 ms); it writes bench/results/village_page.json.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import statistics
import sys
import time
from decimal import Decimal

from bench.common import ROOT, fresh_database, p95, setup_django

DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/sunlight_bench_page"
TARGET_MEDIAN_MS = 100.0
HOUSEHOLDS, GROUPS = 2000, 10
GROUP_NAMES = ["一组", "二组", "三组", "四组", "五组", "六组", "七组", "八组", "九组", "十组"]

NAIVE_TEMPLATE = """{% extends "base.html" %}{% block content %}
<h1>{{ village.township.name }} {{ village.name }}</h1>
<p>{{ total }} / {{ count }}</p>
<table>{% for d in rows %}<tr><td>{{ d.household.group }}</td><td>{{ d.person.name_masked }}</td>
<td>{{ d.person.id_masked }}</td><td>{{ d.program.name }}</td><td>{{ d.period }}</td>
<td>{{ d.amount }}</td><td>{{ d.get_status_display }}</td></tr>{% endfor %}</table>
{% endblock %}"""


# --- seeding -------------------------------------------------------------------------------


def seed(households: int = HOUSEHOLDS) -> dict:
    """Seed one village of HOUSEHOLDS households and ~5 disbursements per household."""
    from django.db import connection, transaction

    from funds.models import Batch, Disbursement, Program
    from privacy.idnumbers import check_id_number
    from tests.factories import person_name, unique_id_number
    from villages.models import Household, Person, Township, Village

    started = time.perf_counter()
    with transaction.atomic():
        town = Township.objects.create(name="基准镇")
        village = Village.objects.create(township=town, name="基准村")
        people: list[Person] = []
        sizes = [1 + (n % 4) for n in range(households)]  # 1..4 members, 2.5 on average
        n = 0
        for size in sizes:
            for member in range(size):
                n += 1
                values = Person.values_from(
                    name=person_name(n), check=check_id_number(unique_id_number(n))
                )
                people.append(Person(**values, relation_to_head="户主" if member == 0 else "子女"))
        Person.objects.bulk_create(people, batch_size=2000)
        heads, homes, at = [], [], 0
        for h, size in enumerate(sizes):
            head = people[at]
            heads.append(head)
            homes.append(
                Household(
                    village=village,
                    group=GROUP_NAMES[h % GROUPS],
                    head=head,
                )
            )
            at += size
        Household.objects.bulk_create(homes, batch_size=2000)
        at = 0
        for home, size in zip(homes, sizes, strict=True):
            for person in people[at : at + size]:
                person.household = home
            at += size
        Person.objects.bulk_update(people, ["household"], batch_size=2000)

        programs = {
            key: Program.objects.create(
                name=name, slug=f"bench-{key}", category=category, funding_level="central"
            )
            for key, name, category in [
                ("grain", "基准耕地地力保护补贴", "agriculture"),
                ("elderly", "基准高龄津贴", "welfare"),
                ("dibao", "基准农村低保", "assistance"),
                ("forest", "基准生态公益林补偿", "agriculture"),
            ]
        }
        members = [p for p in people if p.relation_to_head != "户主"]
        plan = [  # program, periods, who, amount
            ("grain", ["2025-03", "2026-03"], heads, Decimal("236.50")),
            ("elderly", [f"2026-0{m}" for m in range(1, 7)], members[:300], Decimal("50.00")),
            ("dibao", [f"2025-{m:02d}" for m in range(7, 13)], heads[:200], Decimal("420.00")),
            ("dibao", [f"2026-0{m}" for m in range(1, 7)], heads[:200], Decimal("445.00")),
            ("forest", ["2026-05"], heads[:1800], Decimal("88.80")),
        ]
        rows: list[Disbursement] = []
        batches = 0
        for key, periods, who, amount in plan:
            for period in periods:
                status = Batch.Status.FINAL if period < "2026" else Batch.Status.PUBLICITY
                batch = _batch(programs[key], period, town, status, len(who), amount)
                batches += 1
                rows += [_row(batch, village, person, amount, i) for i, person in enumerate(who)]
        draft = _batch(programs["grain"], "2026-06", town, Batch.Status.DRAFT, 100, Decimal("1"))
        rows += [_row(draft, village, p, Decimal("1.00"), i) for i, p in enumerate(heads[:100])]
        Disbursement.objects.bulk_create(rows, batch_size=5000)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:  # fresh tables: give the planner real statistics
            cursor.execute("ANALYZE")
    return {
        "village": village.pk,
        "households": len(homes),
        "persons": len(people),
        "published_rows": len(rows) - 100,
        "batches": batches,
        "programs": {k: p.slug for k, p in programs.items()},
        "seed_seconds": round(time.perf_counter() - started, 2),
    }


def _batch(program, period: str, town, status: str, count: int, amount: Decimal):
    from funds.models import Batch

    return Batch.objects.create(
        program=program,
        period=period,
        year=int(period[:4]),
        township=town,
        source_name=f"{program.slug}-{period}.xlsx",
        source_sha256=hashlib.sha256(f"{program.slug} {period}".encode()).hexdigest(),
        status=status,
        row_count=count,
        total_amount=amount * count,
    )


def _row(batch, village, person, amount: Decimal, i: int):
    from funds.models import Disbursement

    return Disbursement(
        batch=batch,
        program_id=batch.program_id,
        period=batch.period,
        village=village,
        household_id=person.household_id,
        person=person,
        amount=amount,
        account_masked="6217********0000",
        source_sheet="Sheet1",
        source_row=i + 4,
    )


# --- the views measured ---------------------------------------------------------------------


def naive_village(request, pk):
    """Baseline: ORM objects without select_related, totals summed in Python (N+1)."""
    from django.core.paginator import Paginator
    from django.http import HttpResponse
    from django.shortcuts import get_object_or_404
    from django.template import engines

    from funds.models import Batch, Disbursement
    from villages.models import Village

    village = get_object_or_404(Village, pk=pk)
    rows = Disbursement.objects.filter(
        village=village, batch__status__in=Batch.PUBLIC_STATUSES
    ).order_by("household__group", "household_id", "period", "id")
    page = Paginator(rows, 50).get_page(request.GET.get("page"))
    total = sum(d.amount for d in rows)
    template = engines["django"].from_string(NAIVE_TEMPLATE)
    context = {"village": village, "rows": page.object_list, "total": total, "count": len(rows)}
    return HttpResponse(template.render(context, request))


def floor(request):
    """Baseline: the cheapest page the same middleware stack can serve."""
    from django.http import HttpResponse

    return HttpResponse("<!doctype html><title>floor</title><p>ok</p>")


def _urlpatterns() -> list:
    from django.urls import path

    from config import urls as site_urls

    return [
        path("bench/naive/<int:pk>/", naive_village),
        path("bench/floor/", floor),
        *site_urls.urlpatterns,
    ]


urlpatterns: list = []  # filled by measure(), so importing this module stays side-effect free


def _time(client, cases: dict[str, str], *, runs: int, warmup: int) -> dict[str, dict]:
    """Request every case RUNS times, interleaved so that load changes hit all cases alike."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    queries, sizes, timings = {}, {}, {name: [] for name in cases}
    for name, url in cases.items():
        for _ in range(warmup):
            response = client.get(url)
            if response.status_code != 200:
                raise SystemExit(f"{url} answered {response.status_code}")
        with CaptureQueriesContext(connection) as captured:
            response = client.get(url)
        # Read now: the captured slice points into a log that the next request resets.
        queries[name], sizes[name] = len(captured), len(response.content)
    for _ in range(runs):
        for name, url in cases.items():
            started = time.perf_counter()
            client.get(url)
            timings[name].append((time.perf_counter() - started) * 1000)
    return {
        name: {
            "url": url,
            "median_ms": round(statistics.median(timings[name]), 2),
            "p95_ms": round(p95(timings[name]), 2),
            "queries": queries[name],
            "bytes": sizes[name],
        }
        for name, url in cases.items()
    }


def measure(info: dict, *, runs: int, warmup: int) -> dict:
    """Time the village page variants and the two baselines in one process."""
    from django.test import Client, override_settings
    from django.urls import reverse

    urlpatterns[:] = _urlpatterns()
    with override_settings(ROOT_URLCONF=__name__, ALLOWED_HOSTS=["testserver"]):
        client = Client()
        village = reverse("publicity:village", args=[info["village"]])
        cases = {
            "village page 1": village,
            "village filtered": f"{village}?program={info['programs']['dibao']}&year=2026",
            "village page 150": f"{village}?page=150",
            "naive baseline page 1": f"/bench/naive/{info['village']}/",
            "floor baseline": "/bench/floor/",
        }
        results = _time(client, cases, runs=runs, warmup=warmup)
        page = client.get(village).content.decode()
    if page.count("<tr") < 50 or "基准耕地地力保护补贴" not in page:
        raise SystemExit("the village page did not show the seeded rows")
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default=os.environ.get("DATABASE_URL", DEFAULT_DB))
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--households", type=int, default=HOUSEHOLDS)
    parser.add_argument("--keep-db", action="store_true", help="reuse an already seeded DB")
    args = parser.parse_args()

    if not args.keep_db:
        fresh_database(args.db)
    setup_django(args.db)
    from django.db import connection

    info = seed(args.households) if not args.keep_db else _existing()
    results = measure(info, runs=args.runs, warmup=args.warmup)
    load = os.getloadavg()[0]
    page1 = results["village page 1"]["median_ms"]
    naive = results["naive baseline page 1"]["median_ms"]
    floor_ms = results["floor baseline"]["median_ms"]
    print(
        f"Village page benchmark on {connection.vendor} ({args.db.rsplit('@', 1)[-1]}): "
        f"{info['households']} households, {info['persons']} persons, "
        f"{info['published_rows']} published rows in {info['batches']} batches "
        f"(seeded in {info['seed_seconds']} s); {args.runs} runs after {args.warmup} warm-up; "
        f"load average {load:.1f} on {os.cpu_count()} CPUs"
    )
    print(f"{'case':<24}{'median ms':>11}{'p95 ms':>10}{'queries':>9}{'KiB':>8}")
    for name, r in results.items():
        print(
            f"{name:<24}{r['median_ms']:>11.2f}{r['p95_ms']:>10.2f}{r['queries']:>9}"
            f"{r['bytes'] / 1024:>8.1f}"
        )
    verdict = "meets" if page1 < TARGET_MEDIAN_MS else "MISSES"
    print(
        f"village page 1: {naive / page1:.1f}x faster than the naive ORM page, "
        f"{page1 / floor_ms:.1f}x the middleware floor; median {page1:.1f} ms {verdict} "
        f"the {TARGET_MEDIAN_MS:.0f} ms target"
    )
    out = ROOT / "bench" / "results" / "village_page.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    report = {"seed": info, "results": results, "load_average": load, "vendor": connection.vendor}
    out.write_text(json.dumps(report, indent=2, ensure_ascii=False))
    if page1 >= TARGET_MEDIAN_MS:
        sys.exit(1)


def _existing() -> dict:
    from funds.models import Batch, Disbursement
    from villages.models import Household, Person, Village

    village = Village.objects.get(name="基准村")
    rows = Disbursement.objects.published().filter(village=village)
    return {
        "village": village.pk,
        "households": Household.objects.filter(village=village).count(),
        "persons": Person.objects.filter(household__village=village).count(),
        "published_rows": rows.count(),
        "batches": Batch.objects.published().count(),
        "programs": {k: f"bench-{k}" for k in ("grain", "elderly", "dibao", "forest")},
        "seed_seconds": 0.0,
    }


if __name__ == "__main__":
    main()
