"""Red flags: rows that look wrong, each found by one aggregate query, never a Python loop.

Every function takes the disbursements in scope and returns those involved, annotated
with ``group`` (rows of one case share it) and ordered so a case's rows are together.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.db.models import CharField, Count, Exists, F, OuterRef, Q, Value
from django.db.models.functions import Cast, Concat, Round
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from funds.models import Batch, Disbursement, DisbursementQuerySet


def _as_text(field: str) -> Cast:
    return Cast(field, CharField())


def person_in_two_households(rows: DisbursementQuerySet) -> DisbursementQuerySet:
    """Return rows of persons paid as members of more than one household or village."""
    persons = (
        rows.order_by()
        .values("person_id")
        .annotate(
            households=Count("household_id", distinct=True),
            villages=Count("village_id", distinct=True),
        )
        .filter(Q(households__gt=1) | Q(villages__gt=1))
        .values("person_id")
    )
    return (
        rows.filter(person_id__in=persons)
        .annotate(group=_as_text("person_id"))
        .order_by("person_id", "household_id", "id")
    )


def _effective_payments(rows: DisbursementQuerySet) -> DisbursementQuerySet:
    """Rows that paid money and were not reversed by a correction."""
    reversed_rows = Disbursement.objects.filter(corrects=OuterRef("pk"), is_reversal=True).exclude(
        batch__status=Batch.Status.WITHDRAWN
    )
    return rows.filter(is_reversal=False, status=Disbursement.Status.PAID).filter(
        ~Exists(reversed_rows)
    )


def paid_twice(rows: DisbursementQuerySet) -> DisbursementQuerySet:
    """Return paid, unreversed rows of a person paid more than once for a program and period."""
    effective = _effective_payments(rows)
    twin = effective.filter(
        person_id=OuterRef("person_id"),
        program_id=OuterRef("program_id"),
        period=OuterRef("period"),
    ).exclude(pk=OuterRef("pk"))
    return (
        effective.filter(Exists(twin))
        .annotate(
            group=Concat(
                _as_text("person_id"),
                Value("/"),
                _as_text("program_id"),
                Value("/"),
                "period",
                output_field=CharField(),
            )
        )
        .order_by("person_id", "program_id", "period", "id")
    )


def shared_account(rows: DisbursementQuerySet) -> DisbursementQuerySet:
    """Return rows paid into an account (by keyed hash) that several households use."""
    accounts = (
        rows.exclude(account_hash="")
        .order_by()
        .values("account_hash")
        .annotate(households=Count("household_id", distinct=True))
        .filter(households__gt=1)
        .values("account_hash")
    )
    return (
        rows.filter(account_hash__in=accounts)
        .annotate(group=F("account_masked"))
        .order_by("account_hash", "household_id", "id")
    )


def amount_mismatch(rows: DisbursementQuerySet) -> DisbursementQuerySet:
    """Return rows whose amount differs from quantity × rate rounded to the cent."""
    return (
        rows.filter(is_reversal=False, quantity__isnull=False, rate__isnull=False)
        .annotate(expected=Round(F("quantity") * F("rate"), 2))
        .filter(~Q(amount=F("expected")))
        .annotate(group=_as_text("id"))
        .order_by("id")
    )


def above_rate_or_cap(rows: DisbursementQuerySet) -> DisbursementQuerySet:
    """Return rows above the program's cap, its rate × quantity, or its rate per person."""
    over_cap = Q(program__cap__isnull=False, amount__gt=F("program__cap"))
    over_rate_times_quantity = Q(
        program__rate__isnull=False, quantity__isnull=False, amount__gt=F("program_limit")
    )
    over_rate_per_person = Q(
        program__rate__isnull=False,
        quantity__isnull=True,
        program__unit__contains="人",
        amount__gt=F("program__rate"),
    )
    return (
        rows.filter(is_reversal=False)
        .annotate(program_limit=Round(F("program__rate") * F("quantity"), 2))
        .filter(over_cap | over_rate_times_quantity | over_rate_per_person)
        .annotate(group=_as_text("program_id"))
        .order_by("program_id", "id")
    )


def age_rule(rows: DisbursementQuerySet) -> DisbursementQuerySet:
    """Return rows whose beneficiary's age in the batch's year is outside the program's rule."""
    too_young = Q(program__min_age__isnull=False, age__lt=F("program__min_age"))
    too_old = Q(program__max_age__isnull=False, age__gt=F("program__max_age"))
    return (
        rows.filter(is_reversal=False, person__birth_year__isnull=False)
        .annotate(age=F("batch__year") - F("person__birth_year"))
        .filter(too_young | too_old)
        .annotate(group=_as_text("program_id"))
        .order_by("program_id", "id")
    )


@dataclass(frozen=True)
class RedFlag:
    kind: str
    title: Promise
    find: Callable[[DisbursementQuerySet], DisbursementQuerySet]


RED_FLAGS: dict[str, RedFlag] = {
    flag.kind: flag
    for flag in (
        RedFlag(
            "person_in_two_households", _("同一人出现在两个农户或两个村"), person_in_two_households
        ),
        RedFlag("paid_twice", _("同一人同一项目同一期间重复发放"), paid_twice),
        RedFlag("shared_account", _("同一账号被多个农户使用"), shared_account),
        RedFlag("amount_mismatch", _("金额不等于数量 × 标准"), amount_mismatch),
        RedFlag("above_rate_or_cap", _("金额超过项目标准或上限"), above_rate_or_cap),
        RedFlag("age_rule", _("年龄不符合项目条件"), age_rule),
    )
}
