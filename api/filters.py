"""Filters for disbursements and their summaries."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import django_filters
from django import forms
from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework.exceptions import ValidationError
from rest_framework.filters import OrderingFilter

from api.parameters import MAX_ID, a_date, a_moment, whole_number
from funds.models import PERIOD_PATTERN, AuditEntry, Batch, Disbursement
from villages.models import Household, Person, Village

MAX_AMOUNT = 10**12
#: What an amount filter takes, in the schema and on the server alike.
AMOUNT_PATTERN = r"^-?[0-9]{1,12}(\.[0-9]{1,2})?$"


def entire(pattern: str) -> re.Pattern:
    """Compile a schema's ``^…$`` PATTERN to match the whole text only, as JSON Schema reads it
    (Python's ``$`` would also match before a final newline)."""
    return re.compile(r"\A(?:" + pattern.removeprefix("^").removesuffix("$") + r")\Z")


class ReadStrictly:
    """A form field whose text ``read`` (api.parameters) turns into a value, None meaning the
    text is not written as the schema declares: Django's own parsing is more forgiving."""

    read: Callable[[str], Any]

    def to_python(self, value):
        if value in self.empty_values:
            return None
        parsed = type(self).read(value)
        if parsed is None:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return parsed


class IdField(ReadStrictly, forms.IntegerField):
    """An id: ASCII digits only (not "1.0", " 1" or "١", which Django would take), 1 to 2^63-1."""

    read = staticmethod(whole_number)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, min_value=1, max_value=MAX_ID, **kwargs)


@extend_schema_field({"type": "integer", "minimum": 1, "maximum": MAX_ID})
class IdFilter(django_filters.NumberFilter):
    """Match a foreign key by its id; an unknown id matches nothing."""

    field_class = IdField


class PeriodField(forms.CharField):
    default_validators = [RegexValidator(entire(PERIOD_PATTERN), _("期间应为 YYYY-MM。"))]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, strip=False, **kwargs)  # " 2026-03" is not a period


@extend_schema_field({"type": "string", "pattern": PERIOD_PATTERN, "example": "2026-03"})
class PeriodFilter(django_filters.CharFilter):
    field_class = PeriodField


class AmountField(forms.DecimalField):
    """An amount in yuan, at most two places, within ±10^12: one message whatever is wrong
    (1e400 broke three limits at once and said so three times)."""

    pattern = entire(AMOUNT_PATTERN)

    def clean(self, value):
        try:
            if value not in self.empty_values and not self.pattern.match(str(value)):
                raise forms.ValidationError("")  # "1e3", " 12", "+5", ".5": not as declared
            return super().clean(value)
        except forms.ValidationError:
            raise forms.ValidationError(
                _("金额应为 -1000000000000 到 1000000000000 之间、最多两位小数的数。"),
                code="amount",
            ) from None

    def __init__(self, *args, **kwargs):
        kwargs.pop("step_size", None)
        super().__init__(
            *args,
            max_digits=14,
            decimal_places=2,
            min_value=-MAX_AMOUNT,
            max_value=MAX_AMOUNT,
            **kwargs,
        )


@extend_schema_field({"type": "string", "pattern": AMOUNT_PATTERN, "example": "1200.00"})
class AmountFilter(django_filters.NumberFilter):
    field_class = AmountField


class StrictDateField(ReadStrictly, forms.DateField):
    """A date as RFC 3339 writes it, YYYY-MM-DD only (not "2026-3-1" or "03/01/2026")."""

    read = staticmethod(a_date)


@extend_schema_field({"type": "string", "format": "date"})
class DateFilter(django_filters.DateFilter):
    field_class = StrictDateField


class TimeField(ReadStrictly, forms.DateTimeField):
    """An RFC 3339 time (api.parameters.a_moment), given to the database in UTC.

    Python accepts offsets up to ±24 hours, PostgreSQL only up to about ±16: the moment is
    converted to UTC first, and one before year 1 or after 9999 in UTC is the earliest or
    latest moment (before or after every record) rather than an error.
    """

    read = staticmethod(a_moment)


@extend_schema_field({"type": "string", "format": "date-time"})
class TimeFilter(django_filters.IsoDateTimeFilter):
    """An ISO 8601 time, such as 2026-03-01T08:00:00+08:00."""

    field_class = TimeField


@extend_schema_field({"type": "string", "pattern": "^[^\\x00]*$"})
class TextFilter(django_filters.CharFilter):
    """Free text matched as given: not stripped, so that its declared length is its length;
    without NUL, which Django refuses (PostgreSQL cannot store it)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, strip=False, **kwargs)


class FlagField(ReadStrictly, forms.Field):
    """A boolean as OpenAPI's `boolean` goes on the wire: `true` or `false`, nothing else
    (Django's NullBooleanField reads "yes" or "abc" as no filter at all)."""

    default_error_messages = {"invalid": _("应为 true 或 false。")}
    read = staticmethod({"true": True, "false": False}.get)


@extend_schema_field({"type": "boolean"})
class FlagFilter(django_filters.BooleanFilter):
    field_class = FlagField


class StaticFormFilterSet(django_filters.FilterSet):
    """A filter set whose form class is built once: its fields never depend on the request."""

    def get_form_class(self):
        cls = type(self)
        form = cls.__dict__.get("_static_form_class")
        if form is None:
            form = super().get_form_class()
            cls._static_form_class = form
        return form


class DisbursementFilter(StaticFormFilterSet):
    program = IdFilter(field_name="program_id", help_text=_("项目 id。"))
    # The batch's township: anonymous callers join the batch anyway (published only);
    # for auditors it adds one join, to the small batch table.
    township = IdFilter(field_name="batch__township_id", help_text=_("乡镇 id。"))
    village = IdFilter(field_name="village_id", help_text=_("村（社区）id。"))
    household = IdFilter(field_name="household_id", help_text=_("农户 id。"))
    person = IdFilter(field_name="person_id", help_text=_("享受人 id。"))
    batch = IdFilter(field_name="batch_id", help_text=_("发放批次 id。"))
    period_after = PeriodFilter(
        field_name="period", lookup_expr="gte", help_text=_("发放期间不早于（YYYY-MM，含）。")
    )
    period_before = PeriodFilter(
        field_name="period", lookup_expr="lte", help_text=_("发放期间不晚于（YYYY-MM，含）。")
    )
    pay_date_after = DateFilter(
        field_name="pay_date", lookup_expr="gte", help_text=_("发放日期不早于（YYYY-MM-DD，含）。")
    )
    pay_date_before = DateFilter(
        field_name="pay_date", lookup_expr="lte", help_text=_("发放日期不晚于（YYYY-MM-DD，含）。")
    )
    amount_min = AmountFilter(
        field_name="amount", lookup_expr="gte", help_text=_("金额不低于（元，含）。")
    )
    amount_max = AmountFilter(
        field_name="amount", lookup_expr="lte", help_text=_("金额不高于（元，含）。")
    )
    status = django_filters.ChoiceFilter(
        choices=Disbursement.Status.choices,
        help_text=_("发放状态：paid 已发放、failed 发放失败、stopped 停发。"),
    )

    as_of = TimeFilter(
        method="counted_by_the_view",
        help_text=_(
            "时刻（ISO 8601，如 2026-03-01T08:00:00+08:00）：按该时刻公开的内容回答——当时已发布、"
            "尚未撤回的批次，不计此后的发布、更正和撤回。与 batch_status 同用时再按批次现在的"
            "状态筛选。"
        ),
    )
    batch_status = django_filters.MultipleChoiceFilter(
        field_name="batch__status",
        choices=Batch.Status.choices,
        help_text=_(
            "批次状态，可重复（batch_status=final&batch_status=draft）；不给时只算已公开的"
            "（publicity、final）。匿名用户只能看到已公开的。"
        ),
    )

    class Meta:
        model = Disbursement
        fields: list[str] = []

    def counted_by_the_view(self, queryset, name, value):
        """as_of chooses which batches count, before any filter: api.selectors.counted_rows."""
        return queryset


BAD_ORDERING = _(
    "排序字段无效：只能是 amount、period、pay_date、id 之一，前加 - 表示降序；"
    "其后可再加 ,id 或 ,-id。"
)


class DisbursementOrdering(OrderingFilter):
    ordering_fields = ["amount", "period", "pay_date", "id"]
    ordering_description = _(
        "排序字段：amount、period、pay_date、id，前加 - 表示降序，其后可再加 ,id 或 ,-id"
        "（同值时的次序）；默认 id。"
    )

    @classmethod
    def accepted(cls) -> list[str]:
        """Every value ``ordering`` takes: one field, or a field then id (either direction)."""
        single = [f for field in cls.ordering_fields for f in (field, f"-{field}")]
        ties = [f"{f},{i}" for f in single if f.lstrip("-") != "id" for i in ("id", "-id")]
        return single + ties

    def get_ordering(self, request, queryset, view):
        """Add id as a tie-breaker, so that cursor pages over equal values are stable.

        A value of ``accepted()`` exactly (the list the schema gives); anything else is a 400
        rather than silently the default order.
        """
        raw = request.query_params.get(self.ordering_param)
        if raw is not None and raw not in self.accepted():
            raise ValidationError({self.ordering_param: [BAD_ORDERING]})
        ordering = list(super().get_ordering(request, queryset, view) or ["id"])
        if not {"id", "-id"} & set(ordering):
            ordering.append("id")
        return ordering

    def get_schema_operation_parameters(self, view):
        return [
            {
                "name": self.ordering_param,
                "required": False,
                "in": "query",
                "description": str(self.ordering_description),
                "schema": {"type": "string", "enum": self.accepted()},
            }
        ]


class VillageFilter(django_filters.FilterSet):
    township = IdFilter(field_name="township_id", help_text=_("乡镇 id。"))

    class Meta:
        model = Village
        fields: list[str] = []


class HouseholdFilter(django_filters.FilterSet):
    village = IdFilter(field_name="village_id", help_text=_("村（社区）id。"))

    class Meta:
        model = Household
        fields: list[str] = []


class PersonFilter(django_filters.FilterSet):
    household = IdFilter(field_name="household_id", help_text=_("农户 id。"))

    class Meta:
        model = Person
        fields: list[str] = []


class BatchFilter(django_filters.FilterSet):
    program = IdFilter(field_name="program_id", help_text=_("项目 id。"))
    township = IdFilter(field_name="township_id", help_text=_("乡镇 id。"))
    period = PeriodFilter(field_name="period", help_text=_("发放期间 YYYY-MM。"))
    status = django_filters.ChoiceFilter(choices=Batch.Status.choices, help_text=_("批次状态。"))
    corrects = IdFilter(field_name="corrects_id", help_text=_("更正了这个批次的批次（id）。"))
    corrected_by = IdFilter(
        field_name="corrections__id", help_text=_("被这个更正批次（id）更正的原批次。")
    )

    class Meta:
        model = Batch
        fields: list[str] = []


class AuditEntryFilter(django_filters.FilterSet):
    township = IdFilter(field_name="township_id", help_text=_("乡镇 id。"))
    batch = IdFilter(field_name="batch_id", help_text=_("批次 id。"))
    user = TextFilter(
        field_name="username", max_length=150, help_text=_("操作人用户名（完全一致）。")
    )
    kind = django_filters.ChoiceFilter(choices=AuditEntry.Kind.choices, help_text=_("操作类型。"))
    since = TimeFilter(
        field_name="at", lookup_expr="gte", help_text=_("此时间及以后（ISO 8601）。")
    )
    until = TimeFilter(field_name="at", lookup_expr="lt", help_text=_("此时间以前（ISO 8601）。"))

    class Meta:
        model = AuditEntry
        fields: list[str] = []


def as_of_of(request) -> Any:
    """Return the moment ``as_of`` asks about (UTC), or None; a bad one is a 400 naming it."""
    raw = request.query_params.get("as_of")
    if raw in (None, ""):
        return None
    try:
        return TimeField().clean(raw)
    except forms.ValidationError as error:
        raise ValidationError({"as_of": error.messages}) from None
