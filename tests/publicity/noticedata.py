"""A per-area batch over two villages and their groups, for the village notice tests."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from funds.models import Batch, Disbursement, Program
from tests.factories import make_household, make_program, make_village, person_name
from tests.factories import unique_id_number as id_of
from villages.models import Village

RATE = Decimal("105.50")


@dataclass
class NoticeSite:
    program: Program
    batch: Batch
    red: Village  # 红星村: 一组 with 3 rows, 二组 with 2
    east: Village  # 东风村: 2 rows, no group
    names: list[str]
    ids: list[str]


def _batch(program: Program, village: Village, *, period: str, status: str) -> Batch:
    today = timezone.localdate()
    return Batch.objects.create(
        program=program,
        period=period,
        year=int(period[:4]),
        township=village.township,
        source_name="notice.xlsx",
        source_sha256=f"{random.getrandbits(256):064x}",
        status=status,
        publicity_start=today - timedelta(days=1),
        publicity_end=today + timedelta(days=6),
    )


def add_rows(batch: Batch, rows: list[tuple[Village, str, int, Decimal | None]]) -> None:
    """Pay person N of village and group (as a household head) QUANTITY mu at RATE each."""
    for place, group, n, quantity in rows:
        household = make_household(place, head_name=person_name(n), head_id=id_of(n), group=group)
        amount = (quantity * RATE).quantize(Decimal("0.01")) if quantity else Decimal("80.00")
        Disbursement.objects.create(
            batch=batch,
            program=batch.program,
            period=batch.period,
            village=place,
            household=household,
            person=household.head,
            quantity=quantity,
            rate=RATE if quantity else None,
            amount=amount,
            source_sheet="Sheet1",
            source_row=n,
        )


def make_notice_site(*, status: str = Batch.Status.PUBLICITY) -> NoticeSite:
    """Publish a 耕地地力 batch: 红星村 一组 (3 rows) and 二组 (2), 东风村 (2 rows, no group)."""
    program = make_program(
        "耕地地力保护补贴村务测试",
        slug="notice-test",
        unit="亩",
        rate=RATE,
        complaints_channel="城关镇财政所 0551-1234567",
    )
    red = make_village("红星村", "城关镇")
    east = make_village("东风村", "城关镇")
    batch = _batch(program, red, period="2026-03", status=status)
    plan = [
        (red, "一组", 101, Decimal("2.5")),
        (red, "一组", 102, Decimal("3.25")),
        (red, "一组", 103, Decimal("10")),
        (red, "二组", 104, Decimal("1.2")),
        (red, "二组", 105, Decimal("4")),
        (east, "", 106, Decimal("6")),
        (east, "", 107, Decimal("7.5")),
    ]
    add_rows(batch, plan)
    return NoticeSite(
        program=program,
        batch=batch,
        red=red,
        east=east,
        names=[person_name(n) for _v, _g, n, _q in plan],
        ids=[id_of(n) for _v, _g, n, _q in plan],
    )


def amount_of(quantity: str) -> Decimal:
    return (Decimal(quantity) * RATE).quantize(Decimal("0.01"))
