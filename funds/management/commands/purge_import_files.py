"""Delete import files past their retention period, uploads left waiting, and orphans."""

from __future__ import annotations

from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from funds.importing.retention import purge_import_files
from funds.management.maintenance import add_operator_argument, record_maintenance


class Command(BaseCommand):
    help = _("删除超过保留期的暂存数据和校验结果、等待过久的上传文件，以及无主文件。")

    def add_arguments(self, parser) -> None:
        add_operator_argument(parser)

    def handle(self, *args, **options) -> None:
        purged = purge_import_files()
        record_maintenance("purge_import_files", by=options["by"], **vars(purged))
        self.stdout.write(
            _("已放弃 %(abandoned)d 个任务；删除暂存数据 %(staged)d 份、校验结果 %(reports)d 份、"
              "无主文件 %(orphans)d 个")
            % vars(purged)
        )  # fmt: skip
