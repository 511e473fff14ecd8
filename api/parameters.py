"""The query parameters an endpoint takes: anything else is refused, never silently ignored.

A parameter the endpoint does not know (`summary/?year=2026`) would be ignored and the answer
would look like an answer to the question asked; a repeated one (`program=1&program=2`) would
keep its last value. Both are a 400 naming the parameter.
"""

from __future__ import annotations

from typing import Any

import django_filters
from django.utils.translation import gettext_lazy as _
from rest_framework.exceptions import ValidationError

#: Taken by every endpoint: DRF's format override.
COMMON = frozenset({"format"})
PAGE_ATTRIBUTES = ("page_query_param", "page_size_query_param", "cursor_query_param")


def allowed(view: Any) -> set[str]:
    """Return the query parameters VIEW reads: its filters, ordering, pages and extras."""
    names = set(COMMON) | set(getattr(view, "extra_parameters", ()))
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
    """Raise a 400 naming each parameter of REQUEST that VIEW does not take, or that repeats."""
    params = request.query_params
    errors = {name: [_("本接口不接受这个参数。")] for name in sorted(set(params) - allowed(view))}
    several = repeatable(view)
    for name in params:
        if name not in errors and name not in several and len(params.getlist(name)) > 1:
            errors[name] = [_("参数只能出现一次。")]
    if errors:
        raise ValidationError(errors)
