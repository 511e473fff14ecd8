"""Read settings from the environment: the only place configuration comes from."""

import os
from datetime import date

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}


def env_str(name: str, default: str | None = None) -> str:
    """Return the variable NAME, or DEFAULT; fail loudly when neither exists."""
    value = os.environ.get(name, default)
    if value is None:
        raise ImproperlyConfigured(f"Set the environment variable {name}.")
    return value


def env_bool(name: str, default: bool = False) -> bool:
    """Return the variable NAME read as a boolean."""
    value = os.environ.get(name)
    return default if value is None else value.strip().lower() in _TRUE


def env_int(name: str, default: int) -> int:
    """Return the variable NAME read as an integer."""
    value = os.environ.get(name)
    return default if value in (None, "") else int(value)


def env_list(name: str, default: str = "") -> list[str]:
    """Return the comma-separated variable NAME as a list of non-empty items."""
    return [item.strip() for item in env_str(name, default).split(",") if item.strip()]


def env_dates(name: str) -> list[date]:
    """Return the comma-separated ISO dates (2026-10-08) of the variable NAME."""
    try:
        return [date.fromisoformat(item) for item in env_list(name)]
    except ValueError as error:
        raise ImproperlyConfigured(
            f"{name} must list dates as YYYY-MM-DD, separated by commas ({error})."
        ) from None


def replica_databases(urls: list[str], *, conn_max_age: int) -> dict[str, dict]:
    """Return DATABASES entries replica1, replica2 … for the replica URLS.

    Under the test runner each one mirrors the default database (TEST MIRROR): it connects to
    its own server with the test database's name, and no test database is created on it (a
    streaming replica is read-only and receives the primary's databases by itself).
    """
    databases = {}
    for number, url in enumerate(urls, start=1):
        database = dj_database_url.parse(url, conn_max_age=conn_max_age)
        if database["ENGINE"] != "django.db.backends.postgresql":
            raise ImproperlyConfigured(
                "DATABASE_REPLICA_URLS must name PostgreSQL streaming replicas (postgres://…)."
            )
        database["TEST"] = {"MIRROR": "default"}
        databases[f"replica{number}"] = database
    return databases
