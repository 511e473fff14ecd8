"""Load benchmark: the production server (gunicorn) under a realistic mix, beside runserver.

Run with ``make bench-load`` (or ``python -m bench.load_bench``; PostgreSQL and Redis needed,
and ``wrk`` on the PATH: ``apt-get install wrk``). One run:

1. creates a fresh database (DATABASE_URL, default sunlight_bench_load) and seeds it with the
   API benchmark's SQL generator: 10 townships, 200 villages, 100,000 households and persons,
   840 batches and ``--rows`` (100,000) published disbursements; one person is given a real
   keyed hash, so that the lookup finds someone;
2. writes throwaway keys (a random signing key and hash key, a fresh Ed25519 log key) into the
   servers' environment, with production settings (``config.settings.production``), Redis on
   a spare database number (``--redis``, default ``redis://127.0.0.1:6379/13``, flushed before
   each cold run), the rate limits raised out of the way (one client makes every request) and
   the TLS switches off for loopback (no certificate; see ``SERVER_ENV``);
3. for each server in turn — ``gunicorn config.wsgi`` with ``--workers`` sync workers (default
   2 × cores + 1, what docs/operations.md recommends) and the baseline ``manage.py runserver``
   (threaded, same settings) — starts it, and drives with ``wrk`` on loopback, for
   ``--duration`` seconds each:
   a. the mix, cold (Redis flushed, server just started): one wrk process per kind of request,
      each with its own connections — village pages (4 connections), household pages (2), the
      lookup (1: POST with the CSRF cookie and token), API lists (2), API summaries (1) and
      CSV exports (1) — over many villages, households, programs and townships;
   b. the same mix again, warm;
   c. the village page alone, warm, over 8 connections (the target case);
4. prints per kind throughput, p50/p95/p99 and errors (non-2xx/3xx answers, timeouts, socket
   errors) for both servers side by side with the ratios, checks the target (village page
   ≥ 300 req/s, p95 < 100 ms, no errors, on gunicorn), writes bench/results/load.json and exits
   1 when the target is missed.

wrk runs on the same two cores as the server, PostgreSQL and Redis: it is the leanest load
generator (C, one thread per process, epoll); locust would take a core of its own.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from bench.common import ROOT, SCRATCH, fresh_database, setup_django

DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/sunlight_bench_load"
DEFAULT_REDIS = "redis://127.0.0.1:6379/13"
TARGET_RPS, TARGET_P95_MS = 300.0, 100.0
LOOKUP_NAME, LOOKUP_ID = "张三", "341122193501089194"  # demo.rostergen.make_id_number(1)
RESULTS = ROOT / "bench" / "results" / "load.json"
#: The mix: kind -> wrk connections (its share of the load).
MIX = {"village page": 4, "household page": 2, "lookup": 1, "API list": 2,
       "API summary": 1, "export CSV": 1}  # fmt: skip
#: Set for both servers: loopback has no TLS, so the switches that need it are off. The names
#: are those of config/settings/production.py; DJANGO_SSL_REDIRECT / DJANGO_SECURE_SSL_REDIRECT
#: cover the SSL-redirect switch whichever name it carries.
SERVER_ENV = {
    "DJANGO_SETTINGS_MODULE": "config.settings.production",
    "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
    "DJANGO_SECURE_COOKIES": "0",
    "DJANGO_HSTS_SECONDS": "0",
    "DJANGO_SSL_REDIRECT": "0",
    "DJANGO_SECURE_SSL_REDIRECT": "0",
    "SUNLIGHT_LOG_LEVEL": "WARNING",
    # One client makes every request: the per-client limits would answer 429 after a few.
    "SUNLIGHT_THROTTLE_ANON": "1000000000/minute",
    "SUNLIGHT_THROTTLE_EXPORT": "1000000000/minute",
    "SUNLIGHT_LOOKUP_PER_CLIENT": "1000000000",
    "SUNLIGHT_LOOKUP_PER_ID": "1000000000",
    "SUNLIGHT_LOOKUP_PER_NAME": "1000000000",
    "SUNLIGHT_LOOKUP_PER_HOUSEHOLD": "1000000000",
    "SUNLIGHT_LOOKUP_PER_HOUR": "1000000000",
}

WRK_SCRIPT = """
local paths = {%(paths)s}
local method, body, headers = "%(method)s", %(body)s, {%(headers)s}
local i = 0
request = function()
  i = i %% #paths + 1
  return wrk.format(method, paths[i], headers, body)
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests": %%d, "duration_us": %%d, "p50_us": %%d, "p95_us": %%d, "p99_us": %%d, ' ..
    '"errors": %%d, "non_2xx_3xx": %%d, "timeouts": %%d}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(95),
    latency:percentile(99), e.connect + e.read + e.write + e.status + e.timeout,
    e.status, e.timeout))
end
"""


# --- set-up -----------------------------------------------------------------------------------


def throwaway_keys() -> dict[str, str]:
    """Keys of production strength made for this run only and never written anywhere."""
    from publicity.translog import Signer

    return {
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "SUNLIGHT_HASH_KEY": secrets.token_hex(32),
        "SUNLIGHT_LOG_SIGNING_KEY": Signer.generate("load-bench.sunlight.invalid").key(),
    }


def seed(rows: int) -> dict:
    """Seed with the API benchmark's generator; give one person a findable ID and name."""
    from django.db import connection

    from bench.api_bench import seed as seed_rows
    from privacy import personal
    from villages.models import Person

    started = time.perf_counter()
    programs = seed_rows(rows)
    Person.objects.filter(pk=1).update(
        id_hash=personal.hash_id_number(LOOKUP_ID), name_hash=personal.hash_name(LOOKUP_NAME)
    )
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM funds_disbursement")
        count = cursor.fetchone()[0]
    return {"programs": programs, "rows": count, "seconds": round(time.perf_counter() - started)}


def paths(programs: list[int], rows: int) -> dict[str, list[str]]:
    """The URLs of each kind of request, spread over the seeded places."""
    # The generator pays program index p in the villages v with (v - 1) % 8 == p, and household
    # h when (h - 1) % 8 < 7 and h ≤ 8 × ROWS / 84 (bench/api_bench.py): ask for places with rows.
    villages = [v for v in (v * 7 % 200 + 1 for v in range(200)) if (v - 1) % 8 < 7]
    households = [(j * 797 % (rows // 84)) * 8 + j % 7 + 1 for j in range(500)]
    paid = [(i % 7 + 1 + 8 * (i * 5 % 25), programs[i % 7]) for i in range(175)]
    return {
        "village page": [f"/villages/{v}/" for v in villages],
        "household page": [f"/households/{h}/" for h in households],
        "lookup": ["/lookup/"],
        "API list": [
            f"/api/v1/disbursements/?village={v}&program={p}&page_size=50" for v, p in paid
        ],
        "API summary": [
            f"/api/v1/summary/?by=program&township={t}" for t in range(1, 11)
        ] + [f"/api/v1/summary/?by=village&program={p}" for p in programs],
        "export CSV": [f"/api/v1/disbursements/export.csv?village={v}" for v in villages[:50]],
    }  # fmt: skip


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_up(port: int, process: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the server exited with {process.returncode}")
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5)
            return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("the server did not answer in time")


def start_server(kind: str, env: dict, *, workers: int, log: Path) -> tuple[subprocess.Popen, int]:
    port = _free_port()
    if kind == "gunicorn":
        command = [
            str(ROOT / ".venv" / "bin" / "gunicorn"), "config.wsgi", "--workers", str(workers),
            "--bind", f"127.0.0.1:{port}", "--backlog", "2048", "--timeout", "60",
        ]  # fmt: skip
    else:
        command = [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"]
    process = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT
    )
    _wait_up(port, process)
    return process, port


def stop_server(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def csrf(port: int) -> tuple[str, str]:
    """Return the CSRF cookie and form token of the lookup page, as a browser gets them."""
    response = urllib.request.urlopen(f"http://127.0.0.1:{port}/lookup/")
    cookie = next(
        c.split(";", 1)[0].split("=", 1)[1]
        for c in response.headers.get_all("Set-Cookie") or []
        if c.startswith("csrftoken=")
    )
    page = response.read().decode()
    token = page.split('name="csrfmiddlewaretoken" value="', 1)[1].split('"', 1)[0]
    return cookie, token


def sanity_check(port: int, urls: dict[str, list[str]]) -> None:
    """Each kind answers 200 before anything is measured (a redirect to https would not)."""
    for kind, kind_paths in urls.items():
        if kind == "lookup":
            continue
        request = urllib.request.Request(f"http://127.0.0.1:{port}{kind_paths[0]}")
        try:
            status = urllib.request.urlopen(request, timeout=60).status  # noqa: S310
        except OSError as error:
            raise SystemExit(
                f"{kind} {kind_paths[0]} failed ({error}); is the SSL redirect on? "
                "See SERVER_ENV in bench/load_bench.py"
            ) from None
        if status != 200:
            raise SystemExit(f"{kind} {kind_paths[0]} answered {status}")


# --- measuring --------------------------------------------------------------------------------


def _lua_list(items: list[str]) -> str:
    return ", ".join(json.dumps(item, ensure_ascii=False) for item in items)


def wrk_script(kind: str, kind_paths: list[str], port: int, folder: Path) -> Path:
    if kind == "lookup":
        cookie, token = csrf(port)
        body = f"csrfmiddlewaretoken={token}&name=%E5%BC%A0%E4%B8%89&id_number={LOOKUP_ID}&year="
        values = {
            "method": "POST", "body": json.dumps(body),
            "headers": (
                '["Content-Type"] = "application/x-www-form-urlencoded", '
                f'["Cookie"] = "csrftoken={cookie}"'
            ),
        }  # fmt: skip
    else:
        values = {"method": "GET", "body": "nil", "headers": ""}
    script = folder / f"{kind.replace(' ', '_')}.lua"
    script.write_text(WRK_SCRIPT % {"paths": _lua_list(kind_paths), **values})
    return script


def run_wrk(port: int, plan: dict[str, int], urls: dict[str, list[str]], duration: int) -> dict:
    """Drive every kind in PLAN at once, each from its own wrk process; return their figures."""
    folder = Path(tempfile.mkdtemp(prefix="load-", dir=SCRATCH))
    running = {}
    for kind, connections in plan.items():
        script = wrk_script(kind, urls[kind], port, folder)
        command = [
            "wrk", "-t1", f"-c{connections}", f"-d{duration}s", "--timeout", "10s",
            "-s", str(script), f"http://127.0.0.1:{port}",
        ]  # fmt: skip
        running[kind] = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    results = {}
    for kind, process in running.items():
        out, _ = process.communicate(timeout=duration + 120)
        figures = json.loads(out.strip().splitlines()[-1])
        seconds = figures["duration_us"] / 1e6
        results[kind] = {
            "requests": figures["requests"],
            "rps": round(figures["requests"] / seconds, 1),
            "p50_ms": round(figures["p50_us"] / 1000, 1),
            "p95_ms": round(figures["p95_us"] / 1000, 1),
            "p99_ms": round(figures["p99_us"] / 1000, 1),
            "errors": figures["errors"],
            # answers other than 2xx/3xx, timeouts; the rest are socket errors (a connection
            # closed mid-answer: runserver ends a streamed export by closing it)
            "status_errors": figures["non_2xx_3xx"],
            "timeouts": figures["timeouts"],
        }
    shutil.rmtree(folder, ignore_errors=True)
    return results


def flush_redis(url: str) -> None:
    import redis

    redis.Redis.from_url(url).flushdb()


def measure(server: str, env: dict, args, urls: dict[str, list[str]]) -> dict:
    """Start SERVER cold, drive the mix cold, then warm, then the village page alone."""
    flush_redis(args.redis)
    log = SCRATCH / f"load-{server}.log"
    process, port = start_server(server, env, workers=args.workers, log=log)
    try:
        sanity_check(port, urls)
        flush_redis(args.redis)  # the sanity check must not warm anything
        phases = {"mix, cold": run_wrk(port, MIX, urls, args.duration)}
        phases["mix, warm"] = run_wrk(port, MIX, urls, args.duration)
        village = {"village page": args.village_connections}
        phases["village page alone, warm"] = run_wrk(port, village, urls, args.duration)
    finally:
        stop_server(process)
    return phases


def _errors(figures: dict) -> str:
    """Errors as "total" or "total (status, timeouts, socket)"."""
    total, status, timeouts = figures["errors"], figures["status_errors"], figures["timeouts"]
    if not total:
        return "0"
    return f"{total} ({status}, {timeouts}, {total - status - timeouts})"


def report(results: dict, args, info: dict) -> bool:
    """Print the side-by-side table and the target; return whether the target is met."""
    load = os.getloadavg()
    print(
        f"\nLoad benchmark: {info['rows']:,} published disbursements, 200 villages; "
        f"gunicorn {args.workers} sync workers vs runserver (threaded), production settings, "
        f"PostgreSQL + Redis, wrk on loopback, {args.duration} s per phase; "
        f"load average after {load[0]:.1f}\n"
    )
    header = (
        "| phase | kind | gunicorn req/s | runserver req/s | ratio | gunicorn p50 / p95 / p99 ms "
        "| runserver p50 / p95 / p99 ms | errors g / r (status, timeouts, socket) |"
    )
    print(header)
    print("|---|---|---:|---:|---:|---|---|---|")
    gunicorn, runserver = results["gunicorn"], results.get("runserver", {})
    for phase, kinds in gunicorn.items():
        for kind, g in kinds.items():
            r = runserver.get(phase, {}).get(kind)
            ratio = f"{g['rps'] / r['rps']:.1f}×" if r and r["rps"] else "—"
            rs = f"{r['rps']:,.1f}" if r else "—"
            rl = f"{r['p50_ms']} / {r['p95_ms']} / {r['p99_ms']}" if r else "—"
            re = _errors(r) if r else "—"
            print(
                f"| {phase} | {kind} | {g['rps']:,.1f} | {rs} | {ratio} | "
                f"{g['p50_ms']} / {g['p95_ms']} / {g['p99_ms']} | {rl} | {_errors(g)} / {re} |"
            )
    village = gunicorn["village page alone, warm"]["village page"]
    met = village["rps"] >= TARGET_RPS and village["p95_ms"] < TARGET_P95_MS
    met = met and village["errors"] == 0
    print(
        f"\nTarget (gunicorn, village page alone, warm): {village['rps']:,.1f} req/s "
        f"(≥ {TARGET_RPS:.0f}), p95 {village['p95_ms']} ms (< {TARGET_P95_MS:.0f}), "
        f"{village['errors']} errors (0): {'met' if met else 'MISSED'}"
    )
    return met


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default=os.environ.get("DATABASE_URL", DEFAULT_DB))
    parser.add_argument("--redis", default=os.environ.get("LOAD_BENCH_REDIS_URL", DEFAULT_REDIS))
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--duration", type=int, default=30, help="seconds per phase")
    parser.add_argument(
        "--workers", type=int, default=2 * (os.cpu_count() or 1) + 1, help="gunicorn workers"
    )
    parser.add_argument("--village-connections", type=int, default=8)
    parser.add_argument("--no-seed", action="store_true", help="reuse the seeded database")
    parser.add_argument("--no-baseline", action="store_true", help="skip runserver")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is needed on the PATH (Debian: apt-get install wrk)")
    SCRATCH.mkdir(parents=True, exist_ok=True)

    keys = throwaway_keys()
    os.environ.update(keys)  # the seed's keyed hash must be the servers' key
    if not args.no_seed:
        fresh_database(args.db)
    setup_django(args.db)
    if args.no_seed:
        from funds.models import Program
        from privacy import personal
        from villages.models import Person

        Person.objects.filter(pk=1).update(
            id_hash=personal.hash_id_number(LOOKUP_ID),
            name_hash=personal.hash_name(LOOKUP_NAME),
        )
        programs = list(Program.objects.order_by("id").values_list("id", flat=True)[:7])
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM funds_disbursement")
            info = {"programs": programs, "rows": cursor.fetchone()[0], "seconds": 0}
    else:
        info = seed(args.rows)
        print(f"seeded {info['rows']:,} disbursements in {info['seconds']} s")
    urls = paths(info["programs"], info["rows"])

    env = {
        **os.environ, **keys, **SERVER_ENV,
        "DATABASE_URL": args.db, "REDIS_URL": args.redis, "SUNLIGHT_VAR_DIR": str(SCRATCH),
    }  # fmt: skip
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
        cwd=ROOT, env=env, check=True,
    )  # fmt: skip
    results = {"gunicorn": measure("gunicorn", env, args, urls)}
    if not args.no_baseline:
        results["runserver"] = measure("runserver", env, args, urls)
    met = report(results, args, info)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(
        json.dumps({"args": vars(args), "rows": info["rows"], "results": results}, indent=2)
    )
    if not met:
        sys.exit(1)


if __name__ == "__main__":
    main()
