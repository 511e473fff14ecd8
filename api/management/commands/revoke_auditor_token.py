from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from api.management.commands.issue_auditor_token import operator
from api.models import AuditorToken
from funds import audit


class Command(BaseCommand):
    help = "Revoke an auditor's API token, named by the first characters of its key."

    def add_arguments(self, parser):
        parser.add_argument("prefix", help="the key's first 8 characters, as the admin lists")
        parser.add_argument(
            "--by", required=True, metavar="USERNAME",
            help="the staff account revoking the token (needs api.change_auditortoken)",
        )  # fmt: skip

    def handle(self, *args, prefix, by, **options):
        revoker = operator(by, "api.change_auditortoken")
        with transaction.atomic():
            tokens = list(
                AuditorToken.objects.select_for_update().filter(
                    prefix=prefix, revoked_at__isnull=True
                )
            )
            if len(tokens) != 1:
                raise CommandError(f"{len(tokens)} live tokens start with {prefix!r}; need one")
            token = tokens[0]
            token.revoke()
            audit.record(
                audit.Kind.TOKEN_REVOKE, user=revoker, obj=token, prefix=token.prefix,
                holder=token.user_id,
            )  # fmt: skip
        self.stdout.write(f"token {token.prefix}… revoked")
