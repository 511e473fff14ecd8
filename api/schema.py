"""OpenAPI generation: every operation documents the errors it can answer with."""

from __future__ import annotations

from drf_spectacular.contrib.django_filters import DjangoFilterExtension
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema

ERROR_SCHEMA = {
    "type": "object",
    "description": "错误说明：detail 字段，或按参数名给出的错误列表。",
    "additionalProperties": True,
}
ERRORS = {
    "400": "参数无效。",
    "401": "令牌无效、已过期或已吊销；或需要登录。",
    "403": "无权访问（红旗接口仅限审计员与工作人员）。",
    "404": "不存在。",
    "406": "无法提供所请求的格式。",
    "429": "请求过于频繁，稍后再试。",
}


def not_empty(schema: dict) -> dict:
    """Return SCHEMA for a query value that may not be empty (api.parameters.check refuses an
    empty one): strings get ``minLength: 1``, arrays the same for their items."""
    if schema.get("type") == "string":
        return {**schema, "minLength": max(schema.get("minLength", 0), 1)}
    if schema.get("type") == "array" and isinstance(schema.get("items"), dict):
        return {**schema, "items": not_empty(schema["items"])}
    return schema


class ApiAutoSchema(AutoSchema):
    def _get_parameters(self):
        parameters = super()._get_parameters()
        for parameter in parameters:
            if parameter.get("in") == "query" and isinstance(parameter.get("schema"), dict):
                parameter["schema"] = not_empty(parameter["schema"])
        return parameters

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        if direction != "response":
            return responses
        responses.setdefault("304", {"description": "数据未变化（If-None-Match 与 ETag 一致）。"})
        for code, description in ERRORS.items():
            responses.setdefault(
                code,
                {
                    "description": description,
                    "content": {"application/json": {"schema": ERROR_SCHEMA}},
                },
            )
        return responses


class AuditorTokenScheme(OpenApiAuthenticationExtension):
    target_class = "api.authentication.AuditorTokenAuthentication"
    name = "auditorToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "审计员令牌：`Authorization: Token <key>`（也接受 `Bearer <key>`）。",
        }


class DescribedFilterExtension(DjangoFilterExtension):
    """Keep a filter's help_text as its description even when its schema is overridden, and
    declare its max_length (the form refuses longer text)."""

    priority = 1

    def resolve_filter_field(self, auto_schema, model, filterset_class, field_name, filter_field):
        parameters = super().resolve_filter_field(
            auto_schema, model, filterset_class, field_name, filter_field
        )
        help_text = filter_field.extra.get("help_text")
        max_length = filter_field.extra.get("max_length")
        for parameter in parameters:
            if help_text and not parameter.get("description"):
                parameter["description"] = str(help_text)
            if max_length and parameter["schema"].get("type") == "string":
                parameter["schema"] = {**parameter["schema"], "maxLength": max_length}
        return parameters
