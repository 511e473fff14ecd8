"""Where a staff account acts: the townships of its places (``StaffPlace``).

``funds.access`` adds what the account may do there; this is the half the villages floor
needs too (its admin lists only the user's townships, villages and households).
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from villages.models import StaffPlace, Township


def active(user: Any) -> bool:
    """Say whether USER is a signed-in, active account."""
    return bool(user is not None and user.is_authenticated and user.is_active)


def townships_for(user: Any) -> QuerySet[Township]:
    """Return the townships USER acts in: all for a superuser, their places' for staff."""
    if not active(user):
        return Township.objects.none()
    if user.is_superuser:
        return Township.objects.all()
    places = StaffPlace.objects.filter(user=user)
    return Township.objects.filter(
        Q(pk__in=places.filter(township__isnull=False).values("township"))
        | Q(county__in=places.exclude(county="").values("county"))
    )


def in_places(user: Any, township: Township | int | None) -> bool:
    """Say whether TOWNSHIP is one of USER's places (a superuser's places are all)."""
    if not active(user):
        return False
    if user.is_superuser:
        return True
    pk = getattr(township, "pk", township)
    return pk is not None and townships_for(user).filter(pk=pk).exists()


def in_places_filter(user: Any, queryset: QuerySet, *, via: str, by: str = "pk") -> QuerySet:
    """Narrow QUERYSET to rows whose VIA (a township's BY) is one of USER's places."""
    if not active(user):
        return queryset.none()
    if user.is_superuser:
        return queryset
    return queryset.filter(**{f"{via}__in": townships_for(user).values(by)})
