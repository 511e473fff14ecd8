"""Mark failed (and retryable) the import jobs a worker that died left parsing or importing."""

from __future__ import annotations

from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from funds.importing.jobs import sweep_stale_jobs
from funds.management.maintenance import add_operator_argument, record_maintenance


class Command(BaseCommand):
    help = _("把任务进程意外停止后仍显示“处理中”的导入任务标记为出错（可重试）。")

    def add_arguments(self, parser) -> None:
        add_operator_argument(parser)

    def handle(self, *args, **options) -> None:
        swept = sweep_stale_jobs()
        record_maintenance("sweep_stale_jobs", by=options["by"], failed=swept)
        self.stdout.write(_("%(n)d 个中断的导入任务已标记为出错，可以重试") % {"n": swept})
