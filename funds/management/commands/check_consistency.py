"""Count the stored rows that disagree with their household or batch (for auditors and ops)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from funds.consistency import inconsistencies


class Command(BaseCommand):
    help = (
        "Check that every disbursement's village is its household's village and its program "
        "its batch's program; exit with status 1 if any row disagrees."
    )

    def handle(self, *args, **options) -> None:
        found = inconsistencies()
        for rule, count in found.items():
            self.stdout.write(f"{rule}: {count}")
        bad = sum(found.values())
        if bad:
            raise CommandError(_("%(count)d 条发放记录与其农户或批次不一致") % {"count": bad})
        if options["verbosity"]:
            self.stdout.write(_("一致：每条发放记录的村即其农户的村，项目即其批次的项目。"))
