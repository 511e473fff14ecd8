"""Mask the stored ID numbers again by the masking policy in force (after it keeps fewer digits)."""

from __future__ import annotations

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils.translation import gettext as _

from funds.management.maintenance import add_operator_argument, record_maintenance
from villages.models import Person


class Command(BaseCommand):
    help = "Mask every stored masked ID number again by SUNLIGHT_MASK_ID_HEAD / _TAIL."

    def add_arguments(self, parser) -> None:
        add_operator_argument(parser)

    def handle(self, *args, **options) -> None:
        with transaction.atomic():
            changed = Person.objects.remask_id_numbers()
            record_maintenance("remask_ids", by=options["by"], changed=changed)
        if options["verbosity"]:
            self.stdout.write(
                _("已按当前脱敏规则重新脱敏 %(count)d 个身份证号。") % {"count": changed}
            )
