"""Read settings from the environment: the only place configuration comes from."""

import os
from datetime import date

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
