# Corrections in plain sight: a correction batch keeps its (scrubbed) reason, and every
# reversal and replacement row names the row its chain of corrections began with (origin), so a
# public page finds a row's whole history in one query. Existing correction rows get their
# origin here, before the constraint that requires it.

from django.db import migrations, models

# SQLite rebuilds funds_batch and funds_disbursement for these changes: it refuses to while the
# reference-check triggers (funds 0006) name them, and a rebuild loses the index that funds
# 0007 made in SQL. Both are set aside and put back unchanged, as in funds 0012.
_SET_ASIDE = []
_SET_ASIDE_QUERY = (
    "SELECT type, name, sql FROM sqlite_master WHERE (type = 'trigger' AND name LIKE "
    "'sl_refcheck_%') OR (type = 'index' AND name = 'disb_account_hash')"
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


def fill_origins(apps, schema_editor):
    Disbursement = apps.get_model("funds", "Disbursement")
    origins: dict[int, int] = {}
    changed = []
    # A correcting row is always created after the row it corrects: in id order, the row a
    # chain began with is known before any row that corrects one of its replacements.
    rows = Disbursement.objects.filter(corrects__isnull=False).order_by("id")
    for pk, corrects_id in rows.values_list("id", "corrects_id").iterator(chunk_size=2000):
        origins[pk] = origins.get(corrects_id, corrects_id)
        changed.append(Disbursement(pk=pk, origin_row=origins[pk]))
    Disbursement.objects.bulk_update(changed, ["origin_row"], batch_size=2000)


class Migration(migrations.Migration):
    dependencies = [
        ("funds", "0013_payment_results_append_only"),
        ("villages", "0004_staff_places"),
    ]

    operations = [
        migrations.RunPython(_set_aside, _put_back),
        migrations.AddField(
            model_name="batch",
            name="reason",
            field=models.TextField(
                blank=True,
                help_text="更正批次公开显示的原因；姓名、身份证号、电话、账号已隐去",
                verbose_name="更正原因（已脱敏）",
            ),
        ),
        migrations.AddField(
            model_name="disbursement",
            name="origin_row",
            field=models.PositiveBigIntegerField(
                blank=True, null=True, verbose_name="最初的记录"
            ),
        ),
        migrations.RunPython(fill_origins, migrations.RunPython.noop),
        migrations.AddIndex(
            model_name="disbursement",
            index=models.Index(
                condition=models.Q(("origin_row__isnull", False)),
                fields=["origin_row"],
                name="disb_origin",
            ),
        ),
        migrations.AddConstraint(
            model_name="disbursement",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("corrects__isnull", True), ("origin_row__isnull", False), _connector="OR"
                ),
                name="disbursement_correction_names_its_origin",
            ),
        ),
        migrations.RunPython(_put_back, _set_aside),
    ]
