"""Test data made through the same public functions the product uses."""

from __future__ import annotations

import random
from datetime import date
from decimal import Decimal

from funds.models import Batch, Disbursement, Program
from privacy.idnumbers import check_character
from villages.models import Household, Person, Township, Village

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂"


def id_number(
    n: int, *, region: str = "341122", birth: date = date(1960, 1, 1), sex: str = "M"
) -> str:
    """Return a valid 18-digit ID number, distinct for each N below 500."""
    seq = (n % 500) * 2 + (1 if sex == "M" else 0)
    body = f"{region}{birth:%Y%m%d}{seq:03d}"
    return body + check_character(body)


def unique_id_number(n: int, **kwargs) -> str:
    """Return a valid ID number, distinct for every N (birth date varies past 500)."""
    birth = date(1940 + (n // 500) % 60, 1 + (n // 30000) % 12, 1 + (n // 360000) % 28)
    return id_number(n, birth=kwargs.pop("birth", birth), **kwargs)


def person_name(n: int) -> str:
    """Return a plausible Chinese name for N."""
    rng = random.Random(n)
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.randint(1, 2)))


def make_program(name: str = "测试补贴", **kwargs) -> Program:
    defaults = {
        "slug": f"test-{abs(hash(name)) % 10**8}",
        "category": Program.Category.AGRICULTURE,
        "funding_level": Program.FundingLevel.CENTRAL,
    }
    return Program.objects.get_or_create(name=name, defaults={**defaults, **kwargs})[0]


def make_village(name: str = "红星村", township: str = "城关镇") -> Village:
    town = Township.objects.get_or_create(name=township)[0]
    return Village.objects.get_or_create(township=town, name=name)[0]


def make_household(village: Village, *, head_name: str, head_id: str, group: str = "") -> Household:
    head = Person.objects.identify(name=head_name, id_number=head_id, relation_to_head="户主")
    household, _ = Household.objects.get_or_create(
        head=head, defaults={"village": village, "group": group}
    )
    head.household = household
    head.save(update_fields=["household"])
    return household


def make_batch(
    program: Program,
    village: Village,
    rows: list[tuple[str, str, Decimal]],
    *,
    period: str = "2026-03",
    status: str = Batch.Status.PUBLICITY,
    sha: str | None = None,
) -> Batch:
    """Create a batch paying each (name, id_number, amount) as the head of a household."""
    batch = Batch.objects.create(
        program=program,
        period=period,
        year=int(period[:4]),
        township=village.township,
        source_name="test.xlsx",
        source_sha256=sha or f"{random.getrandbits(256):064x}",
        status=status,
    )
    for row, (name, number, amount) in enumerate(rows, start=4):
        household = make_household(village, head_name=name, head_id=number)
        Disbursement.objects.create(
            batch=batch,
            program=program,
            period=period,
            village=village,
            household=household,
            person=household.head,
            amount=amount,
            source_sheet="Sheet1",
            source_row=row,
        )
    batch.row_count = len(rows)
    batch.total_amount = sum((r[2] for r in rows), Decimal("0.00"))
    batch.save()
    return batch
