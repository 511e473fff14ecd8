# Each row carries the beneficiary's name as its own roster wrote it, masked, with its keyed
# hash: a person is stored once by ID hash with the first name seen, and a later roster that
# names them otherwise (issue #14, defect 3) showed the old name. Rows already stored get their
# person's name and hash in one set-based UPDATE, which is what they showed before: a row
# published before this change serialises as it did, and its transparency-log leaf verifies.

from django.db import migrations, models

# SQLite rebuilds funds_disbursement to add NOT NULL columns: it refuses to while the
# reference-check triggers (funds 0006) name it, and a rebuild loses the index that funds 0007
# made in SQL. Both are set aside and put back unchanged, as in funds 0012 and 0014.
_SET_ASIDE = []
_SET_ASIDE_QUERY = (
    "SELECT type, name, sql FROM sqlite_master WHERE (type = 'trigger' AND name LIKE "
    "'sl_refcheck_%') OR (type = 'index' AND name = 'disb_account_hash')"
)

BACKFILL = (
    "UPDATE funds_disbursement SET name_masked = p.name_masked, name_hash = p.name_hash "
    "FROM villages_person p WHERE p.id = funds_disbursement.person_id "
    "AND funds_disbursement.name_hash = ''"
)


def _set_aside(apps, schema_editor):
    if schema_editor.connection.vendor != "sqlite":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(_SET_ASIDE_QUERY)
        _SET_ASIDE[:] = cursor.fetchall()
        for kind, name, _sql in _SET_ASIDE:
            cursor.execute(f'DROP {kind.upper()} "{name}"')


def _put_back(apps, schema_editor):
    if schema_editor.connection.vendor != "sqlite":
        return
    with schema_editor.connection.cursor() as cursor:
        for _kind, _name, sql in _SET_ASIDE:
            cursor.execute(sql)
    _SET_ASIDE.clear()


def backfill(apps, schema_editor):
    """Give every row without a name of its own its person's (one UPDATE … FROM)."""
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(BACKFILL)


class Migration(migrations.Migration):
    dependencies = [
        ("funds", "0014_corrections_reason_origin"),
        ("villages", "0004_staff_places"),
    ]

    operations = [
        migrations.RunPython(_set_aside, _put_back),
        migrations.AddField(
            model_name="disbursement",
            name="name_masked",
            field=models.CharField(
                blank=True, default="", max_length=50, verbose_name="姓名（脱敏）"
            ),
        ),
        migrations.AddField(
            model_name="disbursement",
            name="name_hash",
            field=models.CharField(
                blank=True, default="", max_length=80, verbose_name="姓名密钥散列"
            ),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop),
        migrations.RunPython(_put_back, _set_aside),
    ]
