"""What the benchmarks share: Django set-up, a fresh database, a checkpoint, percentiles."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
#: Scratch space for generated rosters, uploads and collected files of benchmark runs.
SCRATCH = Path(tempfile.gettempdir()) / "sunlight-bench"
#: Bench-only values: the benchmarks never see a real key.
ENV = {
    "DJANGO_SECRET_KEY": "bench-only-not-secret",
    "SUNLIGHT_HASH_KEY": "bench-only-not-secret",
    "SUNLIGHT_VAR_DIR": str(SCRATCH),
    "SUNLIGHT_LOG_LEVEL": "WARNING",
    "SUNLIGHT_LOG_SIGNING_KEY": (
        "PRIVATE+KEY+bench-only.sunlight.invalid+ffd8f9dc+"
        "AbCU1r2sfdSURkmDMmwq6PiNbxR2naAVIXPk4ksLDCQ8"
    ),
}


def setup_django(db_url: str, *, settings: str = "config.settings.dev") -> None:
    """Point Django at DB_URL with the bench-only environment and set it up."""
    os.environ["DATABASE_URL"] = db_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", settings)
    for name, value in ENV.items():
        os.environ.setdefault(name, value)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def fresh_database(db_url: str) -> None:
    """Drop and create DB_URL's database (or delete its SQLite file), then migrate it."""
    if db_url.startswith("sqlite:///"):
        Path(db_url.removeprefix("sqlite:///")).unlink(missing_ok=True)
    else:
        import psycopg

        base, name = db_url.rsplit("/", 1)
        with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')
    env = {**ENV, **os.environ, "DATABASE_URL": db_url}
    env.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)


def checkpoint(db_url: str) -> None:
    """Flush what was written before (set-up, an earlier measurement) so that the next
    measurement does not pay for it; needs a superuser or pg_checkpoint."""
    import psycopg

    try:
        with psycopg.connect(db_url, autocommit=True) as conn:
            conn.execute("CHECKPOINT")
    except psycopg.Error as error:
        print(f"(no CHECKPOINT before measuring: {error})".strip())


def p95(samples: list[float]) -> float:
    """The 95th percentile of SAMPLES."""
    return statistics.quantiles(samples, n=20)[-1]


def seed_villages_and_people(
    cursor, *, villages_per_township: int, villages: int, households: int, id_masked: str
) -> None:
    """Insert VILLAGES villages (VILLAGES_PER_TOWNSHIP to a township, townships made before),
    HOUSEHOLDS households spread over them and one person heading each, in set-based SQL.
    ID_MASKED: the SQL expression of person p's masked ID number."""
    cursor.execute(
        """INSERT INTO villages_village (id, township_id, name, code, created_at)
           SELECT v, (v - 1) / %s + 1, '村' || v, '', now() FROM generate_series(1, %s) v""",
        [villages_per_township, villages],
    )
    cursor.execute(
        """INSERT INTO villages_household (id, village_id, "group", head_id, created_at)
           SELECT h, (h - 1) %% %s + 1, (h %% 9 + 1) || '组', NULL, now()
           FROM generate_series(1, %s) h""",
        [villages, households],
    )
    cursor.execute(
        f"""INSERT INTO villages_person (id, household_id, name_masked, name_hash, id_hash,
               id_masked, key_version, birth_year, sex, relation_to_head, created_at)
           SELECT p, p, '张*', md5('n' || p), md5('p' || p), {id_masked}, 1, 1930 + p %% 70,
                  CASE WHEN p %% 2 = 0 THEN 'M' ELSE 'F' END, '户主', now()
           FROM generate_series(1, %s) p""",
        [households],
    )
    cursor.execute("UPDATE villages_household SET head_id = id")


def drop_secondary_indexes(cursor, table: str = "funds_disbursement") -> list[str]:
    """Drop TABLE's indexes but its primary key, for a bulk load (the partial unique one is an
    index, not a constraint); return their definitions, to build them once after the load."""
    cursor.execute(
        "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s "
        "AND indexname NOT LIKE '%%pkey'",
        [table],
    )
    indexes = cursor.fetchall()
    for name, _definition in indexes:
        cursor.execute(f'DROP INDEX "{name}"')
    return [definition for _name, definition in indexes]
