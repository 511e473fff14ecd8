# Payment results are entries, never edits: the database refuses UPDATE and DELETE of a
# recorded result and of the return file it came from (as it does for the audit record, 0010).
# The constants are *_GUARD, not *_INSTALL: tests/test_migrations.py reads the newest
# *_INSTALL constants of funds as its reference checks.

from django.db import migrations

TABLES = ("funds_paymentresult", "funds_paymentreturn")

PG_GUARD = (
    "CREATE FUNCTION sl_payment_results_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
    "BEGIN RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP "
    "USING ERRCODE = 'insufficient_privilege'; END $$",
    *(
        f"CREATE TRIGGER sl_append_only_{table} BEFORE UPDATE OR DELETE ON {table} "
        "FOR EACH ROW EXECUTE FUNCTION sl_payment_results_append_only()"
        for table in TABLES
    ),
)
PG_UNGUARD = (
    *(f"DROP TRIGGER IF EXISTS sl_append_only_{table} ON {table}" for table in TABLES),
    "DROP FUNCTION IF EXISTS sl_payment_results_append_only()",
)
SQLITE_GUARD = tuple(
    f"CREATE TRIGGER sl_append_only_{table}_{op.lower()} BEFORE {op} ON {table} "
    f"BEGIN SELECT RAISE(ABORT, '{table} is append-only: {op} refused'); END"
    for table in TABLES
    for op in ("UPDATE", "DELETE")
)
SQLITE_UNGUARD = tuple(
    f"DROP TRIGGER IF EXISTS sl_append_only_{table}_{op}"
    for table in TABLES
    for op in ("update", "delete")
)
INSTALL = {"postgresql": PG_GUARD, "sqlite": SQLITE_GUARD}
UNINSTALL = {"postgresql": PG_UNGUARD, "sqlite": SQLITE_UNGUARD}


def install(apps, schema_editor):
    for statement in INSTALL.get(schema_editor.connection.vendor, ()):
        schema_editor.execute(statement, params=None)


def uninstall(apps, schema_editor):
    for statement in UNINSTALL.get(schema_editor.connection.vendor, ()):
        schema_editor.execute(statement, params=None)


class Migration(migrations.Migration):

    dependencies = [
        ("funds", "0012_live_batch_per_file_and_rows_per_person"),
    ]

    operations = [migrations.RunPython(install, uninstall)]
