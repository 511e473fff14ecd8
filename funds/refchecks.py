# ruff: noqa: S608 - every name in this SQL comes from REFERENCES below, never from input
"""Set-based reference checks for the tables an import fills, in place of row-by-row FKs.

An import writes up to 100,000 persons, households and disbursements in one transaction.
PostgreSQL checks a foreign key with one lookup per inserted row (~0.3 s per key per 100,000
rows); the five keys below made the commit of a 100,000-row roster take 1.5 s. Here the
database checks them once per statement instead: an ``AFTER … FOR EACH STATEMENT`` trigger
with a transition table joins all the new rows against the referenced table in one query
(~0.07 s per key per 100,000 rows, COPY included) and raises ``foreign_key_violation`` —
Django's ``IntegrityError`` — naming the table, column and missing id. A second trigger on
each referenced table refuses a DELETE that would leave rows pointing at nothing.

What a foreign key does beyond that is done elsewhere, and said here so it is not lost:

- Locking. A foreign-key check locks the referenced row (``FOR KEY SHARE``) until commit, so
  a concurrent DELETE cannot orphan the new row. Persons and households created in the same
  transaction are invisible to others and need no lock; the loader locks the ones it finds
  already stored (``funds.loading``). Nothing in Sunlight deletes persons or households.
- Deferral. The checks run at the end of each statement, not at commit: parents are written
  before children (persons, then households, then disbursements). ``Person.household`` keeps
  an ordinary, deferred foreign key because households point back at their head.

On SQLite (the embedded demo database) plain row triggers check inserts and updates; deletes
are guarded by the models' ``on_delete=PROTECT``.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

#: (child table, column, parent table): columns whose Django field has db_constraint=False.
REFERENCES: list[tuple[str, str, str]] = [
    ("villages_household", "village_id", "villages_village"),
    ("villages_household", "head_id", "villages_person"),
    ("funds_disbursement", "batch_id", "funds_batch"),
    ("funds_disbursement", "program_id", "funds_program"),
    ("funds_disbursement", "village_id", "villages_village"),
    ("funds_disbursement", "household_id", "villages_household"),
    ("funds_disbursement", "person_id", "villages_person"),
    ("funds_disbursement", "payee_id", "villages_person"),
    ("funds_disbursement", "corrects_id", "funds_disbursement"),
]


def _by(position: int) -> dict[str, list[tuple[str, str, str]]]:
    grouped: dict[str, list[tuple[str, str, str]]] = defaultdict(list)
    for ref in REFERENCES:
        grouped[ref[position]].append(ref)
    return dict(grouped)


def _raise(table: str, column: str, value: str) -> str:
    return (
        "IF FOUND THEN RAISE EXCEPTION USING ERRCODE = 'foreign_key_violation', "
        f"MESSAGE = format('%s.%s = %s refers to a row that does not exist', "
        f"'{table}', '{column}', {value}); END IF;"
    )


def postgres_install() -> list[str]:
    """Return the SQL creating the PostgreSQL functions and statement triggers."""
    sql = []
    for child, refs in _by(0).items():
        checks = "\n".join(
            # DISTINCT first: a statement's rows share a few batches, programs and villages.
            f"  SELECT v INTO missing FROM (SELECT DISTINCT n.{col} AS v FROM new_rows n "
            f"WHERE n.{col} IS NOT NULL) n "
            f"WHERE NOT EXISTS (SELECT 1 FROM {parent} p WHERE p.id = n.v) LIMIT 1;\n"
            f"  {_raise(child, col, 'missing')}"
            for _child, col, parent in refs
        )
        sql.append(
            f"CREATE FUNCTION sl_refcheck_{child}() RETURNS trigger LANGUAGE plpgsql AS $$\n"
            f"DECLARE missing bigint;\nBEGIN\n{checks}\n  RETURN NULL;\nEND $$"
        )
        for event in ("INSERT", "UPDATE"):
            sql.append(
                f"CREATE TRIGGER sl_refcheck_{event.lower()} AFTER {event} ON {child} "
                "REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT "
                f"EXECUTE FUNCTION sl_refcheck_{child}()"
            )
    for parent, refs in _by(2).items():
        checks = "\n".join(
            f"  SELECT o.id INTO missing FROM old_rows o WHERE EXISTS "
            f"(SELECT 1 FROM {child} c WHERE c.{col} = o.id) LIMIT 1;\n"
            f"  {_raise(child, col, 'missing')}"
            for child, col, _parent in refs
        )
        sql.append(
            f"CREATE FUNCTION sl_refguard_{parent}() RETURNS trigger LANGUAGE plpgsql AS $$\n"
            f"DECLARE missing bigint;\nBEGIN\n{checks}\n  RETURN NULL;\nEND $$"
        )
        sql.append(
            f"CREATE TRIGGER sl_refguard_delete AFTER DELETE ON {parent} "
            "REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT "
            f"EXECUTE FUNCTION sl_refguard_{parent}()"
        )
    return sql


def postgres_uninstall() -> list[str]:
    sql = []
    for child in _by(0):
        sql += [f"DROP TRIGGER IF EXISTS sl_refcheck_{e} ON {child}" for e in ("insert", "update")]
        sql.append(f"DROP FUNCTION IF EXISTS sl_refcheck_{child}()")
    for parent in _by(2):
        sql.append(f"DROP TRIGGER IF EXISTS sl_refguard_delete ON {parent}")
        sql.append(f"DROP FUNCTION IF EXISTS sl_refguard_{parent}()")
    return sql


def sqlite_install() -> list[str]:
    """Return the SQL creating SQLite row triggers that refuse a missing parent."""
    sql = []
    for child, col, parent in REFERENCES:
        for event, when in (("INSERT", "INSERT"), ("UPDATE", f"UPDATE OF {col}")):
            message = f"FOREIGN KEY constraint failed: {child}.{col}"
            sql.append(
                f"CREATE TRIGGER sl_refcheck_{child}_{col}_{event.lower()} BEFORE {when} "
                f"ON {child} FOR EACH ROW WHEN NEW.{col} IS NOT NULL AND NOT EXISTS "
                f"(SELECT 1 FROM {parent} WHERE id = NEW.{col}) "
                f"BEGIN SELECT RAISE(ABORT, '{message}'); END"
            )
    return sql


def sqlite_uninstall() -> list[str]:
    return [
        f"DROP TRIGGER IF EXISTS sl_refcheck_{child}_{col}_{event}"
        for child, col, _parent in REFERENCES
        for event in ("insert", "update")
    ]


def install(apps: Any, schema_editor: Any) -> None:
    vendor = schema_editor.connection.vendor
    statements = {"postgresql": postgres_install, "sqlite": sqlite_install}.get(vendor)
    for statement in statements() if statements else []:
        schema_editor.execute(statement, params=None)


def uninstall(apps: Any, schema_editor: Any) -> None:
    vendor = schema_editor.connection.vendor
    statements = {"postgresql": postgres_uninstall, "sqlite": sqlite_uninstall}.get(vendor)
    for statement in statements() if statements else []:
        schema_editor.execute(statement, params=None)
