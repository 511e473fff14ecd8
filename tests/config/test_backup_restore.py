"""scripts/backup-restore-check: a dump restored into a fresh database has every row and a
transparency log that verifies (PostgreSQL only)."""

from __future__ import annotations

import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from django.db import connections

from funds.models import Batch
from funds.publishing import publish_batch
from tests.factories import make_batch, make_program, make_village, unique_id_number

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts/backup-restore-check"


def _run(url: str) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "PYTHON": sys.executable,
        "DATABASE_URL": "",
    }
    return subprocess.run(
        ["bash", str(SCRIPT), url], capture_output=True, text=True, env=env, timeout=300,
        check=False,
    )  # fmt: skip


def _test_database_url() -> str:
    s = connections["default"].settings_dict
    user, host, port = s["USER"] or "postgres", s["HOST"] or "127.0.0.1", s["PORT"] or 5432
    return f"postgres://{user}@{host}:{port}/{s['NAME']}"


@pytest.mark.django_db(transaction=True)
def test_a_restored_dump_has_every_row_and_a_log_that_verifies():
    if connections["default"].vendor != "postgresql":
        pytest.skip("pg_dump and pg_restore are PostgreSQL's")
    batch = make_batch(
        make_program(), make_village(), [("张三", unique_id_number(1), Decimal("120.50"))],
        status=Batch.Status.DRAFT,
    )  # fmt: skip
    publish_batch(batch=batch)  # one leaf and a signed checkpoint in the log
    done = _run(_test_database_url())
    assert done.returncode == 0, done.stdout + done.stderr
    assert "row counts match" in done.stdout
    assert "backup-restore-check: OK" in done.stdout
    assert "1 个叶子" in done.stdout  # verify_log on the restored copy read the published row


def test_a_url_that_is_not_postgresql_is_refused():
    done = _run("sqlite:///tmp/sunlight.sqlite3")
    assert done.returncode == 2
    assert "postgres://" in done.stderr
