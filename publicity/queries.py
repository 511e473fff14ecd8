"""Read-only queries behind the public pages: published rows only, masked values only.

Every list here is a fixed number of queries, whatever the number of rows: lists are
``values()`` over joined columns, totals are one aggregate.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.db.models import Count, F, OuterRef, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce, Substr
from django.utils import timezone
from django.utils.translation import gettext as _

from funds.models import (
    AuditEntry,
    Batch,
    Disbursement,
    PaymentResult,
    PaymentState,
    Program,
    current_state,
)
from villages.models import Household, Township, Village

ZERO = Decimal("0.00")

# The columns a public list shows: masked values and what the batch says, nothing else.
ROW_FIELDS = (
    "id",
    "batch_id",
    "household_id",
    "period",
    "amount",
    "pay_date",
    "status",
    "is_reversal",
    "quantity",
    "program__name",
    "program__slug",
    "program__unit",
    "village__name",
    "household__group",
    "name_masked",  # the row's own: the name as its roster wrote it
    "person__id_masked",
    "person__relation_to_head",
    "account_masked",
)
ROW_ORDER = ("village__name", "household__group", "household_id", "period", "id")


def published_rows() -> QuerySet[Disbursement]:
    """Return all published disbursements."""
    return Disbursement.objects.published()


def as_rows(rows: QuerySet[Disbursement]) -> QuerySet:
    """Return the public columns of ROWS as dicts, in notice order, in one query."""
    return rows.order_by(*ROW_ORDER).values(*ROW_FIELDS)


def notice_rows(rows: QuerySet[Disbursement]) -> QuerySet[Disbursement]:
    """Return the rows of ROWS that a chain of corrections begins with: what a village or
    household page lists, each at its net amount (``with_corrections``)."""
    return rows.filter(origin_row__isnull=True)


class PagedRows(Sequence):
    """ROWS a page at a time: sort and cut on ids alone, then join the columns of that page.

    Sorting the few columns of the order and then joining fifty rows is much cheaper than
    joining every row of a village before sorting; COUNT comes from the totals already made.
    With NET, each row is shown at its net amount with its corrections (``with_corrections``);
    else each row says which published correction corrected it, if one did (``CORRECTED``).
    """

    def __init__(
        self,
        rows: QuerySet[Disbursement],
        *,
        count: int,
        net: bool = False,
        corrected: dict[int, int] | None = None,
    ) -> None:
        self.rows = rows
        self.total = count
        self.net = net
        self.corrected = corrected

    def __len__(self) -> int:
        return self.total

    def __getitem__(self, index):
        if not isinstance(index, slice):
            raise TypeError("PagedRows supports slices only")
        ids = list(self.rows.order_by(*ROW_ORDER).values_list("id", flat=True)[index])
        found = {
            row["id"]: row for row in Disbursement.objects.filter(id__in=ids).values(*ROW_FIELDS)
        }
        rows = [found[pk] for pk in ids]
        if self.net:
            with_corrections(rows)
        elif self.corrected is not None:
            rows = list(with_corrected_marks(rows, self.corrected))
        return with_payment_results(rows)


def with_payment_results(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Add each row's current payment state and its history, in one query for them all.

    A row shown at its net amount (``with_corrections``) takes the state of the row that
    replaced it last; a row whose payment was reversed and not replaced has none.
    """
    histories = PaymentResult.objects.public_histories(
        row.get("state_id", row["id"]) for row in rows
    )
    for row in rows:
        if row.get("reversed"):
            row["payment_state"], row["payment_history"] = "", []
            continue
        history = histories.get(row.get("state_id", row["id"]), [])
        row["payment_state"] = current_state(row["status"], history)
        row["payment_history"] = history
    return rows


# The columns of a row's history of corrections: what each step paid, when and why.
HISTORY_FIELDS = (
    "id",
    "origin_row",
    "corrects_id",
    "batch_id",
    "amount",
    "quantity",
    "rate",
    "status",
    "is_reversal",
    "batch__corrects_id",
    "batch__publicity_start",
    "batch__reason",
)


def with_corrections(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Show each of ROWS (rows a chain of corrections begins with) at its net amount.

    The original, its reversals and its replacements in published corrections become the
    row's ``correction_history``, oldest first, in one query for the whole page. A corrected
    row takes the amount, quantity and status of its last replacement; one reversed and not
    replaced is ``reversed``, at 0.00. Rows with no published correction are left as they are.
    """
    ids = [row["id"] for row in rows]
    found = published_rows().filter(Q(origin_row__in=ids) | Q(id__in=ids)).order_by("id")
    chains: dict[int, list[dict[str, Any]]] = {}
    for step in found.values(*HISTORY_FIELDS):
        chains.setdefault(step["origin_row"] or step["id"], []).append(step)
    for row in rows:
        chain = chains.get(row["id"], [])
        row["correction_history"] = chain if len(chain) > 1 else []
        if not row["correction_history"]:
            continue
        reversed_ids = {step["corrects_id"] for step in chain if step["is_reversal"]}
        live = [
            step for step in chain if not step["is_reversal"] and step["id"] not in reversed_ids
        ]
        row["amount"] = sum((step["amount"] for step in chain), ZERO)
        row["reversed"] = not live
        if live:
            current = live[-1]
            row["state_id"], row["status"] = current["id"], current["status"]
            row["quantity"] = current["quantity"]
    return rows


def corrected_by(rows: QuerySet[Disbursement]) -> dict[int, int]:
    """Map each of ROWS that a published correction reverses to that correction's batch id,
    in one query."""
    found = published_rows().filter(is_reversal=True, corrects_id__in=rows.order_by().values("pk"))
    return dict(found.values_list("corrects_id", "batch_id"))


def correction_banner(corrected: dict[int, int]) -> dict[str, Any] | None:
    """Return what a corrected notice's banner says: how many rows, which corrections."""
    if not corrected:
        return None
    return {"count": len(corrected), "batches": sorted(set(corrected.values()))}


def with_corrected_marks(rows, corrected: dict[int, int]):
    """Yield each of ROWS (dicts) with ``corrected_by``: the correction that corrected it."""
    for row in rows:
        row["corrected_by"] = corrected.get(row["id"])
        yield row


def totals(rows: QuerySet[Disbursement]) -> dict[str, Any]:
    """Return the amount, row, household and person totals of ROWS, and the amounts paid,
    failed and re-sent by the rows' current state, in two queries."""
    # Named "sum", not "amount": a second Sum("amount") would read an alias of that name.
    result = rows.order_by().aggregate(
        sum=Sum("amount"),
        rows=Count("id"),
        # The rows a village or household page lists: each chain of corrections once.
        notices=Count("id", filter=Q(origin_row__isnull=True)),
        households=Count("household", distinct=True),
        persons=Count("person", distinct=True),
        failed_in_roster=Sum("amount", filter=Q(status=Disbursement.Status.FAILED)),
    )
    result["amount"] = result.pop("sum") or ZERO
    result |= PaymentResult.objects.amounts(
        rows, total=result["amount"], failed_in_roster=result.pop("failed_in_roster") or ZERO
    )
    return result


def totals_by_year(rows: QuerySet[Disbursement]) -> list[dict[str, Any]]:
    """Return [{year, amount, rows}] of ROWS, newest year first."""
    return list(
        rows.order_by()
        .annotate(year=Substr("period", 1, 4))
        .values("year")
        .annotate(amount=Sum("amount"), rows=Count("id"))
        .order_by("-year")
    )


def totals_by_program(rows: QuerySet[Disbursement]) -> list[dict[str, Any]]:
    """Return [{program__name, program__slug, amount, households}] of ROWS by amount."""
    return list(
        rows.order_by()
        .values("program__name", "program__slug")
        .annotate(amount=Sum("amount"), households=Count("household", distinct=True))
        .order_by("-amount", "program__name")
    )


def totals_by_village(rows: QuerySet[Disbursement]) -> list[dict[str, Any]]:
    """Return [{village_id, village__name, township, amount, households}] of ROWS by amount."""
    return list(
        rows.order_by()
        .values("village_id", "village__name", township=F("village__township__name"))
        .annotate(amount=Sum("amount"), households=Count("household", distinct=True))
        .order_by("-amount", "village__name")
    )


def year_rows(year: int) -> QuerySet[Disbursement]:
    """Return the published rows paid for periods of YEAR."""
    return published_rows().filter(period__startswith=f"{year:04d}-")


def published_batches() -> QuerySet[Batch]:
    """Return published batches with the program and township a notice shows."""
    return Batch.objects.published().select_related("program", "township")


def withdrawn_notice(pk: Any) -> dict[str, Any] | None:
    """Return what the public page of a batch withdrawn after publication says: when and why.

    None for any other batch (a draft withdrawn before anyone saw it stays unknown).
    """
    batch = (
        Batch.objects.filter(pk=pk, status=Batch.Status.WITHDRAWN, published_at__isnull=False)
        .select_related("program", "township")
        .first()
    )
    if batch is None:
        return None
    entry = AuditEntry.objects.filter(batch=batch, kind=AuditEntry.Kind.WITHDRAW).first()
    return {
        "batch": batch,
        "withdrawn_at": entry.at if entry else batch.updated_at,
        "reason": entry.reason if entry else "",
    }


def latest_batches(limit: int = 10) -> QuerySet[Batch]:
    """Return the most recently published batches."""
    return published_batches().order_by(F("published_at").desc(nulls_last=True), "-id")[:limit]


def townships_with_villages() -> list[Township]:
    """Return townships, each with .village_list carrying published totals, in two queries."""
    by_village = {
        row["village_id"]: row
        for row in published_rows()
        .order_by()
        .values("village_id")
        .annotate(amount=Sum("amount"), households=Count("household", distinct=True))
    }
    townships: dict[int, Township] = {}
    for village in Village.objects.select_related("township").order_by("township__name", "name"):
        town = townships.setdefault(village.township_id, village.township)
        if not hasattr(town, "village_list"):
            town.village_list = []
        found = by_village.get(village.pk, {})
        village.total_amount = found.get("amount") or ZERO
        village.household_count = found.get("households", 0)
        town.village_list.append(village)
    for town in townships.values():
        town.total_amount = sum((v.total_amount for v in town.village_list), ZERO)
        town.household_count = sum(v.household_count for v in town.village_list)
    return list(townships.values())


def village_filter_choices(rows: QuerySet[Disbursement]) -> dict[str, Any]:
    """Return the programs, years, periods and groups present in ROWS, in one scan."""
    combos = set(rows.order_by().values_list("period", "household__group", "program_id").distinct())
    periods = sorted({period for period, _group, _program in combos}, reverse=True)
    return {
        "programs": Program.objects.filter(pk__in={p for _pe, _g, p in combos}).order_by("name"),
        "years": sorted({period[:4] for period in periods}, reverse=True),
        "periods": periods,
        "groups": sorted({group for _period, group, _program in combos if group}),
    }


def search(text: str, limit: int = 20) -> dict[str, list]:
    """Return townships, villages and programs whose name contains TEXT."""
    return {
        "townships": list(Township.objects.filter(name__icontains=text)[:limit]),
        "villages": list(
            Village.objects.filter(name__icontains=text).select_related("township")[:limit]
        ),
        "programs": list(Program.objects.filter(name__icontains=text)[:limit]),
    }


def household_rows(household_id: int, *, year: int | None = None) -> QuerySet[Disbursement]:
    """Return the published rows of one household, optionally of one year."""
    rows = published_rows().filter(household_id=household_id)
    if year:
        rows = rows.filter(period__startswith=f"{year:04d}-")
    return rows


def household_member_rows(household_id: int) -> QuerySet:
    """Return the masked members of a household that its published rows name, as dicts.

    Each member's ``name_masked`` is the name their latest published row of the household
    gives (rosters of other years may name them otherwise), else the person's.
    """
    # The head as a subquery, not a join: "household or headed household" across a join made
    # PostgreSQL test every person of the county (4 s at 100,000 persons, bench/load_bench.py);
    # two indexed conditions let it read only the household's members.
    head = Household.objects.filter(pk=household_id).values("head_id")[:1]
    latest = (
        household_rows(household_id)
        .filter(person_id=OuterRef("pk"))
        .order_by("-period", "-id")
        .values("name_masked")[:1]
    )
    return (
        household_rows(household_id)
        .named_persons()
        .filter(Q(household_id=household_id) | Q(pk=Subquery(head)))
        .distinct()
        .order_by("id")
        .annotate(roster_name=Coalesce(Subquery(latest), F("name_masked")))
        .values("id", "roster_name", "id_masked", "relation_to_head")
    )


@dataclass(frozen=True)
class PublicityState:
    """Where a batch stands in its publicity period (公示期)."""

    in_publicity: bool
    is_final: bool
    days_left: int | None
    accepts_objections: bool


def publicity_state(batch: Batch, today: date | None = None) -> PublicityState:
    """Say whether BATCH is in its publicity period, how many days are left, and if open."""
    today = today or timezone.localdate()
    in_publicity = batch.status == Batch.Status.PUBLICITY
    started = batch.publicity_start is None or batch.publicity_start <= today
    ended = batch.publicity_end is not None and today > batch.publicity_end
    days_left = (batch.publicity_end - today).days if batch.publicity_end and not ended else None
    return PublicityState(
        in_publicity=in_publicity and not ended,
        is_final=batch.status == Batch.Status.FINAL,
        days_left=days_left,
        accepts_objections=in_publicity and started and not ended,
    )


def download_rows(rows: QuerySet[Disbursement], measures: Sequence[Any] = ()):
    """Yield (township, village, group, name, ID, program, period, [measures,] amount, pay date,
    status, current payment state, correction): the last says which published correction
    corrected the row, if one did.

    MEASURES are (field, format) pairs put before the amount: a village notice's 面积 and
    标准 (publicity.notices).
    """
    labels = dict(Disbursement.Status.choices)
    states = dict(PaymentState.choices)
    latest = PaymentResult.objects.latest_kinds(rows)
    corrected = corrected_by(rows)
    fields = [field for field, _format in measures]
    for row in (
        rows.order_by(*ROW_ORDER)
        .values_list(
            "village__township__name",
            "village__name",
            "household__group",
            "name_masked",
            "person__id_masked",
            "program__name",
            "period",
            *fields,
            "amount",
            "pay_date",
            "status",
            "id",
        )
        .iterator(chunk_size=2000)
    ):
        *head, amount, pay_date, status, pk = row
        formats = [fmt for _field, fmt in measures]
        values = head[:7] + [fmt(v) for fmt, v in zip(formats, head[7:], strict=True)]
        state = latest.get(pk, status)
        correction = corrected.get(pk)
        mark = _("已更正，见更正公示 #%(batch)s") % {"batch": correction} if correction else ""
        yield (
            *values, amount, pay_date, str(labels.get(status, status)),
            str(states.get(state, state)), mark,
        )  # fmt: skip


def chart_items(by_village: list[dict[str, Any]], limit: int = 30) -> list[tuple[str, Decimal]]:
    """Return (label, amount) bars for the villages with the largest totals."""
    return [(f"{v['township']} {v['village__name']}", v["amount"]) for v in by_village[:limit]]


def batch_villages(batch: Batch) -> list[tuple[int, str]]:
    """Return (id, name) of the villages a batch pays, for the objection form."""
    return list(
        Village.objects.filter(pk__in=Disbursement.objects.filter(batch=batch).values("village_id"))
        .order_by("name")
        .values_list("id", "name")
    )


_UNSAFE_FILENAME = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|]+')


def safe_filename(name: str) -> str:
    """Return NAME without path separators, quotes or control characters."""
    return _UNSAFE_FILENAME.sub("_", name).strip(" .") or "download"
