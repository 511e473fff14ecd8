"""The village notice (村务公开栏): a batch's part for one village or one group, and the kiosk.

A township's batch is posted village by village: each village prints its own rows, with the
program's own columns (面积 and 标准 for a per-area subsidy, 人数 for a per-person one), its
totals and where to object. Every selector here is a fixed number of queries.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import Count, F, QuerySet, Sum
from django.http import Http404
from django.utils.translation import gettext as _

from funds.models import Batch, Disbursement, Program
from publicity import queries
from villages.models import Village

NOTICE_FIELDS = (*queries.ROW_FIELDS, "rate")


@dataclass(frozen=True)
class NoticeColumns:
    """The program's own columns of a notice: their headers, '' where a column is left out."""

    quantity: str = ""
    rate: str = ""


@dataclass
class Place:
    """A village or a group of a batch, with its totals; a village lists its groups."""

    name: str
    amount: Decimal
    rows: int
    households: int
    quantity: Decimal | None
    village_id: int
    group: str | None = None
    groups: list[Place] = field(default_factory=list)


def batch_places(batch: Batch) -> list[Place]:
    """Return the villages a published BATCH pays, each with its groups and totals, in one query."""
    found = (
        queries.published_rows()
        .filter(batch=batch)
        .order_by()
        .values("village_id", "village__name", "household__group")
        .annotate(
            amount=Sum("amount"),
            rows=Count("id"),
            households=Count("household", distinct=True),
            quantity=Sum("quantity"),
        )
        .order_by("village__name", "village_id", "household__group")
    )
    villages: dict[int, Place] = {}
    for row in found:
        place = villages.get(row["village_id"])
        if place is None:
            place = villages[row["village_id"]] = Place(
                name=row["village__name"],
                amount=queries.ZERO,
                rows=0,
                households=0,
                quantity=None,
                village_id=row["village_id"],
            )
        group = Place(
            name=row["household__group"],
            amount=row["amount"],
            rows=row["rows"],
            households=row["households"],
            quantity=row["quantity"],
            village_id=place.village_id,
            group=row["household__group"],
        )
        # A household lives in one group, so a village's households are its groups' households.
        place.amount += group.amount
        place.rows += group.rows
        place.households += group.households
        if group.quantity is not None:
            place.quantity = (place.quantity or Decimal(0)) + group.quantity
        if group.name:
            place.groups.append(group)
    return list(villages.values())


def notice_rows(batch: Batch, village: Village, group: str | None = None) -> QuerySet[Disbursement]:
    """Return the published rows of BATCH in VILLAGE (and GROUP); 404 when there are none."""
    rows = queries.published_rows().filter(batch=batch, village=village)
    if group is not None:
        rows = rows.filter(household__group=group)
    if not rows.exists():
        raise Http404
    return rows


def as_notice_rows(rows: QuerySet[Disbursement]) -> QuerySet:
    """Return the public columns of ROWS and their rates, in notice order, in one query."""
    return rows.order_by(*queries.ROW_ORDER).values(*NOTICE_FIELDS)


def extent(rows: QuerySet[Disbursement]) -> dict[str, Any]:
    """Return the total quantity of ROWS and how many rows give a quantity and a rate."""
    # Named "total_quantity": an aggregate named "quantity" would hide the field from Count.
    found = rows.order_by().aggregate(
        total_quantity=Sum("quantity"), with_quantity=Count("quantity"), with_rate=Count("rate")
    )
    return {"quantity": found["total_quantity"], **found}


def notice_columns(program: Program, found: dict[str, Any]) -> NoticeColumns:
    """Choose the program's own columns: 面积 or 人数 or 数量 where rows (or the unit) give them,
    and 标准 where rows give a rate. FOUND is what ``extent`` says of the rows."""
    kind, unit = program.quantity_kind, program.unit_text
    quantity = rate = ""
    if found["with_quantity"] or kind == "area":
        if kind == "area":
            quantity = _("面积（%(unit)s）") % {"unit": unit}
        elif kind == "persons":
            quantity = _("人数")
        elif kind == "count":
            quantity = _("数量（%(unit)s）") % {"unit": unit}
        else:
            quantity = _("数量")
    if found["with_rate"]:
        rate = _("标准（元/%(unit)s）") % {"unit": unit} if unit else _("标准（元）")
    return NoticeColumns(quantity=quantity, rate=rate)


def download_header(base: tuple[str, ...], columns: NoticeColumns) -> tuple[str, ...]:
    """Return the columns of a notice's download: BASE (the batch download's) with the
    program's own columns before the amount."""
    extra = tuple(label for label in (columns.quantity, columns.rate) if label)
    at = base.index("金额（元）")
    return (*base[:at], *extra, *base[at:])


def download_rows(rows: QuerySet[Disbursement], columns: NoticeColumns) -> Iterator[tuple]:
    """Yield the rows of a notice's download, as ``download_header`` names them: the batch
    download's rows (``queries.download_rows``) with the program's own columns."""
    measures = [("quantity", plain_number)] if columns.quantity else []
    if columns.rate:
        measures.append(("rate", rate_number))
    return queries.download_rows(rows, measures)


def plain_number(value: Decimal | None) -> Decimal | None:
    """Return a quantity without trailing zeros: 2.5000 → 2.5, 10.0000 → 10."""
    if value is None:
        return None
    normal = value.normalize()
    return normal.quantize(Decimal(1)) if normal == normal.to_integral_value() else normal


def rate_number(value: Decimal | None) -> Decimal | None:
    """Return a rate with two places, or more where it has them: 105.5000 → 105.50."""
    if value is None:
        return None
    normal = plain_number(value)
    return normal if -normal.as_tuple().exponent > 2 else value.quantize(Decimal("0.01"))


def kiosk_village(batch: Batch, value: str | None) -> Village | None:
    """Return the village ?village= names for a batch kiosk; 404 when the batch does not pay it."""
    if value is None or value == "":
        return None
    if not value.isdigit():
        raise Http404
    village = Village.objects.filter(pk=int(value), disbursements__batch=batch).first()
    if village is None:
        raise Http404
    return village


@dataclass
class KioskBatch:
    """One batch of a village kiosk: the batch, its totals in the village, its rows."""

    batch: Batch
    totals: dict[str, Any]
    rows: list[dict[str, Any]] = field(default_factory=list)


def village_kiosk_batches(rows: QuerySet[Disbursement], *, limit: int) -> list[KioskBatch]:
    """Return the published batches ROWS belong to, newest first, each with its rows, in three
    queries; at most LIMIT rows in all."""
    by_batch = {
        found["batch_id"]: found
        for found in rows.order_by()
        .values("batch_id")
        .annotate(
            amount=Sum("amount"),
            rows=Count("id"),
            households=Count("household", distinct=True),
        )
    }
    order = (F("published_at").desc(nulls_last=True), "-period", "-id")
    batches = list(queries.published_batches().filter(pk__in=by_batch).order_by(*order))
    sections = {b.pk: KioskBatch(batch=b, totals=by_batch[b.pk]) for b in batches}
    listed = rows.order_by(
        F("batch__published_at").desc(nulls_last=True), "-period", "-batch_id", *queries.ROW_ORDER
    ).values(*queries.ROW_FIELDS)[:limit]
    for row in listed:
        sections[row["batch_id"]].rows.append(row)
    return list(sections.values())
