from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from api.models import AUDITORS_GROUP, AuditorToken
from funds import access, audit


def operator(username: str, perm: str):
    """Return the active account USERNAME if it holds PERM; refuse otherwise."""
    user = get_user_model().objects.filter(username=username, is_active=True).first()
    if user is None:
        raise CommandError(f"no active user named {username!r}", returncode=2)
    if not access.can(user, perm, placed=False):
        raise CommandError(f"{username} may not do this ({perm})", returncode=3)
    return user


class Command(BaseCommand):
    help = (
        "Issue an expiring API token to an auditor and print its key once. The auditor needs "
        "an account: pass --create to make one (without a password: it works through the token "
        "only), or create it first with `manage.py createsuperuser`/the admin."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument(
            "--by", required=True, metavar="USERNAME",
            help="the staff account issuing the token (needs api.add_auditortoken)",
        )  # fmt: skip
        parser.add_argument(
            "--days", type=int, default=90,
            help="days until the token expires: 1–3660 (default: 90)",
        )  # fmt: skip
        parser.add_argument(
            "--create", action="store_true",
            help="create the auditor's account if it does not exist (no password, not staff)",
        )  # fmt: skip
        parser.add_argument("--note", default="", help="what the token is for")

    def handle(self, *args, username, by, days, note, create=False, **options):
        issuer = operator(by, "api.add_auditortoken")
        if not 1 <= days <= 3660:
            raise CommandError("--days must be between 1 and 3660")
        accounts = get_user_model().objects
        user = accounts.filter(username=username).first()
        created = False
        if user is None and not create:
            raise CommandError(f"no user named {username!r} (pass --create to make the account)")
        with transaction.atomic():
            if user is None:
                user, created = accounts.create_user(username=username), True  # unusable password
            user.groups.add(Group.objects.get_or_create(name=AUDITORS_GROUP)[0])
            token, key = AuditorToken.objects.issue(user=user, days=days, note=note)
            audit.record(
                audit.Kind.TOKEN_ISSUE, user=issuer, obj=token, prefix=token.prefix,
                holder=user.pk, days=days, created=created,
            )  # fmt: skip
        self.stdout.write(key)
        self.stderr.write(
            f"token {token.prefix}… for {username} expires {token.expires_at:%Y-%m-%d %H:%M %Z}; "
            "the key is not stored and cannot be shown again."
        )
