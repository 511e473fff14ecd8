"""Mask the stored ID numbers again by the masking policy in force (after it keeps fewer digits)."""

from __future__ import annotations

from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from villages.models import Person


class Command(BaseCommand):
    help = "Mask every stored masked ID number again by SUNLIGHT_MASK_ID_HEAD / _TAIL."

    def handle(self, *args, **options) -> None:
        changed = Person.objects.remask_id_numbers()
        if options["verbosity"]:
            self.stdout.write(
                _("已按当前脱敏规则重新脱敏 %(count)d 个身份证号。") % {"count": changed}
            )
