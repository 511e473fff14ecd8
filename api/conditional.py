"""Conditional GET: an ETag and Last-Modified that change only when visible data change."""

from __future__ import annotations

import hashlib
from datetime import datetime

from django.db.models import Count, Max, Q, Sum
from django.utils.http import parse_etags, parse_http_date_safe

from api.permissions import is_auditor
from funds.models import Batch

API_VERSION = "v1"


def visible_batches(request):
    """Return the batches the caller may see: all for auditors, published for others."""
    return Batch.objects.all() if is_auditor(request) else Batch.objects.published()


def fingerprint(request, reference_model=None) -> tuple[str, datetime | None]:
    """Return an ETag and Last-Modified for this request, from one or two small aggregates."""
    state = visible_batches(request).aggregate(
        count=Count("id"),
        final=Count("id", filter=Q(status=Batch.Status.FINAL)),
        last_id=Max("id"),
        updated=Max("updated_at"),
        published=Max("published_at"),
        rows=Sum("row_count"),
        total=Sum("total_amount"),
    )
    parts = [API_VERSION, str(is_auditor(request)), request.get_full_path()]
    parts += [str(state[key]) for key in sorted(state)]
    if reference_model is not None:
        reference = reference_model.objects.aggregate(count=Count("pk"), last=Max("pk"))
        parts += [reference_model.__name__, str(reference["count"]), str(reference["last"])]
    digest = hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:40]
    stamps = [stamp for stamp in (state["updated"], state["published"]) if stamp]
    return f'"{digest}"', max(stamps) if stamps else None


def not_modified(request, etag: str, last_modified: datetime | None) -> bool:
    """Say whether the caller's copy is current (If-None-Match first, then If-Modified-Since)."""
    if_none_match = request.META.get("HTTP_IF_NONE_MATCH")
    if if_none_match:
        tags = parse_etags(if_none_match)
        return "*" in tags or etag in tags or f"W/{etag}" in tags
    since = parse_http_date_safe(request.META.get("HTTP_IF_MODIFIED_SINCE", ""))
    if since is not None and last_modified is not None:
        return int(last_modified.timestamp()) <= since
    return False
