"""Fixtures shared by the whole suite."""

import importlib

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


# --- Roles and places (funds.access) --------------------------------------------------------
# Three townships: 东乡镇 and 西乡镇 in 甲县, 远山镇 in 乙县. The township clerk works in 东乡镇,
# the county clerk in all of 甲县.


@pytest.fixture
def townships(db):
    from villages.models import Township

    return {
        name: Township.objects.get_or_create(name=name, defaults={"county": county})[0]
        for name, county in (("东乡镇", "甲县"), ("西乡镇", "甲县"), ("远山镇", "乙县"))
    }


def _staff_member(username: str, group: str | None, **place):
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    from villages.models import StaffPlace

    user = get_user_model().objects.create_user(
        username=username, password="clerk-pass-123", is_staff=True
    )
    if group:
        user.groups.add(Group.objects.get(name=group))
    if place:
        StaffPlace.objects.create(user=user, **place)
    return user


@pytest.fixture
def township_clerk(townships):
    from funds.access import TOWNSHIP_STAFF_GROUP

    return _staff_member("dong", TOWNSHIP_STAFF_GROUP, township=townships["东乡镇"])


@pytest.fixture
def county_clerk(townships):
    from funds.access import COUNTY_STAFF_GROUP

    return _staff_member("jiaxian", COUNTY_STAFF_GROUP, county="甲县")


@pytest.fixture
def powerless_staff(townships):
    """A staff account with no group, no permission and no place."""
    return _staff_member("nobody", None)


@pytest.fixture
def auditor(db):
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    from funds.access import AUDITORS_GROUP

    user = get_user_model().objects.create_user(username="shenji", password="audit-pass-123")
    user.groups.add(Group.objects.get(name=AUDITORS_GROUP))
    return user


@pytest.fixture(autouse=True, scope="session")
def _append_only_tables_flushable_on_sqlite():
    """Let a transactional test's flush empty the append-only tables on SQLite (the log's,
    the payment results', the red-flag reviews').

    The triggers refuse every DELETE; the flush's DELETE FROM needs them lifted for its length.
    (PostgreSQL's flush is a TRUNCATE, which they leave alone.)
    """
    from django.db.backends.sqlite3.base import DatabaseOperations

    log = importlib.import_module("publicity.migrations.0003_transparency_log")
    results = importlib.import_module("funds.migrations.0013_payment_results_append_only")
    reviews = importlib.import_module("api.migrations.0002_redflag_review")
    lift = [*log.SQLITE_UNINSTALL, *results.SQLITE_UNGUARD, *reviews.SQLITE_UNGUARD]
    guard = [*log.SQLITE_INSTALL, *results.SQLITE_GUARD, *reviews.SQLITE_GUARD]
    flush = DatabaseOperations.execute_sql_flush

    def execute_sql_flush(self, sql_list):
        with self.connection.cursor() as cursor:
            for statement in lift:
                cursor.execute(statement)
        try:
            flush(self, sql_list)
        finally:
            with self.connection.cursor() as cursor:
                for statement in guard:
                    cursor.execute(statement)

    DatabaseOperations.execute_sql_flush = execute_sql_flush
    yield
    DatabaseOperations.execute_sql_flush = flush
