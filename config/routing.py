"""Read replicas: public and API reads go to a PostgreSQL streaming replica, in one snapshot.

``DATABASE_REPLICA_URLS`` (settings) names the replicas; with none, everything is on
``default``. A router alone cannot tell a villager's page from a staff member's, so the
middleware decides per request and tells the router through a context variable:

- a GET or HEAD of a public page (the ``publicity`` URLs) or of the API (``api``) by someone
  not logged in to the site (anonymous, or an auditor with a token) is read from one replica,
  chosen at random per request;
- everything else — staff pages, the admin, any POST (the lookup's rate limits and alarms,
  objections), a logged-in user's pages, the task worker and management commands, which run
  outside any request — reads and writes the primary;
- writes always go to the primary, and so do reads of the models a request must read fresh
  even on a public page: users, sessions and auditor tokens (a revoked token is refused at
  once, however far a replica lags).

A replica-served request runs in one read-only REPEATABLE READ transaction on its replica, so
every query of the page reads the same snapshot: a replica that replays a publication while
the page is being built shows the page either before it or after it, never a batch's header
from one side and its rows from the other. A streamed response (an export) keeps the
transaction open until its last chunk has been sent.
"""

from __future__ import annotations

import random
import sys
from collections.abc import Iterator
from contextvars import ContextVar
from typing import Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.urls import Resolver404, resolve

#: The replica alias this request reads from; None: the primary.
_read_alias: ContextVar[str | None] = ContextVar("sunlight_read_alias", default=None)

#: URL namespaces whose GET and HEAD may be served from a replica.
REPLICA_NAMESPACES = frozenset({"publicity", "api"})
#: Read from the primary even within a replica-served request (authentication and sessions).
PRIMARY_APPS = frozenset({"auth", "sessions", "admin", "contenttypes"})
PRIMARY_MODELS = frozenset({"api.auditortoken"})


def read_alias() -> str | None:
    """The replica the current request reads from, or None for the primary."""
    return _read_alias.get()


class ReplicaRouter:
    """Send reads of a replica-served request to its replica; everything else to default."""

    def db_for_read(self, model: type, **hints: Any) -> str:
        alias = _read_alias.get()
        if alias is None:
            return DEFAULT_DB_ALIAS
        meta = model._meta
        if meta.app_label in PRIMARY_APPS or meta.label_lower in PRIMARY_MODELS:
            return DEFAULT_DB_ALIAS
        return alias

    def db_for_write(self, model: type, **hints: Any) -> str:
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1: Any, obj2: Any, **hints: Any) -> bool:
        # Every alias holds the same data: the primary and its replicas.
        return True

    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool:
        return db == DEFAULT_DB_ALIAS


class Snapshot:
    """One read-only REPEATABLE READ transaction on a replica, routing reads to it while open.

    ``open()`` and ``close()`` rather than a ``with`` block: a streamed response closes it
    after the view has returned, when its last chunk is sent.
    """

    def __init__(self, alias: str):
        self.alias = alias
        self._atomic = transaction.atomic(using=alias)
        self._token = None

    def open(self) -> None:
        self._atomic.__enter__()
        try:
            connection = connections[self.alias]
            if connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        except BaseException:
            self._atomic.__exit__(*sys.exc_info())
            raise
        self._token = _read_alias.set(self.alias)

    def detach(self) -> None:
        """Stop routing this context's reads to the replica; the transaction stays open."""
        if self._token is not None:
            _read_alias.reset(self._token)
            self._token = None

    def close(self, exc_type=None, exc=None, tb=None) -> None:
        self.detach()
        self._atomic.__exit__(exc_type, exc, tb)


class SnapshotStream:
    """A streamed response's chunks, each read in the request's snapshot; the snapshot closes
    with the last chunk, or when the server closes the response early."""

    def __init__(self, content: Iterator[bytes], snapshot: Snapshot):
        self._content = iter(content)
        self._snapshot: Snapshot | None = snapshot

    def __iter__(self) -> SnapshotStream:
        return self

    def __next__(self) -> bytes:
        if self._snapshot is None:
            raise StopIteration
        token = _read_alias.set(self._snapshot.alias)
        try:
            return next(self._content)
        except BaseException:
            self.close()
            raise
        finally:
            _read_alias.reset(token)

    def close(self) -> None:
        snapshot, self._snapshot = self._snapshot, None
        if snapshot is None:
            return
        try:
            close = getattr(self._content, "close", None)
            if close is not None:
                close()
        finally:
            snapshot.close()


def replica_for(request) -> str | None:
    """The replica alias to serve REQUEST from, or None for the primary."""
    replicas = getattr(settings, "SUNLIGHT_DB_REPLICAS", ())
    if not replicas or request.method not in ("GET", "HEAD"):
        return None
    try:
        match = resolve(request.path_info)
    except Resolver404:
        return None
    if not match.namespaces or match.namespaces[0] not in REPLICA_NAMESPACES:
        return None
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return None  # staff read their own writes: the pages they have just changed
    return random.choice(replicas)  # spreading load, not a secret


class ReplicaReadMiddleware:
    """Serve public and API reads from a replica in one snapshot (after authentication)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        alias = replica_for(request)
        if alias is None:
            return self.get_response(request)
        snapshot = Snapshot(alias)
        snapshot.open()
        try:
            response = self.get_response(request)
        except BaseException:
            snapshot.close(*sys.exc_info())
            raise
        if response.streaming and not response.is_async:
            snapshot.detach()
            response.streaming_content = SnapshotStream(response.streaming_content, snapshot)
        else:
            snapshot.close()
        return response
