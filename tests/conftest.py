"""Fixtures shared by the whole suite."""

import pytest
from django.utils import translation


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    """Keep uploaded and staged files of each test in its own folder."""
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def _default_language(settings):
    """Start every test in the site's default language.

    LocaleMiddleware activates a request's language for the thread and nothing resets it, so a
    request in English (schemathesis sends random Accept-Language headers) would leak into the
    tests that follow.
    """
    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.deactivate()


@pytest.fixture
def staff_user(django_user_model):
    return django_user_model.objects.create_user(
        username="staff", password="staff-pass-123", is_staff=True, is_superuser=True
    )


@pytest.fixture
def staff_client(client, staff_user):
    client.force_login(staff_user)
    return client


@pytest.fixture(autouse=True)
def _audit_record_emptied_after_transactional_tests(request):
    """Empty the append-only audit record before a transactional test's database is flushed.

    The flush empties SQLite tables with DELETE, which the audit record's trigger refuses: the
    guard is lifted for that moment only (PostgreSQL flushes with TRUNCATE, which it allows).
    """
    marker = request.node.get_closest_marker("django_db")
    if not (marker and marker.kwargs.get("transaction")):
        yield
        return
    request.getfixturevalue("_django_db_helper")
    yield
    from django.db import connection

    from funds.audit import lift_guard_and_empty

    if connection.vendor == "sqlite":
        lift_guard_and_empty()
