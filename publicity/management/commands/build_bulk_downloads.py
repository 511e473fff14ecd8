"""Build the bulk downloads now (the background task does it after each publication)."""

from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from publicity import bulk


class Command(BaseCommand):
    help = (
        "Write every public row, per year and per township, as CSV and Parquet under "
        "<SUNLIGHT_VAR_DIR>/bulk/ with a manifest (row counts, sizes, SHA-256, the publication "
        "state reflected, the data dictionary); older generations are deleted. Use --queue to "
        "leave the work to the task worker instead."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--queue", action="store_true", help="queue a rebuild for the task worker and return"
        )

    def handle(self, *args, queue=False, **options):
        if queue:
            queued = bulk.request_rebuild()
            self.stdout.write(_("已排队重建") if queued else _("已有一个重建在排队"))
            return
        manifest = bulk.build()
        for entry in manifest["files"]:
            self.stdout.write(
                f"{entry['name']}\t{entry['rows']}\t{entry['bytes']}\t{entry['sha256']}"
            )
        self.stdout.write(
            self.style.SUCCESS(
                _("已生成 %(files)s 个文件，反映透明日志树大小 %(size)s")
                % {"files": len(manifest["files"]), "size": manifest["state"]["tree_size"]}
            )
        )
