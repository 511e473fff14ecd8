"""Load the demo: generated messy rosters through the real import, and a demo staff login."""

from __future__ import annotations

import sys

from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from demo import load
from funds.management.commands.import_payments import ProgressBar
from funds.models import ImportStatus


class Command(BaseCommand):
    help = _("生成演示花名册并通过导入流程载入（仅用于演示）。")

    def handle(self, *args, **options) -> None:
        bar = ProgressBar(sys.stderr, _("演示数据"))
        reports = load.load_demo(progress=bar)
        bar.close()
        for report in reports:
            style = (
                self.style.ERROR if report.status == ImportStatus.REJECTED else self.style.SUCCESS
            )
            self.stdout.write(
                style(f"{report.file}: {report.status} rows={report.rows} total={report.total:.2f}")
            )
            for error in report.errors[:10]:
                self.stdout.write(f"  {error['sheet']} {error['row']} {error['message']}")
        username, password = load.ensure_demo_user()
        self.stdout.write(
            self.style.WARNING(
                _("演示账号（仅用于演示）：用户名 %(user)s  密码 %(password)s")
                % {"user": username, "password": password}
            )
        )
        self.stdout.write(_("工作人员入口：/staff/imports/    管理后台：/admin/"))
