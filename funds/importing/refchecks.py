# ruff: noqa: S608 - every name in this SQL comes from REFERENCES below, never from input
"""Set-based reference checks for the tables an import fills, in place of row-by-row FKs.

An import writes up to 100,000 persons, households and disbursements in one transaction.
PostgreSQL checks a foreign key with one lookup (and one row lock) per inserted row, ~0.3 s
per key per 100,000 rows, all of it at commit for Django's deferred keys: with the keys
below that was 1.7 s of a 100,000-row import's commit. Here the database checks them once per
statement instead: an ``AFTER … FOR EACH STATEMENT`` trigger with a transition table looks
the statement's new values up in the referenced table in one query each (the values a
statement shares, its batch, program and villages, over their distinct combinations) and
raises ``foreign_key_violation`` — Django's ``IntegrityError`` — naming the table, column
and missing id. A trigger on each referenced table refuses a DELETE that would leave rows
pointing at nothing.

Deferral. Most checks run at the end of their statement, so parents are written before
children (persons, then households, then disbursements). A person points at their household
and the household at its head, so one of the two has to wait for commit, as Django's
deferred foreign keys do: ``Person.household`` (``DEFERRED``) is queued once per statement in
``sl_refcheck_pending`` (the ids of the rows it wrote) and checked at commit, as the rows
are by then, by a deferred constraint trigger: one query per queued statement.

Locking. A foreign-key check locks the referenced row (``FOR KEY SHARE``) until commit, so a
concurrent DELETE cannot orphan the new row. Persons and households created in the same
transaction are invisible to others and need no lock; the loader locks the persons,
households and villages it finds already stored (``funds.importing.loading``); a batch's program is
locked by ``Batch.program``, an ordinary foreign key.

On SQLite (the embedded demo database) plain row triggers check inserts and updates at once;
deletes are guarded by the models' ``on_delete=PROTECT``. Changing REFERENCES needs a
migration that uninstalls and installs again.
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
    ("villages_person", "household_id", "villages_household"),
]

#: References checked at commit, as Django's deferred foreign keys are: a person is written
#: before the household that points back at them as its head, and the other way round.
DEFERRED = {("villages_person", "household_id")}


def _by(position: int) -> dict[str, list[tuple[str, str, str]]]:
    grouped: dict[str, list[tuple[str, str, str]]] = defaultdict(list)
    for ref in REFERENCES:
        grouped[ref[position]].append(ref)
    return dict(grouped)


def _raise(table: str, column: str, value: str, *, always: bool = False) -> str:
    statement = (
        "RAISE EXCEPTION USING ERRCODE = 'foreign_key_violation', "
        f"MESSAGE = format('%s.%s = %s refers to a row that does not exist', "
        f"'{table}', '{column}', {value});"
    )
    return statement if always else f"IF FOUND THEN {statement} END IF;"


#: Columns whose values a statement's rows share (one batch, program, a few villages):
#: checked over their distinct combinations in one pass, the others row by row.
FEW = {"batch_id", "program_id", "village_id"}


def _child_function(child: str, refs: list[tuple[str, str, str]]) -> str:
    later = [(col, parent) for _child, col, parent in refs if (child, col) in DEFERRED]
    now = [ref for ref in refs if (child, ref[1]) not in DEFERRED]
    few = [(col, parent) for _child, col, parent in now if col in FEW]
    many = [(col, parent) for _child, col, parent in now if col not in FEW]
    # Deferred: the statement's rows are queued, and their values as they are at commit
    # checked then (a row changed or deleted meanwhile is checked as it is by then).
    body = [
        f"  INSERT INTO sl_refcheck_pending (child, col, parent, ids) SELECT '{child}', "
        f"'{col}', '{parent}', array_agg(n.id) FROM new_rows n "
        f"WHERE n.{col} IS NOT NULL HAVING count(*) > 0;"
        for col, parent in later
    ]
    if few:
        columns = ", ".join(f"n.{col} AS {col}" for col, _parent in few)
        checks = "\n".join(
            f"    IF r.{col} IS NOT NULL AND NOT EXISTS "
            f"(SELECT 1 FROM {parent} p WHERE p.id = r.{col}) THEN\n"
            f"      missing := r.{col}; {_raise(child, col, 'missing', always=True)}\n"
            "    END IF;"
            for col, parent in few
        )
        body.append(
            f"  FOR r IN SELECT DISTINCT {columns} FROM new_rows n LOOP\n{checks}\n  END LOOP;"
        )
    body += [
        f"  SELECT n.{col} INTO missing FROM new_rows n WHERE n.{col} IS NOT NULL "
        f"AND NOT EXISTS (SELECT 1 FROM {parent} p WHERE p.id = n.{col}) LIMIT 1;\n"
        f"  {_raise(child, col, 'missing')}"
        for col, parent in many
    ]
    checks = "\n".join(body)
    return (
        f"CREATE FUNCTION sl_refcheck_{child}() RETURNS trigger LANGUAGE plpgsql AS $$\n"
        f"DECLARE missing bigint; r record;\nBEGIN\n{checks}\n  RETURN NULL;\nEND $$"
    )


PENDING = [
    "CREATE TABLE sl_refcheck_pending (id bigserial PRIMARY KEY, child text NOT NULL, "
    "col text NOT NULL, parent text NOT NULL, ids bigint[] NOT NULL)",
    # One row per statement, checked and removed at commit by a deferred constraint trigger.
    "CREATE FUNCTION sl_refcheck_at_commit() RETURNS trigger LANGUAGE plpgsql AS $$\n"
    "DECLARE missing bigint;\nBEGIN\n"
    "  EXECUTE format('SELECT c.%I FROM %I c WHERE c.id = ANY($1) AND c.%I IS NOT NULL "
    "AND NOT EXISTS (SELECT 1 FROM %I p WHERE p.id = c.%I) LIMIT 1', NEW.col, NEW.child, "
    "NEW.col, NEW.parent, NEW.col) INTO missing USING NEW.ids;\n"
    "  IF missing IS NOT NULL THEN RAISE EXCEPTION USING ERRCODE = 'foreign_key_violation', "
    "MESSAGE = format('%s.%s = %s refers to a row that does not exist', "
    "NEW.child, NEW.col, missing); END IF;\n"
    "  DELETE FROM sl_refcheck_pending WHERE id = NEW.id;\n  RETURN NULL;\nEND $$",
    "CREATE CONSTRAINT TRIGGER sl_refcheck_at_commit AFTER INSERT ON sl_refcheck_pending "
    "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION sl_refcheck_at_commit()",
]


def postgres_install() -> list[str]:
    """Return the SQL creating the PostgreSQL functions and statement triggers."""
    sql = list(PENDING)
    for child, refs in _by(0).items():
        sql.append(_child_function(child, refs))
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
    sql = [
        "DROP TABLE IF EXISTS sl_refcheck_pending",
        "DROP FUNCTION IF EXISTS sl_refcheck_at_commit()",
    ]
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
