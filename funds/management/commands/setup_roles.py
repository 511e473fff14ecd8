"""Create the staff and auditor groups with their permissions (idempotent)."""

from __future__ import annotations

from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from funds.access import ROLES, setup_roles


class Command(BaseCommand):
    help = _("创建或更新工作人员与审计员的用户组及其权限（可重复运行）。")

    def handle(self, *args, **options) -> None:
        missing = setup_roles(using=options.get("database", "default"))
        self.stdout.write(_("已设置用户组：%s") % "、".join(ROLES))
        if missing:
            self.stderr.write(_("%d 项权限尚不存在：请先运行 migrate") % missing)
