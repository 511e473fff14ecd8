"""Seeded rosters for the API tests: published and draft batches, planted red flags."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.core.cache import cache
from rest_framework.test import APIClient

from api.models import AUDITORS_GROUP, AuditorToken
from funds.models import Batch, Disbursement, Program
from privacy import personal
from tests.factories import make_household, make_program, make_village, unique_id_number
from villages.models import Household, Person

# Raw personal data planted in the seed; none of it may appear in any API response.
CANARY_NAMES = ["欧阳娜娜", "司马光明", "诸葛秀英", "上官明超", "慕容静怡"]
CANARY_ACCOUNTS = ["6217001234567890123", "6228480011223344556", "6217009876543210987"]


@pytest.fixture(autouse=True)
def _fresh_throttles():
    """Start every test with empty rate-limit counters."""
    cache.clear()
    yield
    cache.clear()


def pay(
    batch: Batch,
    person: Person,
    household: Household,
    amount: str | Decimal,
    **extra,
) -> Disbursement:
    """Create one disbursement row in BATCH."""
    account = extra.pop("account", "")
    if extra.get("corrects") is not None and "origin_row" not in extra:
        # A correction row names the row its chain began with, as funds.publishing makes them.
        extra["origin_row"] = extra["corrects"].origin_row or extra["corrects"].pk
    if account:
        extra["account_masked"] = personal.mask_account(account)
        extra["account_hash"] = personal.hash_account(account)
    return Disbursement.objects.create(
        batch=batch,
        program=batch.program,
        period=batch.period,
        village=household.village,
        household=household,
        person=person,
        amount=Decimal(amount),
        **extra,
    )


def new_batch(program: Program, township, *, period: str, status: str, n: int) -> Batch:
    return Batch.objects.create(
        program=program,
        period=period,
        year=int(period[:4]),
        township=township,
        source_name=f"roster-{n}.xlsx",
        source_sha256=f"{n:064x}",
        status=status,
    )


def settle(batches) -> None:
    """Give each batch the row count and total of its rows, as the importer does."""
    for batch in batches:
        rows = batch.disbursements.all()
        batch.row_count = rows.count()
        batch.total_amount = sum((x.amount for x in rows), Decimal("0.00"))
        batch.save()


@dataclass
class World:
    programs: dict[str, Program]
    villages: dict[str, object]
    households: list[Household]
    published: list[Batch]
    draft: Batch
    draft_row: Disbursement
    raw_ids: list[str]
    flagged: dict[str, set[int]] = field(default_factory=dict)


@pytest.fixture
def world(db) -> World:
    """Two townships, three villages, published batches with planted red flags and one draft."""
    farm = make_program("耕地地力保护补贴测试", rate=Decimal("100.00"), unit="亩")
    elder = make_program(
        "高龄津贴测试",
        category=Program.Category.WELFARE,
        rate=Decimal("100.00"),
        unit="人·月",
        min_age=80,
    )
    machine = make_program("农机购置补贴测试", cap=Decimal("1000.00"), unit="台")
    east = make_village("红星村", "城关镇")
    west = make_village('=HYPERLINK("http://x")村', "城关镇")
    north = make_village("向阳村", "河口乡")
    raw_ids = [unique_id_number(9000 + i) for i in range(8)]
    raw_ids[5] = unique_id_number(9005, birth=date(1950, 5, 5))  # 76 in 2026: too young
    raw_ids[7] = unique_id_number(9007, birth=date(1940, 5, 5))  # 86 in 2026
    names = [*CANARY_NAMES, "张三丰", "李四光", "王五常"]
    households = [
        make_household(
            [east, east, west, north, north, east, west, north][i],
            head_name=names[i],
            head_id=raw_ids[i],
            group=f"{i % 3 + 1}组",
        )
        for i in range(8)
    ]
    heads = [h.head for h in households]
    town_east, town_north = east.township, north.township
    b1 = new_batch(farm, town_east, period="2026-01", status=Batch.Status.FINAL, n=1)
    b2 = new_batch(farm, town_east, period="2026-02", status=Batch.Status.PUBLICITY, n=2)
    b3 = new_batch(elder, town_north, period="2026-03", status=Batch.Status.PUBLICITY, n=3)
    b4 = new_batch(machine, town_north, period="2026-03", status=Batch.Status.FINAL, n=4)
    b5 = new_batch(farm, town_east, period="2026-01", status=Batch.Status.FINAL, n=5)
    draft = new_batch(farm, town_east, period="2026-04", status=Batch.Status.DRAFT, n=6)
    flagged: dict[str, set[int]] = {
        k: set()
        for k in (
            "person_in_two_households",
            "paid_twice",
            "shared_account",
            "amount_mismatch",
            "above_rate_or_cap",
            "age_rule",
            "changed_account",
            "exclusive_programs",
            "same_id_different_name",
        )
    }
    d = Decimal
    q = {"quantity": d("12.5"), "rate": d("100.00")}
    r = []
    r.append(
        pay(
            b1,
            heads[0],
            households[0],
            "1250.00",
            pay_date=date(2026, 1, 20),
            account=CANARY_ACCOUNTS[0],
            **q,
        )
    )
    r.append(
        pay(
            b1,
            heads[1],
            households[1],
            "1250.00",
            pay_date=date(2026, 1, 21),
            account=CANARY_ACCOUNTS[0],
            **q,
        )
    )  # shared account with a different household
    flagged["shared_account"] |= {r[0].pk, r[1].pk}
    r.append(
        pay(
            b1,
            heads[2],
            households[2],
            "1300.00",
            pay_date=date(2026, 1, 22),
            account=CANARY_ACCOUNTS[1],
            **q,
        )
    )  # amount ≠ 12.5 × 100; above rate × quantity
    flagged["amount_mismatch"].add(r[2].pk)
    flagged["above_rate_or_cap"].add(r[2].pk)
    r.append(
        pay(
            b2,
            heads[0],
            households[0],
            "1250.00",
            pay_date=date(2026, 2, 20),
            account=CANARY_ACCOUNTS[0],
            **q,
        )
    )
    flagged["shared_account"].add(r[3].pk)
    pay(b2, heads[2], households[2], "1250.00", status=Disbursement.Status.FAILED, **q)
    # Person 3 paid for January again in another batch: paid twice.
    r.append(
        pay(
            b5,
            heads[3],
            households[3],
            "800.00",
            pay_date=date(2026, 1, 25),
            status=Disbursement.Status.PAID,
        )
    )
    r.append(pay(b1, heads[3], households[3], "800.00", pay_date=date(2026, 1, 20)))
    flagged["paid_twice"] |= {r[4].pk, r[5].pk}
    # Person 4 paid in January and corrected with a reversal: not paid twice.
    orig = pay(b1, heads[4], households[4], "500.00", pay_date=date(2026, 1, 20))
    pay(b5, heads[4], households[4], "-500.00", is_reversal=True, corrects=orig)
    pay(b5, heads[4], households[4], "550.00", corrects=orig)
    # Person 0 also paid as a member of household 6 in another village.
    r.append(pay(b4, heads[0], households[6], "100.00", pay_date=date(2026, 3, 21)))
    flagged["person_in_two_households"] |= {r[0].pk, r[3].pk, r[6].pk}
    # Elderly allowance: person 5 is 76; person 7 is old enough.
    r.append(pay(b3, heads[5], households[5], "100.00", pay_date=date(2026, 3, 10)))
    r.append(
        pay(b3, heads[7], households[7], "150.00", pay_date=date(2026, 3, 10), rate=d("100.00"))
    )
    flagged["age_rule"].add(r[7].pk)
    flagged["above_rate_or_cap"].add(r[8].pk)  # 150 > the roster's 100 per person
    # Farm machinery: one purchase above the cap.
    # …on a roster that writes person 7's name otherwise (王五常 → 王五丰): same ID, other name.
    renamed = {
        "name_masked": personal.mask_name("王五丰"),
        "name_hash": personal.hash_name("王五丰"),
    }
    r.append(pay(b4, heads[7], households[7], "1200.00", pay_date=date(2026, 3, 15), **renamed))
    flagged["same_id_different_name"] |= {r[8].pk, r[9].pk}
    r.append(
        pay(
            b4,
            heads[6],
            households[6],
            "999.99",
            pay_date=date(2026, 3, 15),
            account=CANARY_ACCOUNTS[2],
        )
    )
    flagged["above_rate_or_cap"].add(r[9].pk)
    draft_row = pay(draft, heads[6], households[6], "777.77", account=CANARY_ACCOUNTS[2])
    # A household paid only in the draft must stay hidden from the public.
    hidden = make_household(east, head_name="皇甫隐藏", head_id=unique_id_number(9100))
    pay(draft, hidden.head, hidden, "10.00")
    published = [b1, b2, b3, b4, b5]
    settle([*published, draft])
    return World(
        programs={"farm": farm, "elder": elder, "machine": machine},
        villages={"east": east, "west": west, "north": north},
        households=[*households, hidden],
        published=published,
        draft=draft,
        draft_row=draft_row,
        raw_ids=[*raw_ids, unique_id_number(9100)],
        flagged=flagged,
    )


@pytest.fixture
def api() -> APIClient:
    return APIClient()


@pytest.fixture
def auditor_key(db, django_user_model) -> str:
    user = django_user_model.objects.create_user(username="auditor", password="x-pass-1234567")
    user.groups.add(Group.objects.get_or_create(name=AUDITORS_GROUP)[0])
    return AuditorToken.objects.issue(user=user, days=30)[1]


@pytest.fixture
def auditor_api(auditor_key) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {auditor_key}")
    return client
