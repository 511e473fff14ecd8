# A province's table (bench/scale_bench.py): summaries read each group's failed and reversed
# amounts through two small partial covering indexes instead of scanning every row.
# Depends on 0014; funds 0015 comes from another change of issue #15 (the merge orders them).

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("funds", "0015_disbursement_row_name"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="disbursement",
            index=models.Index(
                condition=models.Q(("status", "failed")),
                fields=["batch"],
                include=["village", "program", "period", "household", "amount"],
                name="disb_failed",
            ),
        ),
        migrations.AddIndex(
            model_name="disbursement",
            index=models.Index(
                condition=models.Q(("is_reversal", True)),
                fields=["batch"],
                include=["village", "program", "period", "household", "amount"],
                name="disb_reversal",
            ),
        ),
    ]
