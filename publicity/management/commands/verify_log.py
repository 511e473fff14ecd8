"""Check the transparency log against the database: every leaf, every root, every signature."""

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from publicity.transparency import verify_log


class Command(BaseCommand):
    help = (
        "Recompute every leaf of the transparency log from its row and the tree from the leaves; "
        "name every row that no longer matches its leaf, every published row missing from the "
        "log, and every checkpoint whose root or signature does not hold. Exits 1 on a problem."
    )

    def handle(self, *args, **options):
        report = verify_log()
        for problem in report.problems:
            self.stdout.write(problem)
        summary = _("透明日志：%(leaves)s 个叶子，%(checkpoints)s 个检查点，根 %(root)s") % {
            "leaves": report.leaves,
            "checkpoints": report.checkpoints,
            "root": report.root.hex(),
        }
        self.stdout.write(summary)
        if report.problems:
            raise CommandError(_("发现 %(count)s 个问题") % {"count": len(report.problems)})
        self.stdout.write(self.style.SUCCESS(_("日志与数据库一致，签名有效")))
