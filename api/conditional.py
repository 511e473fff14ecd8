"""Conditional GET: an ETag and Last-Modified that change only when visible data change.

The ETag joins the batch-state aggregate (which also sees what an auditor's statuses and a
reference list's new rows change) with the publication version every public act bumps
(publicity.pagecache: payment results change no batch column). The revalidation itself is
publicity.pagecache.not_modified, shared with the public pages.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache

from django.db import connection, connections, router
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from api.permissions import is_auditor
from funds.models import Batch
from publicity.models import PublicationVersion
from publicity.pagecache import digest, not_modified, version_parts

__all__ = ["fingerprint", "not_modified"]

API_VERSION = "v1"


@cache
def _state_sql(*, public: bool, reference=None) -> tuple[str, tuple[str, ...]]:
    """Return the batch-state aggregate as SQL: written out, it costs a tenth of the ORM's.

    With a REFERENCE model, its row count and highest id come in the same query, as two scalar
    subqueries: one round trip whatever the endpoint.
    The publication version's row is read in the same statement.
    """
    q = connection.ops.quote_name
    where, params = "", (Batch.Status.FINAL.value, PublicationVersion.ROW, PublicationVersion.ROW)
    if public:
        marks = ", ".join(["%s"] * len(Batch.PUBLIC_STATUSES))
        where = f" WHERE {q('status')} IN ({marks})"
        params += tuple(status.value for status in Batch.PUBLIC_STATUSES)
    version = f"FROM {q(PublicationVersion._meta.db_table)} WHERE {q('id')} = %s"
    columns = (
        f"COUNT(*), SUM(CASE WHEN {q('status')} = %s THEN 1 ELSE 0 END), MAX({q('id')}), "
        f"MAX({q('updated_at')}), MAX({q('published_at')}), SUM({q('row_count')}), "
        f"SUM({q('total_amount')}), (SELECT {q('number')} {version}), "
        f"(SELECT {q('changed_at')} {version})"
    )
    if reference is not None:
        table, pk = q(reference._meta.db_table), q(reference._meta.pk.column)
        columns += f", (SELECT COUNT(*) FROM {table}), (SELECT MAX({pk}) FROM {table})"  # noqa: S608
    # Names come from the model, values go as parameters.
    sql = f"SELECT {columns} FROM {q(Batch._meta.db_table)}{where}"  # noqa: S608
    return sql, params


def _as_datetime(value) -> datetime | None:
    """Read a MAX() of a datetime column: a datetime on PostgreSQL, UTC text on SQLite (or a
    naive UTC datetime, for a column SQLite knows the declared type of)."""
    if value is None:
        return None
    parsed = value if isinstance(value, datetime) else parse_datetime(str(value))
    if parsed is not None and timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed, UTC)
    return parsed


def fingerprint(request, reference_model=None) -> tuple[str, datetime | None]:
    """Return an ETag and Last-Modified for this request, from one query of small aggregates."""
    auditor = is_auditor(request)
    # Raw SQL is not routed by itself: read where the request's other reads go (a replica's
    # snapshot on public and API pages, config/routing.py), so the tag matches the answer.
    with connections[router.db_for_read(Batch)].cursor() as cursor:
        cursor.execute(*_state_sql(public=not auditor, reference=reference_model))
        found = cursor.fetchone()
    count, final, last_id, updated, published, rows, total, number, changed = found[:9]
    reference = found[9:] if reference_model is not None else None
    updated, published = _as_datetime(updated), _as_datetime(published)
    version = PublicationVersion(number=number or 0, changed_at=_as_datetime(changed))
    parts = [API_VERSION, auditor, request.get_full_path(), *version_parts(version)]
    parts += [count, final, last_id, updated, published, rows, total]
    if reference is not None:
        parts += [reference_model.__name__, reference[0], reference[1]]
    stamps = [stamp for stamp in (updated, published, version.changed_at) if stamp]
    return f'"{digest(*parts)}"', max(stamps) if stamps else None
