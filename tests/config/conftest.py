"""Replica aliases for the routing tests: a mirror of the test database on every engine, and
a real PostgreSQL streaming replica where one can be started (tests/config/test_replica.py)."""

from __future__ import annotations

import pytest
from django.db import connections


def add_alias(alias: str, **overrides) -> str:
    """Add ALIAS, a copy of the default database's settings with OVERRIDES, as a test mirror
    of default: the flush after a transactional test leaves it alone."""
    settings_dict = {**connections["default"].settings_dict, **overrides}
    settings_dict["TEST"] = {**settings_dict["TEST"], "MIRROR": "default"}
    # A replica only reads: on SQLite its transactions must not take the write lock (BEGIN
    # IMMEDIATE) that the default connection's settings ask for.
    options = {**settings_dict.get("OPTIONS", {})}
    options.pop("transaction_mode", None)
    settings_dict["OPTIONS"] = options
    connections.settings[alias] = settings_dict
    return alias


def remove_alias(alias: str) -> None:
    if alias in connections.settings:
        connections[alias].close()
        del connections[alias]
        del connections.settings[alias]


@pytest.fixture(scope="session")
def replica_alias(django_db_setup, django_db_blocker):
    """A second connection onto the test database, named as a replica."""
    alias = add_alias("replica")
    yield alias
    with django_db_blocker.unblock():
        remove_alias(alias)


@pytest.fixture
def replicas(settings, replica_alias):
    """Serve public and API reads from the mirror replica alias."""
    settings.SUNLIGHT_DB_REPLICAS = [replica_alias]
    return replica_alias
