from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError

from api.models import AUDITORS_GROUP, AuditorToken


class Command(BaseCommand):
    help = "Issue an expiring API token to an auditor and print its key once."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--days", type=int, default=90, help="days until the token expires")
        parser.add_argument("--note", default="", help="what the token is for")

    def handle(self, *args, username, days, note, **options):
        if not 1 <= days <= 3660:
            raise CommandError("--days must be between 1 and 3660")
        try:
            user = get_user_model().objects.get(username=username)
        except get_user_model().DoesNotExist as exc:
            raise CommandError(f"no user named {username!r}") from exc
        user.groups.add(Group.objects.get_or_create(name=AUDITORS_GROUP)[0])
        token, key = AuditorToken.objects.issue(user=user, days=days, note=note)
        self.stdout.write(key)
        self.stderr.write(
            f"token {token.prefix}… for {username} expires {token.expires_at:%Y-%m-%d %H:%M %Z}; "
            "the key is not stored and cannot be shown again."
        )
