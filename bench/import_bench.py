"""Import benchmark: Sunlight's roster import against django-import-export and calamine alone.

Run with ``make bench`` (or ``python -m bench.import_bench``). One run, on PostgreSQL:

1. generates a realistic, messy 100,000-row roster (demo.rostergen: title rows, merged
   village cells, padded names, a totals row, a signature footer);
2. creates a fresh database (DATABASE_URL, default sunlight_bench) and migrates it;
3. measures, each in its own subprocess so that peak memory does not mix:
   a. Sunlight end to end: ``funds.importing.jobs.import_roster`` (sniff, parse, validate, mask and
      hash, stage, load with COPY, in one transaction; rows are loaded by a loader thread while
      the rest of the file is parsed);
   b. a plain django-import-export ``ModelResource`` with default settings importing the same
      rows into an equivalent flat table (a bench-only model, created with schema_editor and
      kept out of the product's migrations): all of them, which takes it about 100 s
      (``--baseline-rows N`` feeds it the first N only, for a quick look);
   c. python-calamine alone reading every cell of the file;
   and, after a., the publication of the imported batch (``publish_batch``: every row appended
   to the transparency log in bulk, a checkpoint signed).

It prints rows/s for each, the ratios and peak memory (ru_maxrss of each subprocess).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import threading
import time
from pathlib import Path

from bench.common import ROOT, SCRATCH, checkpoint, fresh_database, setup_django

DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/sunlight_bench"
TARGET_RATE, TARGET_RATIO, TARGET_MB = 20_000, 25, 500
TARGET_PUBLISH_SECONDS = 10  # the imported batch published, its rows appended to the log


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


PHASES = [
    # (label, module, object, attribute). Each phase counts its own time only: a phase run
    # inside another (staging inside the read) is taken out of the outer one.
    ("file checks", "funds.importing.jobs", None, "check_upload"),
    ("read the sheet (calamine)", "funds.importing.roster", None, "workbook_grids"),
    ("parse + validate", "funds.importing.jobs", None, "_read_roster"),
    ("mask + hash", "funds.importing.staging", "Stager", "feed"),
    ("COPY text", "funds.importing.loading", "Preformatter", "prepare"),
    ("summary", "funds.importing.jobs", None, "summarise"),
    ("wait for loader + totals", "funds.importing.loading", "ChunkedLoad", "complete"),
    ("loader thread (overlapped)", "funds.importing.loading", "Loader", "write"),
]


def _time_phases(phases: dict[str, float]) -> None:
    """Wrap the import's steps so that the time spent in each adds up in PHASES."""
    import functools
    import importlib

    nested = threading.local()  # per thread: time spent in inner phases, per open phase

    for label, module_name, owner_name, name in PHASES:
        module = importlib.import_module(module_name)
        owner = getattr(module, owner_name) if owner_name else module
        original = getattr(owner, name)

        def timed(*args, _original=original, _label=label, **kwargs):
            stack = nested.__dict__.setdefault("stack", [])
            stack.append(0.0)
            started = time.perf_counter()
            try:
                return _original(*args, **kwargs)
            finally:
                spent = time.perf_counter() - started
                inner = stack.pop()
                phases[_label] = phases.get(_label, 0.0) + spent - inner
                if stack:
                    stack[-1] += spent

        setattr(owner, name, functools.wraps(original)(timed))


def _backend_cpu_clock():
    """Return a function giving the CPU seconds this connection's PostgreSQL backend has used
    since now, or None when the server is not on this machine (read from /proc)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]

    def used() -> float | None:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return None
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    start = used()
    return lambda: None if start is None else used() - start


def measure_sunlight(path: Path) -> dict:
    """Import the roster end to end through Sunlight, timing each phase."""
    import funds.importing.roster  # noqa: F401 - a worker imports the parser once, not per file
    from funds.importing.jobs import import_roster
    from funds.models import Program

    program = Program.objects.get(name="耕地地力保护补贴")
    phases: dict[str, float] = {}
    _time_phases(phases)
    backend_cpu = _backend_cpu_clock()
    load_before = os.getloadavg()[0]
    cpu_before = time.process_time()
    started = time.perf_counter()
    report = import_roster(path=path, program=program, period="2026-03")
    seconds = time.perf_counter() - started
    cpu = time.process_time() - cpu_before
    pg_cpu = backend_cpu()
    if report.status != "imported":
        raise SystemExit(f"sunlight import failed: {report.status} {report.errors[:3]}")
    published = measure_publication(report.batch)
    serial = sum(v for k, v in phases.items() if "overlapped" not in k)
    phases["other (duplicate check, batch, commit, freeing)"] = seconds - serial
    return {
        "rows": report.rows,
        "seconds": seconds,
        "python_cpu_seconds": round(cpu, 2),
        "postgres_cpu_seconds": None if pg_cpu is None else round(pg_cpu, 2),
        "total": f"{report.total:.2f}",
        "phases": {k: round(v, 3) for k, v in phases.items()},
        "load_avg": [round(load_before, 2), round(os.getloadavg()[0], 2)],
        "publish": published,
    }


def measure_publication(batch_id: int) -> dict:
    """Publish the imported batch: every row appended to the transparency log, then signed."""
    from funds.models import Batch
    from funds.publishing import publish_batch
    from publicity.models import LogLeaf

    batch = Batch.objects.get(pk=batch_id)
    started = time.perf_counter()
    publish_batch(batch=batch)
    seconds = time.perf_counter() - started
    return {"leaves": LogLeaf.objects.filter(batch_id=batch_id).count(), "seconds": seconds}


def _flat_rows(path: Path, limit: int | None) -> list[list]:
    """Return the data rows of the roster as a plain table (village filled down)."""
    from python_calamine import CalamineWorkbook

    sheet = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python()
    header_at = next(i for i, row in enumerate(sheet) if str(row[0]).strip() == "序号")
    rows, village = [], ""
    for row in sheet[header_at + 1 :]:
        if not isinstance(row[0], int | float) or row[0] == "":
            continue
        village = row[1] or village
        rows.append([village, *row[2:]])
        if limit and len(rows) >= limit:
            break
    return rows


def measure_import_export(path: Path, limit: int | None) -> dict:
    """Import the first LIMIT rows with a default django-import-export ModelResource."""
    import tablib
    from django.db import connection, models
    from import_export import resources

    rows = _flat_rows(path, limit)

    class BenchPayment(models.Model):
        village = models.CharField(max_length=100)
        group = models.CharField(max_length=50, blank=True)
        name = models.CharField(max_length=50)
        id_number = models.CharField(max_length=20)
        account = models.CharField(max_length=40, blank=True)
        quantity = models.DecimalField(max_digits=14, decimal_places=4, null=True)
        rate = models.DecimalField(max_digits=14, decimal_places=4, null=True)
        amount = models.DecimalField(max_digits=14, decimal_places=2)
        pay_date = models.CharField(max_length=20, blank=True)
        note = models.CharField(max_length=500, blank=True)

        class Meta:
            app_label = "funds"  # an installed app; the table is made here, never migrated
            db_table = "bench_payment"
            managed = False

        def __str__(self) -> str:
            return self.name

    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_payment")
    with connection.schema_editor() as editor:
        editor.create_model(BenchPayment)

    class PaymentResource(resources.ModelResource):
        class Meta:
            model = BenchPayment

    names = ["village", "group", "name", "id_number", "account", "quantity", "rate", "amount",
             "pay_date", "note"]  # fmt: skip
    dataset = tablib.Dataset(headers=["id", *names])
    numeric = {names.index(n) for n in ("quantity", "rate", "amount")}
    for row in rows:
        values = [("" if v is None else str(v)) for v in (list(row) + [""] * 10)[: len(names)]]
        # The baseline gets clean numbers ("2,397.05元" → "2397.05"): it has no cleaning step.
        for i in numeric:
            values[i] = "".join(ch for ch in values[i] if ch in "0123456789.-") or "0"
        dataset.append(["", *values])
    started = time.perf_counter()
    result = PaymentResource().import_data(dataset, dry_run=False, raise_errors=True)
    seconds = time.perf_counter() - started
    loaded = BenchPayment.objects.count()
    if result.has_errors() or loaded != len(rows):
        raise SystemExit(f"import-export loaded {loaded} of {len(rows)} rows")
    return {"rows": len(rows), "seconds": seconds}


def measure_calamine(path: Path) -> dict:
    """Read every cell of every sheet with python-calamine, nothing else."""
    from python_calamine import CalamineWorkbook

    started = time.perf_counter()
    book = CalamineWorkbook.from_path(str(path))
    count = sum(len(book.get_sheet_by_name(n).to_python()) for n in book.sheet_names)
    return {"rows": count, "seconds": time.perf_counter() - started}


def _child(args: argparse.Namespace) -> None:
    path = Path(args.file)
    if args.measure == "calamine":
        result = measure_calamine(path)
    else:
        setup_django(args.db)
        if args.measure == "sunlight":
            result = measure_sunlight(path)
        else:
            result = measure_import_export(path, args.baseline_rows)
    result["peak_mb"] = round(_peak_mb(), 1)
    print(json.dumps(result))


def _run_child(measure: str, args: argparse.Namespace, path: Path) -> dict:
    checkpoint(args.db)
    command = [sys.executable, "-m", "bench.import_bench", "--child", measure, "--file", str(path),
               "--db", args.db, "--baseline-rows", str(args.baseline_rows)]  # fmt: skip
    out = subprocess.run(command, cwd=ROOT, check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def _generate(rows: int, directory: Path) -> Path:
    sys.path.insert(0, str(ROOT))
    from demo.rostergen import generate_roster

    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"bench-roster-{rows}.xlsx"
    if not path.exists():
        generate_roster(path, fmt="xlsx", rows=rows, seed=2026, villages=["东风村", "红旗村",
                        "新华村", "幸福村", "和平村", "光明村"])  # fmt: skip
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--baseline-rows", type=int, default=0, help="0: every row")
    parser.add_argument("--db", default=os.environ.get("DATABASE_URL", DEFAULT_DB))
    parser.add_argument("--dir", default=str(SCRATCH))
    parser.add_argument("--child", dest="measure", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--file", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if not args.db.startswith("postgres"):
        raise SystemExit("the import benchmark runs on PostgreSQL: set DATABASE_URL=postgres://…")
    if args.measure:
        _child(args)
        return
    started = time.perf_counter()
    path = _generate(args.rows, Path(args.dir))
    print(f"roster: {path} ({path.stat().st_size / 1e6:.1f} MB, {args.rows} rows, "
          f"generated in {time.perf_counter() - started:.1f}s)")  # fmt: skip
    fresh_database(args.db)
    results = {m: _run_child(m, args, path) for m in ("sunlight", "import_export", "calamine")}
    rate = {m: r["rows"] / r["seconds"] for m, r in results.items()}
    print(f"{'measurement':<34}{'rows':>9}{'seconds':>10}{'rows/s':>11}{'peak MB':>10}")
    labels = {
        "sunlight": "Sunlight end to end (PostgreSQL)",
        "import_export": "import-export ModelResource",
        "calamine": "python-calamine read only",
    }
    for m, r in results.items():
        print(f"{labels[m]:<34}{r['rows']:>9}{r['seconds']:>10.2f}{rate[m]:>11,.0f}"
              f"{r['peak_mb']:>10.1f}")  # fmt: skip
    print("import-export is timed from its Dataset: reading the file is not counted for it")
    if results["import_export"]["rows"] < results["sunlight"]["rows"]:
        fed = results["import_export"]["rows"]
        print(f"it was fed {fed} rows only; its rate is taken for all {args.rows}")
    sunlight = results["sunlight"]
    print(f"Sunlight phases (load average {sunlight['load_avg'][0]} before, "
          f"{sunlight['load_avg'][1]} after):")  # fmt: skip
    for phase, spent in sunlight["phases"].items():
        print(f"  {phase:<40}{spent:>7.2f} s {100 * spent / sunlight['seconds']:>5.1f}%")
    publish = sunlight["publish"]
    leaves, spent = publish["leaves"], publish["seconds"]
    print(f"publish_batch (transparency log appended): {leaves} leaves in {spent:.2f} s "
          f"({leaves / spent:,.0f} leaves/s)")  # fmt: skip
    python_cpu, pg_cpu = sunlight["python_cpu_seconds"], sunlight["postgres_cpu_seconds"]
    print(f"  CPU: Python {python_cpu} s (both threads), PostgreSQL backend {pg_cpu} s")
    vs_ie = rate["sunlight"] / rate["import_export"]
    vs_cal = rate["sunlight"] / rate["calamine"]
    print(f"sunlight / import-export: {vs_ie:.1f}x    sunlight / calamine: {vs_cal:.2f}x")
    checks = {
        f"end to end >= {TARGET_RATE:,} rows/s": rate["sunlight"] >= TARGET_RATE,
        f">= {TARGET_RATIO}x import-export": vs_ie >= TARGET_RATIO,
        f"peak memory < {TARGET_MB} MB": results["sunlight"]["peak_mb"] < TARGET_MB,
        f"publication < {TARGET_PUBLISH_SECONDS} s": publish["seconds"] < TARGET_PUBLISH_SECONDS,
    }
    for name, ok in checks.items():
        print(f"  [{'ok' if ok else 'MISSED'}] {name}")
    print(json.dumps({"results": results, "rates": rate}))
    if not all(checks.values()):
        sys.exit(1)


if __name__ == "__main__":
    main()
