"""Red flags: rows that look wrong, each found by one aggregate query, never a Python loop.

Every function takes the disbursements in scope and returns those involved, annotated
with ``group`` (rows of one case share it), ``rule`` (the rule the row breaks), ``expected``
and ``gap`` (what the rule allows and how far the row is from it, where the rule has a
number), ``case_key`` (the ids that make the case: see ``case_id``), and ordered so a case's
rows are together.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db.models import (
    Case,
    CharField,
    Count,
    DecimalField,
    Exists,
    F,
    Func,
    IntegerField,
    OuterRef,
    Q,
    Value,
    When,
)
from django.db.models.functions import Cast, Concat, Round, Substr
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from funds.models import Batch, Disbursement, DisbursementQuerySet

# Money that a rule allows, and the gap to it, in yuan to the cent.
YUAN = DecimalField(max_digits=20, decimal_places=2)
# Slack for quantity × rate: an office may round the product up to the cent.
ONE_CENT = Value(Decimal("0.01"), output_field=YUAN)


def _as_text(field: str) -> Cast:
    return Cast(field, CharField())


def _no_expected_value(rows: DisbursementQuerySet, rule: str) -> DisbursementQuerySet:
    """Name RULE on rows that break it by comparison with each other, not with a number."""
    return rows.annotate(
        rule=Value(rule, output_field=CharField()),
        expected=Value(None, output_field=YUAN),
        gap=Value(None, output_field=YUAN),
    )


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
        _no_expected_value(rows.filter(person_id__in=persons), "person_in_two_households")
        .annotate(group=_as_text("person_id"), case_key=_as_text("person_id"))
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
        _no_expected_value(effective.filter(Exists(twin)), "paid_twice")
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
        .annotate(case_key=F("group"))
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
        _no_expected_value(rows.filter(account_hash__in=accounts), "shared_account")
        .annotate(group=F("account_masked"), case_key=F("account_hash"))
        .order_by("account_hash", "household_id", "id")
    )


def _quantity_times_rate() -> Round:
    return Round(F("quantity") * F("rate"), 2, output_field=YUAN)


def amount_mismatch(rows: DisbursementQuerySet) -> DisbursementQuerySet:
    """Return rows whose amount differs from quantity × rate rounded to the cent."""
    return (
        rows.filter(is_reversal=False, quantity__isnull=False, rate__isnull=False)
        .annotate(expected=_quantity_times_rate())
        .filter(~Q(amount=F("expected")))
        .annotate(
            rule=Value("quantity_times_rate", output_field=CharField()),
            gap=F("amount") - F("expected"),
            group=_as_text("id"),
            case_key=_as_text("id"),
        )
        .order_by("id")
    )


def above_rate_or_cap(rows: DisbursementQuerySet) -> DisbursementQuerySet:
    """Return rows above the rate their own roster declares, or above the program's cap."""
    # The roster's rate, not the catalogue's: offices pay at the rate of the year and place
    # (耕地地力 at 120.50 a mu where the catalogue says 105.00), and a roster is wrong when
    # its amounts do not follow its own rate.
    over_rate_times_quantity = Q(
        quantity__isnull=False,
        rate__isnull=False,
        amount__gt=F("quantity") * F("rate") + ONE_CENT,
    )
    over_rate_per_person = Q(
        quantity__isnull=True,
        rate__isnull=False,
        program__unit__contains="人",
        amount__gt=F("rate") + ONE_CENT,
    )
    over_cap = Q(program__cap__isnull=False, amount__gt=F("program__cap"))
    # A row that breaks several rules is reported under the first, in this order.
    rules = [
        ("rate_times_quantity", over_rate_times_quantity, _quantity_times_rate()),
        ("rate_per_person", over_rate_per_person, Round(F("rate"), 2, output_field=YUAN)),
        ("cap", over_cap, F("program__cap")),
    ]
    return (
        rows.filter(is_reversal=False)
        .filter(over_rate_times_quantity | over_rate_per_person | over_cap)
        .annotate(
            rule=Case(
                *(When(q, then=Value(name)) for name, q, _ in rules), output_field=CharField()
            ),
            expected=Case(*(When(q, then=limit) for _, q, limit in rules), output_field=YUAN),
        )
        .annotate(
            gap=F("amount") - F("expected"),
            group=_as_text("program_id"),
            case_key=_as_text("id"),
        )
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
        .annotate(
            rule=Case(When(too_young, then=Value("min_age")), default=Value("max_age")),
            expected=Case(
                When(too_young, then=F("program__min_age")),
                default=F("program__max_age"),
                output_field=IntegerField(),
            ),
        )
        .annotate(
            gap=F("age") - F("expected"),
            group=_as_text("program_id"),
            case_key=Concat(_as_text("person_id"), Value("/"), _as_text("program_id")),
        )
        .order_by("program_id", "person_id", "id")
    )


def changed_account(rows: DisbursementQuerySet) -> DisbursementQuerySet:
    """Return rows of a person paid by one program into different accounts (by keyed hash)."""
    live = rows.exclude(account_hash="").exclude(batch__status=Batch.Status.WITHDRAWN)
    persons = (
        live.order_by()
        .values("person_id", "program_id")
        .annotate(accounts=Count("account_hash", distinct=True))
        .filter(accounts__gt=1)
    )
    cases = live.filter(
        Exists(persons.filter(person_id=OuterRef("person_id"), program_id=OuterRef("program_id")))
    )
    return (
        _no_expected_value(cases, "changed_account")
        .annotate(group=Concat(_as_text("person_id"), Value("/"), _as_text("program_id")))
        .annotate(case_key=F("group"))
        .order_by("person_id", "program_id", "period", "id")
    )


def same_id_different_name(rows: DisbursementQuerySet) -> DisbursementQuerySet:
    """Return rows of a person (one ID hash) whose rosters name them differently (by the keyed
    hash of each row's own name): a changed name, a typing error, or someone else's ID."""
    live = rows.exclude(name_hash="").exclude(batch__status=Batch.Status.WITHDRAWN)
    persons = (
        live.order_by()
        .values("person_id")
        .annotate(names=Count("name_hash", distinct=True))
        .filter(names__gt=1)
    )
    cases = live.filter(Exists(persons.filter(person_id=OuterRef("person_id"))))
    return (
        _no_expected_value(cases, "same_id_different_name")
        .annotate(group=_as_text("person_id"), case_key=_as_text("person_id"))
        .order_by("person_id", "period", "id")
    )


def exclusive_programs(rows: DisbursementQuerySet) -> DisbursementQuerySet:
    """Return paid rows of a person paid in one period by two programs that exclude each other
    (``SUNLIGHT_EXCLUSIVE_PROGRAMS``: 低保 with 特困 by default, by program slug)."""
    paid = _effective_payments(rows)
    either = Q(pk__in=[])
    for first, second in settings.SUNLIGHT_EXCLUSIVE_PROGRAMS:
        for this, other in ((first, second), (second, first)):
            partner = paid.filter(
                program__slug=other, person_id=OuterRef("person_id"), period=OuterRef("period")
            )
            either |= Q(program__slug=this) & Q(Exists(partner))
    return (
        _no_expected_value(paid.filter(either), "exclusive_programs")
        .annotate(group=Concat(_as_text("person_id"), Value("/"), F("period")))
        .annotate(case_key=F("group"))
        .order_by("person_id", "period", "program_id", "id")
    )


# Cases: what an auditor reviews (api.models.RedFlagReview)

#: Hex digits of a case id: 64 bits, unique enough among the cases of one kind.
CASE_LENGTH = 16
CASE_PATTERN = rf"[0-9a-f]{{{CASE_LENGTH}}}"


def case_id(kind: str, key: str) -> str:
    """Return the id of KIND's case KEY: the first 16 hex digits of SHA-256("<kind>:<key>").

    KEY is the ids that make the case (``case_key``): the person for person_in_two_households;
    person/program/period for paid_twice; the account's keyed hash for shared_account; the row
    for amount_mismatch and above_rate_or_cap; person/program for age_rule and changed_account;
    the person for same_id_different_name;
    person/period for exclusive_programs. Ids, never personal data in the clear; the same case
    keeps its id whatever is imported later. The SQL below computes the same.
    """
    return hashlib.sha256(f"{kind}:{key}".encode()).hexdigest()[:CASE_LENGTH]


class Sha256Hex(Func):
    """SHA-256 of a text, as lowercase hex: PostgreSQL's built-in sha256() (no pgcrypto),
    SQLite's SHA256() that Django registers on every connection."""

    function = "SHA256"
    output_field = CharField()

    def as_postgresql(self, compiler, connection, **extra_context):
        return self.as_sql(
            compiler,
            connection,
            template="ENCODE(SHA256(CONVERT_TO(%(expressions)s, 'UTF8')), 'hex')",
            **extra_context,
        )


def with_cases(kind: str, rows: DisbursementQuerySet) -> DisbursementQuerySet:
    """Annotate each row of a red flag KIND's ROWS with its ``case`` id (see case_id)."""
    text = Concat(Value(f"{kind}:"), F("case_key"), output_field=CharField())
    return rows.annotate(case=Substr(Sha256Hex(text), 1, CASE_LENGTH))


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
        RedFlag("above_rate_or_cap", _("金额超过花名册所列标准或项目上限"), above_rate_or_cap),
        RedFlag("age_rule", _("年龄不符合项目条件"), age_rule),
        RedFlag("changed_account", _("同一人同一项目换了账号"), changed_account),
        RedFlag(
            "same_id_different_name",
            _("同一身份证号在不同花名册上姓名不同"),
            same_id_different_name,
        ),
        RedFlag(
            "exclusive_programs", _("同一人同一期间领取了不能兼得的两个项目"), exclusive_programs
        ),
    )
}
