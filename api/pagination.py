"""Pages that never count the whole table: cursors for rows, next-links for the rest."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework import pagination
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param

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


class DisbursementCursorPagination(pagination.CursorPagination):
    """Keyset pages over disbursements; no COUNT(*)."""

    page_size = 100
    max_page_size = MAX_PAGE_SIZE
    page_size_query_param = "page_size"
    page_size_query_description = _("每页条数，最多 500。")
    cursor_query_description = _("翻页游标，取自上一页的 next / previous 链接。")
    ordering = "id"

    def get_paginated_response_schema(self, schema):
        return _describe(super().get_paginated_response_schema(schema))

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"] = {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE}
        return parameters


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

    def get_paginated_response_schema(self, schema):
        return _describe(super().get_paginated_response_schema(schema))

    def get_schema_operation_parameters(self, view):
        return _integer_parameters(self, view, super().get_schema_operation_parameters(view))


class NoCountPagination(pagination.PageNumberPagination):
    """Numbered pages that fetch one extra row to know whether there is a next page."""

    page_size = 100
    max_page_size = 1000
    page_size_query_param = "page_size"
    page_query_description = _("页码，从 1 开始。")
    page_size_query_description = _("每页条数，最多 1000。")

    def paginate_queryset(self, queryset, request, view=None):
        self.request = request
        self.size = self.get_page_size(request)
        try:
            self.number = max(1, int(request.query_params.get(self.page_query_param, 1)))
        except (TypeError, ValueError):
            self.number = 1
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

    def get_paginated_response(self, data):
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

    def get_schema_operation_parameters(self, view):
        return _integer_parameters(self, view, super().get_schema_operation_parameters(view))


def _integer_parameters(paginator, view, parameters: list[dict]) -> list[dict]:
    """Give page and page_size their bounds in the schema."""
    for parameter in parameters:
        if parameter["name"] == paginator.page_query_param:
            parameter["schema"] = {"type": "integer", "minimum": 1, "maximum": 1_000_000}
        elif parameter["name"] == paginator.page_size_query_param:
            parameter["schema"] = {
                "type": "integer",
                "minimum": 1,
                "maximum": paginator.max_page_size,
            }
    return parameters
