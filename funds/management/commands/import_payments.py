"""Import payment rosters from the command line: the same pipeline as the web flow."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.core.management.base import BaseCommand, CommandError
from django.db.models import Q
from django.utils.translation import gettext as _

from funds import access
from funds.importing.jobs import duplicate_message, import_roster
from funds.importing.mapping import field_label, parse_map_option, targets
from funds.importing.reports import ImportReport
from funds.models import PERIOD_PATTERN, ImportStatus, MappingTemplate, Program
from villages.models import Township

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


def acting_user(username: str, perm: str, township: str | None = None) -> Any:
    """Return the active user USERNAME if they may do PERM (in TOWNSHIP, when named).

    The place of a roster that names its own township is checked again when it is loaded.
    """
    user = get_user_model().objects.filter(username=username, is_active=True).first()
    if user is None:
        raise CommandError(_("没有名为 %s 的有效用户") % username, returncode=2)
    town = Township.objects.filter(name=(township or "").strip()).first() if township else None
    if not access.can(user, perm, town, placed=township is not None):
        raise CommandError(_("用户 %s 无权在此乡镇执行该操作") % username, returncode=3)
    return user


class Command(BaseCommand):
    help = _("导入发放花名册（与网页导入同一流程）。")

    def add_arguments(self, parser) -> None:
        parser.add_argument("paths", nargs="+", metavar="PATH", help=_("花名册文件"))
        parser.add_argument(
            "--user", required=True, metavar="USERNAME", help=_("以此工作人员的身份和权限导入")
        )
        parser.add_argument("--program", required=True, help=_("补贴项目名称或标识"))
        parser.add_argument("--period", required=True, help=_("发放期间 YYYY-MM"))
        parser.add_argument("--township", default=None, help=_("乡镇（表格中没有写明时）"))
        parser.add_argument("--publish", action="store_true", help=_("导入后发布（进入公示期）"))
        parser.add_argument("--dry-run", action="store_true", help=_("只检查，不写入"))
        parser.add_argument(
            "--override-reason",
            default="",
            metavar="REASON",
            help=_("花名册与已有批次可能重复发放时，说明为何仍要导入（记入操作记录）"),
        )
        parser.add_argument("--json", action="store_true", help=_("每个文件输出一行 JSON"))
        parser.add_argument(
            "--map",
            action="append",
            default=[],
            metavar="表头=FIELD",
            help=_("指定一列的内容（可重复）；字段可以是 ignore（不导入）或 personal（不保存）"),
        )
        parser.add_argument(
            "--template", default=None, metavar="NAME", help=_("使用已保存的列对应模板")
        )
        parser.add_argument(
            "--save-template",
            default="",
            metavar="NAME",
            help=_("导入成功后把所用的列对应保存为模板"),
        )

    def handle(self, *args, **options) -> None:
        user = acting_user(options["user"], "funds.upload_roster", options["township"])
        if options["publish"]:
            access.require(user, "funds.publish_batch", placed=False)
        program = self._program(options["program"])
        period = options["period"]
        if not PERIOD.match(period):
            raise CommandError(_("发放期间应为 YYYY-MM，如 2026-03：%s") % period, returncode=2)
        paths = [Path(p) for p in options["paths"]]
        missing = [str(p) for p in paths if not p.is_file()]
        if missing:
            raise CommandError(_("找不到文件：%s") % "、".join(missing), returncode=2)
        mapping = self._mapping(options["map"])
        template = self._template(options["template"], program)
        if options["save_template"] and options["dry_run"]:
            raise CommandError(
                _("--save-template 不能与 --dry-run 同用：试运行不写入任何东西"), returncode=2
            )
        rejected = needs_mapping = 0
        for path in paths:
            bar = ProgressBar(sys.stderr, path.name)
            try:
                report = self._import(path, program, period, user, options, bar, mapping, template)
            except PermissionDenied:
                bar.close()
                raise CommandError(
                    _("%(file)s：用户 %(user)s 无权向该花名册的乡镇导入，未写入")
                    % {"file": path.name, "user": user.get_username()},
                    returncode=3,
                ) from None
            bar.close()
            needs_mapping += report.status == ImportStatus.NEEDS_MAPPING
            rejected += report.status not in OK_STATUSES | {ImportStatus.NEEDS_MAPPING}
            self._print(report, as_json=options["json"])
        failures = []
        if rejected:
            failures.append(_("%d 个文件未通过校验") % rejected)
        if needs_mapping:
            failures.append(_("%d 个文件需要指定列（--map 或 --template）") % needs_mapping)
        if failures:
            raise CommandError("；".join(failures), returncode=1)

    def _import(self, path, program, period, user, options, bar, mapping, template):
        return import_roster(
            path=path,
            program=program,
            period=period,
            township=options["township"],
            publish=options["publish"],
            dry_run=options["dry_run"],
            user=user,
            progress=bar,
            mapping=mapping or None,
            template=template,
            save_template=options["save_template"].strip(),
            override_reason=options["override_reason"],
        )

    def _mapping(self, options: list[str]) -> dict[str, str]:
        mapping: dict[str, str] = {}
        for option in options:
            try:
                label, target = parse_map_option(option)
            except ValueError as error:
                raise CommandError(str(error), returncode=2) from None
            mapping[label] = target
        return mapping

    def _template(self, name: str | None, program: Program) -> MappingTemplate | None:
        if name is None:
            return None
        template = MappingTemplate.objects.filter(name=name).first()
        if template is None:
            known = "\n  ".join(
                MappingTemplate.objects.filter(Q(program=program) | Q(program__isnull=True))
                .order_by("name")
                .values_list("name", flat=True)
            )
            raise CommandError(
                _("未知的列对应模板：%(name)s。本项目可用的模板：\n  %(known)s")
                % {"name": name, "known": known},
                returncode=2,
            )
        if template.program_id not in (None, program.pk):
            raise CommandError(
                _("模板“%(name)s”属于项目“%(program)s”，不能用于本项目")
                % {"name": name, "program": template.program},
                returncode=2,
            )
        return template

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
            ImportStatus.NEEDS_MAPPING: _("需要指定列，未写入"),
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
        failed = report.status in (ImportStatus.REJECTED, ImportStatus.NEEDS_MAPPING)
        style = self.style.ERROR if failed else self.style.SUCCESS
        self.stdout.write(style(line))
        if report.status == ImportStatus.DUPLICATE:
            self.stdout.write("  " + duplicate_message(report))
        if report.template:
            self.stdout.write(_("  列对应模板：%s") % report.template)
        if report.saved_template:
            self.stdout.write(_("  已保存为列对应模板：%s") % report.saved_template)
        if report.status == ImportStatus.NEEDS_MAPPING:
            self._print_columns(report)
            return
        for kind, items in ((_("错误"), report.errors), (_("提示"), report.warnings)):
            for item in items:
                where = " ".join(
                    str(x) for x in (item.get("sheet"), item.get("row"), item.get("column")) if x
                )
                self.stdout.write(f"  {kind} {where}: {item['message']}")

    def _print_columns(self, report: ImportReport) -> None:
        """List the columns found and the fields missing, and how to say which is which."""
        self.stdout.write(_("  表格中的列（工作表 列 表头 → 推测）："))
        for c in report.columns:
            guess = field_label(c["field"]) if c.get("field") else _("未识别")
            self.stdout.write(f"    {c['sheet']} {c['letter']} {c['label']} → {guess}")
        missing = "、".join(field_label(name) for name in report.unsettled)
        self.stdout.write(self.style.ERROR(_("  无法确定的字段：%s") % missing))
        hint = _('  用 --map "表头=字段" 指定（可重复），或用 --template 模板名称。可用的字段：%s')
        self.stdout.write(hint % ", ".join(targets()))
