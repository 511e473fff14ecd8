"""The villagers' lookup (name + ID number) and the rate limits that guard public forms.

The clear ID number never leaves this module's locals: cache keys carry keyed hashes only,
and nothing here logs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest

from privacy import hashing, personal
from publicity import queries
from villages.models import Person


def client_key(request: HttpRequest) -> str:
    """Return a keyed hash of the client's address, fit for a cache key."""
    address = request.META.get("REMOTE_ADDR", "") or "unknown"
    return hashing.keyed_hash(
        f"ip:{address}",
        key=settings.SUNLIGHT_HASH_KEY,
        version=settings.SUNLIGHT_HASH_KEY_VERSION,
    )


def over_limit(scope: str, subject: str, *, limit: int, window: int) -> bool:
    """Count one hit of SUBJECT in SCOPE; say whether the limit for the window is passed."""
    key = f"sunlight:rate:{scope}:{subject}"
    cache.add(key, 0, timeout=window)
    try:
        hits = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=window)
        hits = 1
    return hits > limit


def client_over_limit(request: HttpRequest, scope: str) -> bool:
    """Count a hit by this client on SCOPE ('lookup', 'objection') and check its limit."""
    limits = {
        "lookup": settings.SUNLIGHT_LOOKUP_PER_CLIENT,
        "objection": settings.SUNLIGHT_OBJECTIONS_PER_CLIENT,
    }
    return over_limit(
        f"{scope}-client",
        client_key(request),
        limit=limits[scope],
        window=settings.SUNLIGHT_RATE_WINDOW_SECONDS,
    )


def id_over_limit(id_hash: str) -> bool:
    """Count a lookup of the ID with this keyed hash and check the per-ID limit."""
    return over_limit(
        "lookup-id",
        id_hash,
        limit=settings.SUNLIGHT_LOOKUP_PER_ID,
        window=settings.SUNLIGHT_RATE_WINDOW_SECONDS,
    )


def _published(person: Person) -> bool:
    """Say whether a published roster names PERSON (their household's rows are not enough)."""
    return queries.published_rows().named_persons().filter(pk=person.pk).exists()


@dataclass
class LookupResult:
    """A household's published entries, masked, with totals; empty when nothing matched."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    totals: dict[str, Any] = field(default_factory=dict)
    by_year: list[dict[str, Any]] = field(default_factory=list)
    name_masked: str = ""
    id_masked: str = ""

    @property
    def found(self) -> bool:
        return bool(self.rows)


def find_entries(*, id_hash: str, name: str, year: int | None = None) -> LookupResult:
    """Return the household's published entries if NAME belongs to the person with ID_HASH."""
    person = (
        Person.objects.filter(id_hash=id_hash)
        .only("id", "name_hash", "name_masked", "id_masked", "household_id")
        .first()
    )
    if person is None:
        personal.hash_name(name)  # the same work as a match, so timing tells nothing
        return LookupResult()
    if not person.name_matches(name) or not _published(person):
        return LookupResult()
    if person.household_id:
        rows = queries.household_rows(person.household_id, year=year)
    else:
        rows = queries.published_rows().filter(person_id=person.pk)
        if year:
            rows = rows.filter(period__startswith=f"{year:04d}-")
    entries = list(queries.as_rows(rows).order_by("-period", "program__name", "id"))
    if not entries:
        # A match without published entries answers exactly like no match.
        return LookupResult()
    return LookupResult(
        rows=entries,
        totals=queries.totals(rows),
        by_year=queries.totals_by_year(rows),
        name_masked=person.name_masked,
        id_masked=person.id_masked,
    )
