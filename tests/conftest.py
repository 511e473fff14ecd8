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


@pytest.fixture(autouse=True, scope="session")
def _append_only_tables_flushable_on_sqlite():
    """Let a transactional test's flush empty the log's append-only tables on SQLite.

    The triggers refuse every DELETE; the flush's DELETE FROM needs them lifted for its length.
    (PostgreSQL's flush is a TRUNCATE, which they leave alone.)
    """
    from django.db.backends.sqlite3.base import DatabaseOperations

    log = importlib.import_module("publicity.migrations.0003_transparency_log")
    flush = DatabaseOperations.execute_sql_flush

    def execute_sql_flush(self, sql_list):
        with self.connection.cursor() as cursor:
            for statement in log.SQLITE_UNINSTALL:
                cursor.execute(statement)
        try:
            flush(self, sql_list)
        finally:
            with self.connection.cursor() as cursor:
                for statement in log.SQLITE_INSTALL:
                    cursor.execute(statement)

    DatabaseOperations.execute_sql_flush = execute_sql_flush
    yield
    DatabaseOperations.execute_sql_flush = flush
