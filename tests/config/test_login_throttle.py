"""Login guessing is throttled (django-axes) per user name and client address (issue #15.1)."""

from __future__ import annotations

import pytest
from django.test import RequestFactory
from django.urls import reverse

from privacy.clients import client_address

PASSWORD = "a-long-staff-password-1"
pytestmark = pytest.mark.django_db


@pytest.fixture
def clerk(django_user_model):
    return django_user_model.objects.create_user(username="clerk", password=PASSWORD, is_staff=True)


def _login(client, username, password, address="203.0.113.7", **extra):
    return client.post(
        reverse("admin:login"),
        {"username": username, "password": password, "next": "/admin/"},
        REMOTE_ADDR=address,
        **extra,
    )


def _fail(client, times, username="clerk", address="203.0.113.7"):
    """Fail TIMES logins; the form comes back with its error until the last reaches the limit."""
    from django.conf import settings

    for attempt in range(1, times + 1):
        response = _login(client, username, "wrong-guess", address)
        locked = attempt >= settings.AXES_FAILURE_LIMIT
        assert response.status_code == (429 if locked else 200), attempt


def test_a_right_password_under_the_limit_logs_in(client, clerk, settings):
    _fail(client, settings.AXES_FAILURE_LIMIT - 1)
    response = _login(client, "clerk", PASSWORD)
    assert response.status_code == 302
    assert response.url == "/admin/"


def test_the_limit_locks_that_name_from_that_address_even_with_the_right_password(
    client, clerk, settings
):
    _fail(client, settings.AXES_FAILURE_LIMIT)
    response = _login(client, "clerk", PASSWORD)
    assert response.status_code == 429
    page = response.content.decode()
    assert "登录失败次数过多" in page
    assert "_auth_user_id" not in client.session


def test_the_lockout_page_is_translated(client, clerk, settings):
    _fail(client, settings.AXES_FAILURE_LIMIT)
    response = _login(client, "clerk", PASSWORD, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 429
    assert "Too many failed sign-ins" in response.content.decode()


def test_the_lock_holds_only_that_name_and_that_address(client, clerk, django_user_model, settings):
    django_user_model.objects.create_user(username="other", password=PASSWORD, is_staff=True)
    _fail(client, settings.AXES_FAILURE_LIMIT)
    assert _login(client, "clerk", PASSWORD, address="198.51.100.9").status_code == 302
    client.logout()
    assert _login(client, "other", PASSWORD).status_code == 302


def test_the_limit_is_a_setting(client, clerk, settings):
    settings.AXES_FAILURE_LIMIT = 2
    _fail(client, 2)
    assert _login(client, "clerk", PASSWORD).status_code == 429


def test_a_forwarded_for_header_does_not_escape_the_lock(client, clerk, settings):
    """With no trusted proxy (the default), a client naming itself in X-Forwarded-For is still
    its peer address: a guesser cannot step out of the lock by varying the header."""
    _fail(client, settings.AXES_FAILURE_LIMIT)
    response = _login(client, "clerk", PASSWORD, HTTP_X_FORWARDED_FOR="192.0.2.55")
    assert response.status_code == 429


def test_behind_a_trusted_proxy_the_lock_holds_the_forwarded_client_only(client, clerk, settings):
    """Behind the reverse proxy every login comes from its address: the lock must key on the
    client the proxy names, or one guesser would lock every clerk of the county out."""
    assert settings.AXES_CLIENT_IP_CALLABLE == "privacy.clients.login_address"
    settings.SUNLIGHT_TRUSTED_PROXIES = "10.0.0.1"
    proxy = {"address": "10.0.0.1"}
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _login(client, "clerk", "wrong-guess", HTTP_X_FORWARDED_FOR="192.0.2.55", **proxy)
    guesser = _login(client, "clerk", PASSWORD, HTTP_X_FORWARDED_FOR="192.0.2.55", **proxy)
    assert guesser.status_code == 429
    office = _login(client, "clerk", PASSWORD, HTTP_X_FORWARDED_FOR="198.51.100.4", **proxy)
    assert office.status_code == 302


def test_client_address_is_the_peer_address_without_trusted_proxies():
    request = RequestFactory().get("/", REMOTE_ADDR="198.51.100.1", HTTP_X_FORWARDED_FOR="1.2.3.4")
    assert client_address(request) == "198.51.100.1"


def test_a_sign_in_without_an_address_works(client, clerk):
    """A sign-in whose request has no REMOTE_ADDR (the test client's force_login; a WSGI server
    on a Unix socket) must not fail on PostgreSQL's inet column with a made-up "unknown"."""
    client.force_login(clerk)
    assert client.get("/admin/").status_code == 200


def test_no_raw_address_is_kept_of_a_login(client, clerk, settings, caplog):
    """An address is personal data: axes keeps a keyed-hash pseudo-address, the same for the
    same client (so the lock still holds), and no log of sign-ins."""
    from axes.models import AccessAttempt, AccessLog

    _fail(client, 2)
    _fail(client, 1, address="198.51.100.9")
    assert _login(client, "clerk", PASSWORD, address="198.51.100.9").status_code == 302
    stored = set(AccessAttempt.objects.values_list("ip_address", flat=True))
    assert len(stored) == 1 and stored.isdisjoint({"203.0.113.7", "198.51.100.9"})
    assert next(iter(stored)).startswith("fd")
    assert not AccessLog.objects.exists()
    assert "203.0.113.7" not in caplog.text and "198.51.100.9" not in caplog.text
