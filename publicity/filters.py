"""Filters for the public lists (django-filter): program, year, period, village group."""

from __future__ import annotations

import django_filters
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from funds.models import Disbursement, Program
from publicity import queries


class DisbursementFilter(django_filters.FilterSet):
    """Filter a village's published rows; the choices are what the rows contain."""

    program = django_filters.ModelChoiceFilter(
        label=_("项目"),
        queryset=Program.objects.none(),
        to_field_name="slug",
        empty_label=_("全部项目"),
    )
    year = django_filters.ChoiceFilter(
        label=_("年度"), method="filter_year", empty_label=_("全部年度")
    )
    period = django_filters.ChoiceFilter(label=_("发放期间"), empty_label=_("全部期间"))
    group = django_filters.ChoiceFilter(
        label=_("村民小组"), field_name="household__group", empty_label=_("全部小组")
    )

    class Meta:
        model = Disbursement
        fields = ["program", "year", "period", "group"]

    def __init__(self, data=None, queryset: QuerySet | None = None, **kwargs) -> None:
        super().__init__(data, queryset, **kwargs)
        choices = queries.village_filter_choices(self.queryset)
        self.filters["program"].queryset = choices["programs"]
        self.filters["year"].extra["choices"] = [(y, y) for y in choices["years"]]
        self.filters["period"].extra["choices"] = [(p, p) for p in choices["periods"]]
        self.filters["group"].extra["choices"] = [(g, g) for g in choices["groups"]]

    def filter_year(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        """Keep rows whose period falls in the chosen year."""
        return queryset.filter(period__startswith=f"{value}-")
