"""Import payment rosters from the command line: the same pipeline as the web flow."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db.models import Q
from django.utils.translation import gettext as _

from funds.importing.jobs import ImportReport, import_roster
from funds.models import PERIOD_PATTERN, ImportStatus, Program

PERIOD = re.compile(PERIOD_PATTERN)
OK_STATUSES = {ImportStatus.IMPORTED, ImportStatus.CHECKED, ImportStatus.DUPLICATE}


class ProgressBar:
    """Draw a one-line progress bar on a terminal's stderr; silent elsewhere."""

    def __init__(self, stream, label: str) -> None:
        self.stream, self.label, self.last = stream, label, -1
        self.enabled = hasattr(stream, "isatty") and stream.isatty()

    def __call__(self, done: int, total: int) -> None:
        if not self.enabled or not total:
            return
        percent = min(100, done * 100 // total)
        if percent == self.last:
            return
        self.last = percent
        filled = percent * 30 // 100
        bar = "#" * filled + "-" * (30 - filled)
        self.stream.write(f"\r{self.label} [{bar}] {percent:3d}% {done}/{total}")
        self.stream.flush()

    def close(self) -> None:
        if self.enabled and self.last >= 0:
            self.stream.write("\n")
            self.stream.flush()


class Command(BaseCommand):
    help = _("导入发放花名册（与网页导入同一流程）。")

    def add_arguments(self, parser) -> None:
        parser.add_argument("paths", nargs="+", metavar="PATH", help=_("花名册文件"))
        parser.add_argument("--program", required=True, help=_("补贴项目名称或标识"))
        parser.add_argument("--period", required=True, help=_("发放期间 YYYY-MM"))
        parser.add_argument("--township", default=None, help=_("乡镇（表格中没有写明时）"))
        parser.add_argument("--publish", action="store_true", help=_("导入后发布（进入公示期）"))
        parser.add_argument("--dry-run", action="store_true", help=_("只检查，不写入"))
        parser.add_argument("--json", action="store_true", help=_("每个文件输出一行 JSON"))

    def handle(self, *args, **options) -> None:
        program = self._program(options["program"])
        period = options["period"]
        if not PERIOD.match(period):
            raise CommandError(_("发放期间应为 YYYY-MM，如 2026-03：%s") % period, returncode=2)
        paths = [Path(p) for p in options["paths"]]
        missing = [str(p) for p in paths if not p.is_file()]
        if missing:
            raise CommandError(_("找不到文件：%s") % "、".join(missing), returncode=2)
        rejected = 0
        for path in paths:
            bar = ProgressBar(sys.stderr, path.name)
            report = import_roster(
                path=path,
                program=program,
                period=period,
                township=options["township"],
                publish=options["publish"],
                dry_run=options["dry_run"],
                progress=bar,
            )
            bar.close()
            rejected += report.status not in OK_STATUSES
            self._print(report, as_json=options["json"])
        if rejected:
            raise CommandError(_("%d 个文件未通过校验") % rejected, returncode=1)

    def _program(self, name: str) -> Program:
        program = Program.objects.filter(Q(name=name) | Q(slug=name)).first()
        if program is None:
            known = "\n  ".join(Program.objects.order_by("name").values_list("name", flat=True))
            raise CommandError(
                _("未知的补贴项目：%(name)s。已有项目：\n  %(known)s")
                % {"name": name, "known": known},
                returncode=2,
            )
        return program

    def _print(self, report: ImportReport, *, as_json: bool) -> None:
        if as_json:
            self.stdout.write(json.dumps(report.as_line(), ensure_ascii=False))
            return
        labels = {
            ImportStatus.IMPORTED: _("已导入"),
            ImportStatus.CHECKED: _("检查通过（未写入）"),
            ImportStatus.DUPLICATE: _("已导入过，跳过"),
            ImportStatus.REJECTED: _("未通过校验"),
        }
        line = _("%(file)s：%(status)s，%(rows)d 行，%(households)d 户，合计 %(total)s 元") % {
            "file": report.file,
            "status": labels.get(report.status, report.status),
            "rows": report.rows,
            "households": report.households,
            "total": f"{report.total:.2f}",
        }
        if report.batch:
            line += _("，批次 #%d") % report.batch
        style = self.style.ERROR if report.status == ImportStatus.REJECTED else self.style.SUCCESS
        self.stdout.write(style(line))
        for kind, items in ((_("错误"), report.errors), (_("提示"), report.warnings)):
            for item in items:
                where = " ".join(
                    str(x) for x in (item.get("sheet"), item.get("row"), item.get("column")) if x
                )
                self.stdout.write(f"  {kind} {where}: {item['message']}")
