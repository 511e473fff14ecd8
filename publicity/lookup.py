"""The villagers' lookup (name + ID number) and the rate limits that guard public forms.

The clear ID number never leaves this module's locals: cache keys carry keyed hashes only,
and the one log line here (a limit reached) names the target by the start of its keyed hash.

Guessing someone's ID number is many lookups with one name and different IDs, from as many
addresses as the guesser has: so besides the per-client limit, each lookup counts against its
targets (the ID, the keyed hash of the name, the household the ID belongs to) and against an
hourly ceiling for the whole site. docs/privacy.md explains the numbers.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest

from privacy import clients, personal
from publicity import queries
from publicity.models import LookupAlarm
from villages.models import Person

logger = logging.getLogger("sunlight.lookup")

CEILING_WINDOW = 3600  # the ceiling is per hour, whatever the window of the other limits
TARGET_PREFIX = 16  # characters of a keyed hash that name a target in an alarm or a log line
# The cache scope each kind of target is counted in.
SCOPES = {
    LookupAlarm.Kind.CEILING: "lookup-all",
    LookupAlarm.Kind.ID_NUMBER: "lookup-id",
    LookupAlarm.Kind.NAME: "lookup-name",
    LookupAlarm.Kind.HOUSEHOLD: "lookup-household",
}


#: A rate as the API writes it ("10/hour"): the period's first letter gives its seconds.
PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_rate(rate: str) -> tuple[int, int]:
    """Return the (requests, seconds) of a rate such as "10/hour" or "120/minute"."""
    count, period = rate.split("/", 1)
    return int(count), PERIODS[period.strip()[0]]


def count_hit(scope: str, subject: str, *, window: int) -> int:
    """Count one hit of SUBJECT in SCOPE and return the hits in the current window."""
    key = f"sunlight:rate:{scope}:{subject}"
    cache.add(key, 0, timeout=window)
    try:
        return cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=window)
        return 1


def over_limit(scope: str, subject: str, *, limit: int, window: int) -> bool:
    """Count one hit of SUBJECT in SCOPE; say whether the limit for the window is passed."""
    return count_hit(scope, subject, window=window) > limit


def client_over_limit(request: HttpRequest, scope: str) -> bool:
    """Count a hit by this client on SCOPE ('lookup', 'objection', 'export') and check its
    limit. The client is its address behind the trusted proxies (privacy.clients), hashed."""
    window = settings.SUNLIGHT_RATE_WINDOW_SECONDS
    limits = {
        "lookup": (settings.SUNLIGHT_LOOKUP_PER_CLIENT, window),
        "objection": (settings.SUNLIGHT_OBJECTIONS_PER_CLIENT, window),
        "export": parse_rate(settings.SUNLIGHT_THROTTLE_EXPORT),
    }
    limit, window = limits[scope]
    return over_limit(f"{scope}-client", clients.client_key(request), limit=limit, window=window)


def export_refused(request: HttpRequest) -> bool:
    """Count a download by an anonymous client (public CSV/XLSX and the API's exports share
    one budget); say whether it is over SUNLIGHT_THROTTLE_EXPORT. Signed-in staff and
    auditors are held by their own limits, not this one."""
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return False
    return client_over_limit(request, "export")


@dataclass(frozen=True)
class Target:
    """One thing a lookup is about, with the limit on lookups about it."""

    kind: str  # a LookupAlarm.Kind
    subject: str  # a keyed hash, or a household id
    limit: int
    window: int
    household_id: int | None = None

    @property
    def label(self) -> str:
        """How an alarm and a log line name the target: never more than a keyed hash's start."""
        if self.kind in (LookupAlarm.Kind.NAME, LookupAlarm.Kind.ID_NUMBER):
            return self.subject[:TARGET_PREFIX]
        return ""


def lookup_targets(*, id_hash: str, name: str) -> list[Target]:
    """Return the targets of a lookup of NAME with the ID whose keyed hash is ID_HASH."""
    # A day, not an hour: someone patient enough to stay under the limits gets few guesses.
    window = settings.SUNLIGHT_LOOKUP_TARGET_WINDOW_SECONDS
    targets = [
        Target(LookupAlarm.Kind.ID_NUMBER, id_hash, settings.SUNLIGHT_LOOKUP_PER_ID, window),
        Target(
            LookupAlarm.Kind.NAME,
            personal.hash_name(name),
            settings.SUNLIGHT_LOOKUP_PER_NAME,
            window,
        ),
    ]
    household_id = (
        Person.objects.filter(id_hash=id_hash).values_list("household_id", flat=True).first()
    )
    if household_id is not None:
        targets.append(
            Target(
                LookupAlarm.Kind.HOUSEHOLD,
                str(household_id),
                settings.SUNLIGHT_LOOKUP_PER_HOUSEHOLD,
                window,
                household_id=household_id,
            )
        )
    return targets


def raise_alarm(target: Target) -> LookupAlarm:
    """Record and log that TARGET's limit was passed, without raw data."""
    logger.warning(
        "lookup limit reached: %s %s (%s per %s s)",
        target.kind,
        target.label or target.household_id or "",
        target.limit,
        target.window,
    )
    return LookupAlarm.objects.create(
        kind=target.kind,
        target=target.label,
        household_id=target.household_id,
        limit=target.limit,
        window_seconds=target.window,
    )


def _count(target: Target) -> bool:
    """Count a hit on TARGET, raise the alarm when it first passes its limit; say if it has."""
    hits = count_hit(SCOPES[target.kind], target.subject, window=target.window)
    if hits == target.limit + 1:
        raise_alarm(target)
    return hits > target.limit


def lookup_refused(*, id_hash: str, name: str) -> bool:
    """Count a lookup against the hourly ceiling and each of its targets; say if one is passed.

    Past the ceiling, targets are no longer counted: one alarm says the whole site is held,
    and a flood cannot write an alarm per target.
    """
    ceiling = Target(
        LookupAlarm.Kind.CEILING, "all", settings.SUNLIGHT_LOOKUP_PER_HOUR, CEILING_WINDOW
    )
    if _count(ceiling):
        return True
    # Every target is counted, so that each one's alarm is raised even when another refuses.
    passed = [_count(target) for target in lookup_targets(id_hash=id_hash, name=name)]
    return any(passed)


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


def _name_on_published_rows(person: Person, name: str) -> str | None:
    """Return NAME masked as Sunlight shows it if it is PERSON's name, else None.

    A person's name is the one first stored, or one a published roster gave them since
    (a later roster may write it otherwise: each row keeps its own, by keyed hash).
    """
    if person.name_matches(name):
        return person.name_masked
    rows = queries.published_rows().filter(person_id=person.pk, name_hash=personal.hash_name(name))
    return rows.values_list("name_masked", flat=True).first()


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
    shown = _name_on_published_rows(person, name)
    if shown is None or not _published(person):
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
        name_masked=shown,
        id_masked=person.id_masked,
    )
