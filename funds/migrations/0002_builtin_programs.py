from django.db import migrations


def add_builtin_programs(apps, schema_editor):
    from funds.catalogue import BUILTIN_PROGRAMS

    Program = apps.get_model("funds", "Program")
    for entry in BUILTIN_PROGRAMS:
        Program.objects.update_or_create(
            slug=entry["slug"], defaults={**entry, "is_builtin": True}
        )


def remove_builtin_programs(apps, schema_editor):
    apps.get_model("funds", "Program").objects.filter(is_builtin=True, batches=None).delete()


class Migration(migrations.Migration):
    dependencies = [("funds", "0001_initial")]
    operations = [migrations.RunPython(add_builtin_programs, remove_builtin_programs)]
