"""Who gets in: anonymous readers, auditor tokens that expire and are revoked, staff sessions."""

from datetime import timedelta
from io import StringIO

import pytest
from django.contrib.admin.sites import site
from django.core.management import CommandError, call_command
from django.utils import timezone
from rest_framework.test import APIClient

from api.admin import AuditorTokenAdmin
from api.models import AuditorToken, hash_key

pytestmark = pytest.mark.django_db


def as_token(key: str, keyword: str = "Token") -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"{keyword} {key}")
    return client


def test_anonymous_callers_cannot_see_red_flags(api, world):
    """Red flags answer 401 to anonymous callers, with a challenge."""
    for url in ("/api/v1/redflags/", "/api/v1/redflags/paid_twice/"):
        response = api.get(url)
        assert response.status_code == 401
        assert response["WWW-Authenticate"] == "Token"


def test_ordinary_users_cannot_see_red_flags(world, django_user_model):
    """A logged-in user who is neither staff nor auditor is refused with 403."""
    client = APIClient()
    client.force_login(django_user_model.objects.create_user("villager", password="p-123456789"))
    assert client.get("/api/v1/redflags/").status_code == 403


@pytest.mark.parametrize("keyword", ["Token", "Bearer", "token"])
def test_auditor_token_opens_red_flags(world, auditor_key, keyword):
    """A live token in either header form opens the red-flag endpoints."""
    assert as_token(auditor_key, keyword).get("/api/v1/redflags/").status_code == 200


def test_staff_session_opens_red_flags(world, staff_client):
    """Staff use their login session."""
    assert staff_client.get("/api/v1/redflags/").status_code == 200


def test_expired_token_is_401(world, auditor_key):
    """A token past its expiry is refused, even for public data."""
    AuditorToken.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    response = as_token(auditor_key).get("/api/v1/programs/")
    assert response.status_code == 401


def test_revoked_token_is_401(world, auditor_key):
    """A revoked token stops working at once."""
    AuditorToken.objects.get().revoke()
    assert as_token(auditor_key).get("/api/v1/redflags/").status_code == 401


@pytest.mark.parametrize(
    "header",
    [
        "Token nope", "Token a b", "Bearer", "Token \u00e9\u00e9",
        # No scheme, or one the API does not take: refused, never served as anonymous.
        "abcdef0123456789", "Basic YXVkaXRvcjpzZWNyZXQ=", "Digest username=x",
    ],
)  # fmt: skip
def test_unknown_or_malformed_tokens_are_401(world, header):
    """Unknown, empty or malformed tokens are refused."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header.encode("utf-8").decode("latin-1"))
    assert client.get("/api/v1/programs/").status_code == 401


def test_token_key_is_stored_only_as_its_hash(auditor_key):
    """The database holds the key's SHA-256 and prefix, never the key."""
    token = AuditorToken.objects.get()
    assert token.key_hash == hash_key(auditor_key) and token.key_hash != auditor_key
    assert token.prefix == auditor_key[:8]


def test_issue_command_prints_the_key_once_and_makes_an_auditor(
    world, django_user_model, staff_user
):
    """issue_auditor_token prints a working key and adds the user to the auditors group."""
    django_user_model.objects.create_user("shen", password="p-123456789")
    out, err = StringIO(), StringIO()
    call_command(
        "issue_auditor_token", "shen", "--days", "90", "--by", staff_user.username,
        stdout=out, stderr=err,
    )  # fmt: skip
    key = out.getvalue().strip()
    token = AuditorToken.objects.get(user__username="shen")
    assert key not in err.getvalue() and token.key_hash == hash_key(key)
    assert timedelta(days=89) < token.expires_at - timezone.now() <= timedelta(days=90)
    assert as_token(key).get("/api/v1/redflags/").status_code == 200


@pytest.mark.parametrize("args", [["ghost"], ["shen", "--days", "0"]])
def test_issue_command_refuses_unknown_users_and_bad_lifetimes(
    db, django_user_model, args, staff_user
):
    """No token for a user who does not exist or for a lifetime under a day."""
    django_user_model.objects.create_user("shen", password="p-123456789")
    with pytest.raises(CommandError):
        call_command(
            "issue_auditor_token", *args, "--by", staff_user.username,
            stdout=StringIO(), stderr=StringIO(),
        )  # fmt: skip
    assert not AuditorToken.objects.exists()


def test_admin_revokes_tokens(world, auditor_key, rf, staff_user):
    """The admin action revokes the selected tokens."""
    admin = AuditorTokenAdmin(AuditorToken, site)
    request = rf.post("/")
    request.user = staff_user
    request._messages = type("M", (), {"add": lambda *a, **k: None})()
    admin.revoke(request, AuditorToken.objects.all())
    assert AuditorToken.objects.get().revoked_at is not None
    assert as_token(auditor_key).get("/api/v1/programs/").status_code == 401


def test_admin_lists_tokens_without_keys(world, auditor_key, staff_client):
    """The token admin page shows prefixes and never the key or its hash."""
    page = staff_client.get("/admin/api/auditortoken/").content.decode()
    assert auditor_key[:8] in page
    assert auditor_key not in page and hash_key(auditor_key) not in page


RATES = {"anon": "3/minute", "user": "5/minute", "auditor": "8/minute"}


@pytest.fixture
def small_rates(settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": RATES}


def statuses(client, n: int) -> list[int]:
    return [client.get("/api/v1/programs/").status_code for _ in range(n)]


def test_anonymous_callers_are_throttled(api, world, small_rates):
    """The fourth anonymous call in a minute is refused with 429 and Retry-After."""
    assert statuses(api, 3) == [200, 200, 200]
    response = api.get("/api/v1/programs/")
    assert response.status_code == 429 and int(response["Retry-After"]) > 0


def test_auditors_get_a_higher_limit(world, auditor_key, small_rates):
    """Auditors pass where anonymous callers stop, up to their own limit."""
    client = as_token(auditor_key)
    assert statuses(client, 8) == [200] * 8
    assert client.get("/api/v1/programs/").status_code == 429


def test_throttling_counts_each_anonymous_address_separately(world, small_rates):
    """One address using up its allowance does not block another."""
    first, second = APIClient(REMOTE_ADDR="10.0.0.1"), APIClient(REMOTE_ADDR="10.0.0.2")
    assert statuses(first, 4)[-1] == 429
    assert statuses(second, 1) == [200]


def test_issue_command_creates_the_auditor_account_when_asked(world, django_user_model, staff_user):
    """--create makes the auditor an account that cannot sign in to the site (no password)."""
    out = StringIO()
    call_command(
        "issue_auditor_token", "liu.shenji", "--create", "--by", staff_user.username,
        stdout=out, stderr=StringIO(),
    )  # fmt: skip
    user = django_user_model.objects.get(username="liu.shenji")
    assert not user.has_usable_password() and not user.is_staff
    assert as_token(out.getvalue().strip()).get("/api/v1/redflags/").status_code == 200
    from funds.models import AuditEntry

    assert AuditEntry.objects.get(kind="token_issue").details["created"] is True


def test_issue_command_help_says_the_days_range_and_default():
    from api.management.commands.issue_auditor_token import Command

    text = Command().create_parser("manage.py", "issue_auditor_token").format_help()
    assert "1–3660" in text and "90" in text and "--create" in text


def test_no_key_starts_like_a_command_line_option(db, django_user_model, monkeypatch):
    """A prefix is passed to revoke_auditor_token: a key starting with "-" would read as an
    option there, so one is never issued."""
    import secrets

    keys = iter(
        [
            "-starts-like-an-option-aaaaaaaaaaaaaaaaaaaaaaaa",
            "fine-key-bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb",
        ]
    )
    monkeypatch.setattr(secrets, "token_urlsafe", lambda n: next(keys))
    user = django_user_model.objects.create_user("shen", password="p-123456789")
    token, key = AuditorToken.objects.issue(user=user, days=1)
    assert key.startswith("fine-key") and token.prefix == key[:8]
