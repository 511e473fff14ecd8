"""The demo app: load_demo goes through the real import, and production never installs it."""

from __future__ import annotations

import ast
import hashlib
import json
import os
import subprocess
import sys
from datetime import date
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command

from demo import load
from demo.rostergen import make_id_number
from funds.models import Batch, Disbursement, ImportStatus
from privacy.idnumbers import check_id_number, clean_valid_id
from tests.config.test_keys import GOOD as PRODUCTION_KEYS

ROOT = Path(settings.BASE_DIR)
#: The product: nothing in it may import the demo (the demo imports the product, not back).
PRODUCT = ("villages", "funds", "publicity", "api", "config")


@pytest.mark.django_db
def test_load_demo_imports_every_roster_through_the_real_import(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    out = StringIO()
    call_command("load_demo", stdout=out)

    files = sorted((tmp_path / "demo").iterdir())
    assert [path.name for path in files] == sorted(spec.filename for spec in load.ROSTERS)
    batches = {batch.source_name: batch for batch in Batch.objects.select_related("program")}
    assert set(batches) == {spec.filename for spec in load.ROSTERS}
    for spec in load.ROSTERS:
        batch = batches[spec.filename]
        path = tmp_path / "demo" / spec.filename
        # What the importer records of the file it read, and the state the demo moved it to.
        assert batch.source_sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
        assert (batch.program.name, batch.period, batch.status) == (
            spec.program,
            spec.period,
            spec.state,
        )
        assert Disbursement.objects.filter(batch=batch).count() == spec.rows, spec.filename
    text = out.getvalue()
    assert text.count(f": {ImportStatus.IMPORTED} ") == len(load.ROSTERS)

    user = get_user_model().objects.get(username=load.DEMO_USER)
    password = load.demo_password()
    assert user.is_staff and user.is_superuser and user.check_password(password)
    assert password in text
    assert "DEMO ONLY" in (tmp_path / "demo.env").read_text()


@pytest.mark.django_db
def test_the_demo_puts_every_row_in_its_households_village(settings, tmp_path):
    """Issue #14, defect 4: 823 demo rows named another village than their household's."""
    from funds.consistency import inconsistencies

    settings.VAR_DIR = tmp_path
    reports = load.load_demo()

    assert [r.status for r in reports] == [ImportStatus.IMPORTED] * len(load.ROSTERS)
    assert inconsistencies() == {
        "row_village_is_household_village": 0,
        "row_program_is_batch_program": 0,
    }
    # The rosters share people (overlapping offsets): the check is not vacuous.
    assert Disbursement.objects.values("person_id").distinct().count() < (
        Disbursement.objects.count()
    )
    call_command("check_consistency", stdout=StringIO())  # raises CommandError otherwise


@pytest.mark.django_db
def test_load_demo_again_finds_every_roster_imported(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    first = load.load_demo()
    counts = Batch.objects.count(), Disbursement.objects.count()
    password = load.ensure_demo_user()[1]

    again = load.load_demo()
    assert [r.status for r in first] == [ImportStatus.IMPORTED] * len(load.ROSTERS)
    assert [r.status for r in again] == [ImportStatus.DUPLICATE] * len(load.ROSTERS)
    assert (Batch.objects.count(), Disbursement.objects.count()) == counts
    assert load.ensure_demo_user()[1] == password  # kept in var/demo.env


def test_generated_id_numbers_are_valid_and_distinct():
    """rostergen takes its check characters from privacy.idnumbers, the product's one copy."""
    numbers = [make_id_number(index) for index in range(0, 2_000_000, 997)]
    assert len(set(numbers)) == len(numbers)
    today = date(2026, 1, 1)
    assert all(check_id_number(number, today=today).valid for number in numbers)
    assert all(clean_valid_id(number, today=today) == number for number in numbers)
    assert any(number.endswith("X") for number in numbers)


def _imported_modules(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def test_the_product_never_imports_the_demo():
    offenders = [
        str(path.relative_to(ROOT))
        for package in PRODUCT
        for path in sorted((ROOT / package).rglob("*.py"))
        if any(name == "demo" or name.startswith("demo.") for name in _imported_modules(path))
    ]
    assert offenders == []


_PROBE = """
import json, sys
import django
django.setup()
from django.apps import apps
from django.conf import settings
from django.core.management import get_commands
from django.urls import get_resolver
get_resolver().url_patterns  # import every view the site serves
print(json.dumps({
    "installed": apps.is_installed("demo"),
    "in_settings": [app for app in settings.INSTALLED_APPS if app.split(".")[0] == "demo"],
    "load_demo": "load_demo" in get_commands(),
    "imported": sorted(name for name in sys.modules if name.split(".")[0] == "demo"),
}))
"""


def _probe(settings_module: str, tmp_path: Path) -> dict:
    """Start Django with SETTINGS_MODULE in a fresh interpreter and say what it installed."""
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("DJANGO_", "SUNLIGHT_")) and name != "DATABASE_URL"
    }
    # What production requires: strong keys, checked at start-up (config.security.check_keys).
    env |= {
        **PRODUCTION_KEYS,
        "DJANGO_SETTINGS_MODULE": settings_module,
        "SUNLIGHT_VAR_DIR": str(tmp_path),
        # Never connected to; PostgreSQL keeps production's SQLite warning quiet.
        "DATABASE_URL": "postgres://probe@127.0.0.1:9/probe",
    }
    done = subprocess.run(
        [sys.executable, "-c", _PROBE], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_production_settings_do_not_install_the_demo(tmp_path):
    found = _probe("config.settings.production", tmp_path)
    assert found == {"installed": False, "in_settings": [], "load_demo": False, "imported": []}


@pytest.mark.parametrize("settings_module", ["config.settings.dev", "config.settings.test"])
def test_dev_and_test_settings_install_the_demo(settings_module, tmp_path):
    """The probe can see the demo app where it is installed, so the check above means something."""
    found = _probe(settings_module, tmp_path)
    assert found["installed"] and found["in_settings"] == ["demo"] and found["load_demo"]
