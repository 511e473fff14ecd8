"""The query parameters an endpoint takes, and how their values are read: exactly as the
OpenAPI description (/api/schema/) declares them, anything else refused.

A parameter the endpoint does not know (`summary/?year=2026`) would be ignored and the answer
would look like an answer to the question asked; a repeated one (`program=1&program=2`) would
keep its last value; an empty one (`amount_min=`) would mean "no filter" to one reader and
"zero" to another. Each is a 400 in JSON naming the parameter, in the caller's language.

Developer note — what an endpoint must do so that schemathesis, with every check and negative
data (tests/api/test_schema.py), passes on it without any exclusion:

1. Inherit ``api.views.ApiMixin``: it calls :func:`check` before anything else, which refuses
   unknown, repeated and empty parameters. A detail endpoint (a viewset route with
   ``detail=True``) takes no filter or page parameters, as the schema documents none.
2. Read no query parameter that :func:`allowed` does not list: filters come from
   ``filterset_class``, ``ordering`` from an ordering backend, pages from ``pagination_class``;
   anything else goes in the view's ``extra_parameters`` *and* in its ``@extend_schema``
   parameters (tests/api/test_schema.py compares the two sets for every operation).
3. Give every value a field whose schema and validation are one definition: the filters of
   ``api.filters`` (``IdFilter``, ``AmountFilter``, ``PeriodFilter``, ``DateFilter``,
   ``TimeFilter``, ``TextFilter``, ``ChoiceFilter``/``MultipleChoiceFilter``), the pagination
   classes of ``api.pagination``, and :class:`WholeNumberField` in query serializers. They
   read text strictly (ASCII digits, no surrounding space, RFC 3339 times) and declare their
   bounds, so a value the schema admits is served and one it excludes is a 400.
4. A new kind of value needs both halves at once: an ``extend_schema_field`` schema and a form
   field that refuses exactly what that schema excludes, plus a line in
   tests/api/test_strict_parameters.py for each side.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from typing import Any

import django_filters
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers
from rest_framework.exceptions import ValidationError

#: Taken by every endpoint: DRF's format override.
COMMON = frozenset({"format"})
PAGE_ATTRIBUTES = ("page_query_param", "page_size_query_param", "cursor_query_param")
MAX_ID = 2**63 - 1  # the largest id a bigint holds
EMPTY = _("参数值不能为空；不需要这个条件时请省略该参数。")

#: A whole number as OpenAPI's `integer` reads on the wire: ASCII digits, an optional sign,
#: nothing around them (Python's int() would also take " 5", "1_0" and "١").
INTEGER = re.compile(r"[+-]?[0-9]+")
#: RFC 3339 `full-date` and `date-time`, as JSON Schema's formats `date` and `date-time`.
DATE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")
DATE_TIME = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})[Tt]([0-9]{2}):([0-9]{2}):([0-9]{2})(\.[0-9]+)?"
    r"(?:[Zz]|([+-])([0-9]{2}):([0-9]{2}))"
)
EARLIEST = datetime.min.replace(tzinfo=UTC)
LATEST = datetime.max.replace(tzinfo=UTC)


def allowed(view: Any) -> set[str]:
    """Return the query parameters VIEW reads: its filters, ordering, pages and extras.

    A single record (a viewset's detail route) takes none of the list's filters or pages: the
    schema documents none for it (DRF would otherwise filter the one record by them).
    """
    names = set(COMMON) | set(getattr(view, "extra_parameters", ()))
    if getattr(view, "detail", False):
        return names
    filterset = getattr(view, "filterset_class", None)
    if filterset is not None:
        names |= set(filterset.base_filters)
    for backend in getattr(view, "filter_backends", ()):
        if hasattr(backend, "ordering_fields"):
            names.add(backend.ordering_param)
    paginator = getattr(view, "pagination_class", None)
    for attribute in PAGE_ATTRIBUTES:
        name = getattr(paginator, attribute, None)
        if name:
            names.add(name)
    return names


def repeatable(view: Any) -> set[str]:
    """Return the filters of VIEW that take several values (batch_status=final&batch_status=…)."""
    filterset = getattr(view, "filterset_class", None)
    if filterset is None:
        return set()
    return {
        name
        for name, found in filterset.base_filters.items()
        if isinstance(found, django_filters.MultipleChoiceFilter)
    }


def check(view: Any, request: Any) -> None:
    """Raise a 400 naming each parameter of REQUEST that VIEW does not take, that repeats, or
    that is given without a value."""
    params = request.query_params
    errors = {name: [_("本接口不接受这个参数。")] for name in sorted(set(params) - allowed(view))}
    several = repeatable(view)
    for name in params:
        if name in errors:
            continue
        values = params.getlist(name)
        if "" in values:
            errors[name] = [EMPTY]
        elif name not in several and len(values) > 1:
            errors[name] = [_("参数只能出现一次。")]
    if errors:
        raise ValidationError(errors)


# --- values, read as the schema declares them --------------------------------------------------


def whole_number(raw: str) -> int | None:
    """Return RAW as an integer if it is written as one (see INTEGER), else None."""
    return int(raw) if isinstance(raw, str) and INTEGER.fullmatch(raw) else None


def a_date(raw: str) -> date | None:
    """Return the RFC 3339 full-date RAW, else None. Year 0000, valid in RFC 3339 but not in
    Python, reads as the earliest date Python has: before any record either way."""
    found = DATE.fullmatch(raw) if isinstance(raw, str) else None
    if found is None:
        return None
    year, month, day = (int(part) for part in found.groups())
    try:
        parsed = date(year or 2000, month, day)  # 2000: leap, like year 0
    except ValueError:
        return None
    return parsed if year else date.min


def a_moment(raw: str) -> datetime | None:
    """Return the RFC 3339 date-time RAW in UTC, else None.

    As JSON Schema's `date-time`: `T`/`Z` in either case, any number of fraction digits (kept
    to the microsecond), offsets up to ±23:59, a leap second only at 23:59:60 UTC (read as the
    last microsecond of that minute). A moment before year 1 or after year 9999 in UTC (which
    Python cannot hold) reads as the earliest or latest moment: before or after every record.
    """
    found = DATE_TIME.fullmatch(raw) if isinstance(raw, str) else None
    if found is None:
        return None
    year, month, day, hour, minute, second, fraction, sign, off_h, off_m = found.groups()
    offset_minutes = 0
    if sign:
        if int(off_h) > 23 or int(off_m) > 59:
            return None
        offset_minutes = (int(off_h) * 60 + int(off_m)) * (-1 if sign == "-" else 1)
    hour, minute, second = int(hour), int(minute), int(second)
    if hour > 23 or minute > 59 or second > 60:
        return None
    micro = int((fraction[1:] + "000000")[:6]) if fraction else 0
    if second == 60:  # a leap second: valid only in the last minute of a UTC day
        if (hour * 60 + minute - offset_minutes) % (24 * 60) != 23 * 60 + 59:
            return None
        second, micro = 59, 999_999
    try:
        day_of = date(int(year) or 2000, int(month), int(day))
    except ValueError:
        return None
    local = datetime(day_of.year, day_of.month, day_of.day, hour, minute, second, micro)
    if not int(year):
        return EARLIEST
    try:
        return local.replace(tzinfo=UTC) - timedelta(minutes=offset_minutes)
    except OverflowError:
        return EARLIEST if offset_minutes > 0 else LATEST


class WholeNumberField(serializers.IntegerField):
    """A query serializer's integer, read strictly (no "1.0", " 1" or "١") within its bounds."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        number = whole_number(data) if isinstance(data, str) else None
        if number is None:
            self.fail("invalid")
        return super().to_internal_value(number)
