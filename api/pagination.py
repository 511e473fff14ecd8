"""Pages that never count the whole table: cursors for rows, next-links for the rest."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core import signing
from django.db.models import F, Q, QuerySet
from django.utils.translation import gettext_lazy as _
from rest_framework import pagination
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param

from api.parameters import whole_number

MAX_PAGE_SIZE = 500
PAGE_FIELD_DESCRIPTIONS = {
    "count": _("总条数。"),
    "next": _("下一页的链接；没有下一页时为 null。"),
    "previous": _("上一页的链接；没有上一页时为 null。"),
    "results": _("本页的条目。"),
}


def _describe(schema: dict) -> dict:
    """Give each field of a page envelope a description."""
    for name, definition in schema.get("properties", {}).items():
        if name in PAGE_FIELD_DESCRIPTIONS:
            definition.setdefault("description", str(PAGE_FIELD_DESCRIPTIONS[name]))
    return schema


class LinkedPages:
    """Pages that know their neighbours, never the total: next, previous and the results."""

    def get_paginated_response(self, data) -> Response:
        return Response(
            {"next": self.get_next_link(), "previous": self.get_previous_link(), "results": data}
        )

    def get_paginated_response_schema(self, schema):
        return _describe(
            {
                "type": "object",
                "required": ["results"],
                "properties": {
                    "next": {"type": "string", "nullable": True, "format": "uri"},
                    "previous": {"type": "string", "nullable": True, "format": "uri"},
                    "results": schema,
                },
            }
        )


MAX_PAGE = 1_000_000


def page_size_of(request, *, param: str, default: int, maximum: int) -> int:
    """Return the page size asked for: a whole number from 1 to MAXIMUM (the schema's bounds);
    anything else is a 400 naming the parameter and the limit."""
    raw = request.query_params.get(param)
    if raw is None:
        return default
    return _bounded(raw, param=param, maximum=maximum, message=PAGE_SIZE_MESSAGE)


def page_number_of(request, *, param: str) -> int:
    """Return the page number asked for (1 when none): a whole number from 1 to MAX_PAGE;
    anything else is a 400 naming the parameter."""
    raw = request.query_params.get(param)
    if raw is None:
        return 1
    return _bounded(raw, param=param, maximum=MAX_PAGE, message=PAGE_MESSAGE)


PAGE_SIZE_MESSAGE = _("每页条数应为 1 到 %(maximum)d 之间的整数。")
PAGE_MESSAGE = _("页码应为 1 到 %(maximum)d 之间的整数。")


def _bounded(raw: str, *, param: str, maximum: int, message) -> int:
    number = whole_number(raw)
    if number is None or not 1 <= number <= maximum:
        raise ValidationError({param: [message % {"maximum": maximum}]})
    return number


@dataclass(frozen=True)
class _Key:
    """One sort key: a field, its direction, and where rows without a value go."""

    field: str
    descending: bool

    @property
    def nulls_first(self) -> bool:
        # Rows without a value come last in ascending order, first in descending order: as
        # PostgreSQL sorts, and stated explicitly so that SQLite sorts the same.
        return self.descending

    def flipped(self) -> _Key:
        return _Key(self.field, not self.descending)

    def expression(self, *, backwards: bool) -> Any:
        key = self.flipped() if backwards else self
        if key.descending:
            return F(key.field).desc(nulls_first=key.nulls_first)
        return F(key.field).asc(nulls_last=not key.nulls_first)


class KeysetCursorPagination(LinkedPages, pagination.BasePagination):
    """Keyset pages over disbursements under any ordering the view allows; no COUNT(*).

    The order is total: the ordering field, then id, with rows without a value placed (last
    ascending, first descending). A cursor holds the last row's position and the ordering it
    belongs to, signed: an edited, forged or foreign cursor is a 400, never a 500 or a page
    that repeats for ever. ``previous`` walks the same order backwards.
    """

    page_size = 100
    max_page_size = MAX_PAGE_SIZE
    page_size_query_param = "page_size"
    cursor_query_param = "cursor"
    page_size_query_description = _("每页条数，最多 500。")
    cursor_query_description = _("翻页游标，取自上一页的 next / previous 链接。")
    salt = "api.cursor"
    ordering = "id"  # when the view has no ordering filter: a field, or "-field"

    def paginate_queryset(self, queryset: QuerySet, request, view=None) -> list:
        self.request = request
        size = page_size_of(
            request, param=self.page_size_query_param, default=self.page_size,
            maximum=self.max_page_size,
        )  # fmt: skip
        self.ordering = self._ordering(request, queryset, view)
        key = self._primary()
        position = self._position(request)
        backwards = bool(position and position["b"])
        rows = queryset.order_by(*self._expressions(backwards=backwards))
        if position is not None:
            rows = rows.filter(self._after(position, key, backwards=backwards))
        page = list(rows[: size + 1])
        more = len(page) > size
        page = page[:size]
        if backwards:
            page.reverse()
        self.has_next = more if not backwards else bool(page)
        self.has_previous = more if backwards else position is not None and bool(page)
        self.first, self.last = (page[0], page[-1]) if page else (None, None)
        return page

    # --- the order ----------------------------------------------------------------------------

    def _ordering(self, request, queryset, view) -> list[str]:
        ordering = [self.ordering]
        for backend in getattr(view, "filter_backends", []):
            if hasattr(backend, "get_ordering"):
                ordering = list(backend().get_ordering(request, queryset, view) or ordering)
        return ordering

    def _primary(self) -> _Key:
        first = self.ordering[0]
        return _Key(first.lstrip("-"), first.startswith("-"))

    def _expressions(self, *, backwards: bool) -> list[Any]:
        key = self._primary()
        exprs = [key.expression(backwards=backwards)]
        if key.field != "id":
            exprs.append(_Key("id", False).expression(backwards=backwards))
        return exprs

    def _after(self, position: dict, key: _Key, *, backwards: bool) -> Q:
        """Rows after POSITION in the page order (the reverse order when going backwards)."""
        key = key.flipped() if backwards else key
        last_id = position["i"]
        if key.field == "id":
            return Q(id__lt=last_id) if key.descending else Q(id__gt=last_id)
        id_after = Q(id__lt=last_id) if backwards else Q(id__gt=last_id)
        field, value = key.field, position["v"]
        if value is None:
            in_nulls = Q(**{f"{field}__isnull": True}) & id_after
            return in_nulls | Q(**{f"{field}__isnull": False}) if key.nulls_first else in_nulls
        beyond = Q(**{f"{field}__lt" if key.descending else f"{field}__gt": value})
        after = beyond | (Q(**{field: value}) & id_after)
        return after if key.nulls_first else after | Q(**{f"{field}__isnull": True})

    # --- cursors ------------------------------------------------------------------------------

    def _position(self, request) -> dict | None:
        raw = request.query_params.get(self.cursor_query_param)
        if raw is None:  # an empty one is refused before (api.parameters.check)
            return None
        try:
            position = signing.loads(raw, salt=self.salt)
        except (signing.BadSignature, ValueError, TypeError):
            raise ValidationError(
                {self.cursor_query_param: [_("翻页游标无效或已被改动。")]}
            ) from None
        if not isinstance(position, dict) or position.get("o") != self.ordering:
            raise ValidationError(
                {self.cursor_query_param: [_("翻页游标属于另一种排序，请从第一页重新开始。")]}
            )
        return position

    def _cursor(self, row: Any, *, backwards: bool) -> str:
        key = self._primary()
        value = _value(row, key.field)
        position = {
            "o": self.ordering,
            "v": None if value is None or key.field == "id" else str(value),
            "i": _value(row, "id"),
            "b": backwards,
        }
        return signing.dumps(position, salt=self.salt, compress=True)

    def _link(self, cursor: str) -> str:
        url = self.request.build_absolute_uri()
        return replace_query_param(url, self.cursor_query_param, cursor)

    def get_next_link(self) -> str | None:
        if not self.has_next or self.last is None:
            return None
        return self._link(self._cursor(self.last, backwards=False))

    def get_previous_link(self) -> str | None:
        if not self.has_previous or self.first is None:
            return None
        return self._link(self._cursor(self.first, backwards=True))

    def get_schema_operation_parameters(self, view):
        return [
            {
                "name": self.cursor_query_param,
                "required": False,
                "in": "query",
                "description": str(self.cursor_query_description),
                "schema": {"type": "string"},
            },
            {
                "name": self.page_size_query_param,
                "required": False,
                "in": "query",
                "description": str(self.page_size_query_description),
                "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE},
            },
        ]


def _value(row: Any, field: str) -> Any:
    return row[field] if isinstance(row, dict) else getattr(row, field)


#: The disbursement list's pages (kept under its old name for the views that use it).
DisbursementCursorPagination = KeysetCursorPagination


class AuditCursorPagination(DisbursementCursorPagination):
    """Keyset pages over the audit record, newest first; no COUNT(*)."""

    ordering = "-id"


class ReferencePagination(pagination.PageNumberPagination):
    """Numbered pages for the small reference lists."""

    page_size = 100
    max_page_size = MAX_PAGE_SIZE
    page_size_query_param = "page_size"
    page_query_description = _("页码，从 1 开始。")
    page_size_query_description = _("每页条数，最多 500。")

    def get_page_size(self, request):
        return page_size_of(
            request, param=self.page_size_query_param, default=self.page_size,
            maximum=self.max_page_size,
        )  # fmt: skip

    def get_page_number(self, request, paginator):
        return page_number_of(request, param=self.page_query_param)

    def get_paginated_response_schema(self, schema):
        return _describe(super().get_paginated_response_schema(schema))

    def get_schema_operation_parameters(self, view):
        return _integer_parameters(self, view, super().get_schema_operation_parameters(view))


class NoCountPagination(LinkedPages, pagination.PageNumberPagination):
    """Numbered pages that fetch one extra row to know whether there is a next page."""

    page_size = 100
    max_page_size = 1000
    page_size_query_param = "page_size"
    page_query_description = _("页码，从 1 开始。")
    page_size_query_description = _("每页条数，最多 1000。")

    def paginate_queryset(self, queryset, request, view=None):
        self.request = request
        self.size = page_size_of(
            request, param=self.page_size_query_param, default=self.page_size,
            maximum=self.max_page_size,
        )  # fmt: skip
        self.number = page_number_of(request, param=self.page_query_param)
        start = (self.number - 1) * self.size
        rows = list(queryset[start : start + self.size + 1])
        self.has_next = len(rows) > self.size
        return rows[: self.size]

    def get_next_link(self):
        if not self.has_next:
            return None
        url = self.request.build_absolute_uri()
        return replace_query_param(url, self.page_query_param, self.number + 1)

    def get_previous_link(self):
        if self.number <= 1:
            return None
        url = self.request.build_absolute_uri()
        return replace_query_param(url, self.page_query_param, self.number - 1)

    def get_schema_operation_parameters(self, view):
        return _integer_parameters(self, view, super().get_schema_operation_parameters(view))


def _integer_parameters(paginator, view, parameters: list[dict]) -> list[dict]:
    """Give page and page_size their bounds in the schema."""
    for parameter in parameters:
        if parameter["name"] == paginator.page_query_param:
            parameter["schema"] = {"type": "integer", "minimum": 1, "maximum": MAX_PAGE}
        elif parameter["name"] == paginator.page_size_query_param:
            parameter["schema"] = {
                "type": "integer",
                "minimum": 1,
                "maximum": paginator.max_page_size,
            }
    return parameters


class SummaryPagination(NoCountPagination):
    """The summary's pages, which also say which batch statuses they count."""

    def get_paginated_response_schema(self, schema):
        envelope = super().get_paginated_response_schema(schema)
        envelope["properties"]["as_of"] = {
            "type": "string",
            "format": "date-time",
            "description": str(_("本次汇总反映的时刻：as_of 给出的时刻，或回答的时刻。")),
        }
        envelope["properties"]["batch_status"] = {
            "type": "array",
            "items": {"type": "string"},
            "description": str(_("本次汇总计入的批次状态：默认只计已公开的（publicity、final）。")),
        }
        return envelope
