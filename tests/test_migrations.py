"""Migrations carry what they install: they import no project code, so history cannot change.

A migration that called live code (``funds.importing.refchecks``, ``funds.catalogue``) would
install whatever that code says today on a fresh database, not what it installed when it was
applied elsewhere. Migrations hold their SQL and data as literals instead, and the test below
makes a change to ``funds.importing.refchecks`` fail until a new migration installs the new SQL.
"""

from __future__ import annotations

import ast
import importlib
import sys
from pathlib import Path

import pytest
from django.db import connection, transaction

ROOT = Path(__file__).resolve().parents[1]
APPS = ("villages", "funds", "publicity", "api")
ALLOWED = {"django", "__future__"} | set(sys.stdlib_module_names)
MIGRATION_FILES = sorted(path for app in APPS for path in (ROOT / app / "migrations").glob("*.py"))

REFCHECKS_CHANGED = (
    "funds.importing.refchecks changed: write a new migration that installs the new SQL"
)


def foreign_imports(source: str) -> list[str]:
    """Return what a module imports besides Django, ``__future__`` and the standard library."""

    def allowed(name: str) -> bool:
        return name.split(".")[0] in ALLOWED  # a relative import ("." …) never is

    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names if not allowed(alias.name)]
        elif isinstance(node, ast.ImportFrom):
            name = "." * node.level + (node.module or "")
            if not allowed(name):
                found.append(name)
        elif isinstance(node, ast.Call) and {"import_module", "__import__"} & {
            getattr(node.func, "id", None),
            getattr(node.func, "attr", None),
        }:
            found.append(ast.unparse(node))  # a module named at run time: never allowed
    return found


def test_every_app_has_migrations_to_scan():
    """Guard the scan below: no migration files would make it pass vacuously."""
    assert {path.parent.parent.name for path in MIGRATION_FILES} == set(APPS)
    assert ROOT / "funds" / "migrations" / "0006_set_based_reference_checks.py" in MIGRATION_FILES


def test_the_scan_catches_project_imports():
    source = (
        "import os, funds.catalogue\n"
        "from decimal import Decimal\n"
        "from django.db import migrations\n"
        "from funds import refchecks\n"
        "from . import helpers\n"
        "def f(apps, schema_editor):\n"
        "    from villages.models import Person\n"
        "    importlib.import_module('funds.refchecks')\n"
        "    __import__('funds.catalogue')\n"
    )
    assert foreign_imports(source) == [
        "funds.catalogue",
        "funds",
        ".",
        "villages.models",
        "importlib.import_module('funds.refchecks')",
        "__import__('funds.catalogue')",
    ]


@pytest.mark.parametrize("path", MIGRATION_FILES, ids=lambda path: str(path.relative_to(ROOT)))
def test_migrations_import_only_django_and_the_standard_library(path):
    imports = foreign_imports(path.read_text(encoding="utf-8"))
    assert not imports, (
        f"{path.relative_to(ROOT)} imports {imports}: copy what it needs into the migration, "
        "so that later changes to that code cannot change what the migration does"
    )


def _migration(name: str):
    return importlib.import_module(f"funds.migrations.{name}")


def _refchecks_migration():
    """The newest funds migration holding a copy of the reference-check SQL.

    Today 0006; a migration that installs changed checks defines the same four constants.
    """
    names = sorted(
        path.stem
        for path in MIGRATION_FILES
        if path.parent.parent.name == "funds" and path.stem[:4].isdigit()
    )
    holding = [name for name in names if hasattr(_migration(name), "POSTGRESQL_INSTALL")]
    assert holding, "no funds migration holds the reference-check SQL"
    return _migration(holding[-1])


@pytest.mark.parametrize(
    ("constant", "generator"),
    [
        ("POSTGRESQL_INSTALL", "postgres_install"),
        ("POSTGRESQL_UNINSTALL", "postgres_uninstall"),
        ("SQLITE_INSTALL", "sqlite_install"),
        ("SQLITE_UNINSTALL", "sqlite_uninstall"),
    ],
)
def test_the_frozen_reference_checks_are_what_refchecks_generates(constant, generator):
    from funds.importing import refchecks

    frozen = getattr(_refchecks_migration(), constant)
    assert list(frozen) == getattr(refchecks, generator)(), REFCHECKS_CHANGED


class _Editor:
    """What the migration's functions use of a schema editor (SQLite's refuses to run inside
    the test's transaction)."""

    connection = connection

    def execute(self, sql, params=()):
        with connection.cursor() as cursor:
            cursor.execute(sql, params)


def _installed() -> set[tuple[str, ...]]:
    """The reference checks' triggers, functions and tables (their sequence and index too)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT 'trigger', tgname, tgrelid::regclass::text FROM pg_trigger "
                "WHERE NOT tgisinternal AND tgname LIKE %(like)s "
                "UNION ALL SELECT 'function', proname, '' FROM pg_proc WHERE proname LIKE %(like)s "
                "UNION ALL SELECT 'class', relname, '' FROM pg_class WHERE relname LIKE %(like)s",
                {"like": r"sl\_ref%"},
            )
        else:
            cursor.execute(
                "SELECT type, name, tbl_name FROM sqlite_master WHERE name LIKE %s ESCAPE '\\'",
                [r"sl\_ref%"],
            )
        return {tuple(row) for row in cursor.fetchall()}


@pytest.mark.django_db
def test_the_frozen_reference_checks_uninstall_and_install_again():
    """Backwards removes everything forwards installed; forwards installs it all again."""
    migration = _migration("0006_set_based_reference_checks")
    installed = _installed()
    assert installed, "the test database has no reference checks to start with"
    with transaction.atomic():
        migration.uninstall(None, _Editor())
        assert _installed() == set()
        migration.install(None, _Editor())
        assert _installed() == installed
        transaction.set_rollback(True)


@pytest.mark.django_db
def test_funds_0014_gives_every_correction_row_the_row_its_chain_began_with():
    """The data step of 0014 follows chains of corrections back to their first row."""
    from decimal import Decimal

    from django.apps import apps

    from funds.models import Disbursement
    from funds.publishing import Replacement, correct_batch, publish_batch
    from tests.factories import (
        make_batch,
        make_program,
        make_village,
        person_name,
        unique_id_number,
    )

    migration = importlib.import_module("funds.migrations.0014_corrections_reason_origin")
    rows = [(person_name(n), unique_id_number(n), Decimal("100.00")) for n in range(2)]
    original = make_batch(make_program(), make_village(), rows)
    first_row = original.disbursements.order_by("id").first()
    first = correct_batch(
        original=original, changes={first_row.pk: Replacement(Decimal("90.00"))},
        source_name="x", source_sha256="1" * 64,
    )  # fmt: skip
    publish_batch(batch=first)
    replaced = first.disbursements.get(is_reversal=False)
    second = correct_batch(
        original=first, changes={replaced.pk: Replacement(Decimal("80.00"))},
        source_name="y", source_sha256="2" * 64,
    )  # fmt: skip
    # As a database from before 0014 would have it, but for the constraint: point each row at
    # the row it corrects rather than at the first row.
    for row in Disbursement.objects.filter(corrects__isnull=False):
        Disbursement.objects.filter(pk=row.pk).update(origin_row=row.corrects_id)

    migration.fill_origins(apps, None)

    chain = Disbursement.objects.filter(batch__in=[first, second])
    assert {row.origin_row for row in chain} == {first_row.pk}


@pytest.mark.django_db
def test_funds_0015_gives_every_row_its_persons_name_in_one_update():
    """The data step of 0015 fills rows without a name of their own from their person, set-based,
    and leaves a row's own name alone; a backfilled row's leaf is what it was before."""
    from decimal import Decimal

    from django.test.utils import CaptureQueriesContext

    from funds.models import Disbursement
    from tests.factories import make_batch, make_program, make_village, person_name

    migration = importlib.import_module("funds.migrations.0015_disbursement_row_name")
    rows = [(person_name(n), unique(n), Decimal("100.00")) for n in range(3)]
    batch = make_batch(make_program(), make_village(), rows)
    kept = batch.disbursements.order_by("id").first()
    Disbursement.objects.filter(pk=kept.pk).update(name_masked="闫*超", name_hash="own")
    # As a database from before 0015 would have them: no name on the rows.
    Disbursement.objects.exclude(pk=kept.pk).update(name_masked="", name_hash="")

    with CaptureQueriesContext(connection) as queries:
        migration.backfill(None, _SchemaEditor())

    assert len(queries) == 1
    for row in Disbursement.objects.select_related("person"):
        if row.pk == kept.pk:
            assert (row.name_masked, row.name_hash) == ("闫*超", "own")
        else:
            assert (row.name_masked, row.name_hash) == (
                row.person.name_masked,
                row.person.name_hash,
            )
            assert row.name_hash


def unique(n: int) -> str:
    from tests.factories import unique_id_number

    return unique_id_number(n)


class _SchemaEditor:
    connection = connection
