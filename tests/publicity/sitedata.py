"""Published and unpublished rosters for the public-site tests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from funds.models import Batch, Disbursement
from tests.factories import id_number, make_batch, make_program, make_village, person_name
from villages.models import Person


@dataclass
class Site:
    program: object
    village: object
    other_village: object
    published: Batch
    final: Batch
    draft: Batch
    withdrawn: Batch
    head_name: str
    head_id: str


def make_site() -> Site:
    """Build one village with a batch in each status; row 0 of 'published' is the lookup person."""
    program = make_program("耕地地力保护补贴测试", slug="gengdi-test", complaints_channel="12345")
    village = make_village("红星村", "城关镇")
    other = make_village("向阳村", "城关镇")
    today = timezone.localdate()
    published = make_batch(
        program,
        village,
        [(person_name(i), id_number(i), Decimal("1234.50") + i) for i in range(3)],
        period="2026-03",
    )
    published.publicity_start = today - timedelta(days=2)
    published.publicity_end = today + timedelta(days=5)
    published.save()
    final = make_batch(
        program,
        other,
        [(person_name(i), id_number(i), Decimal("88.00")) for i in range(10, 12)],
        period="2025-12",
        status=Batch.Status.FINAL,
    )
    draft = make_batch(
        program,
        village,
        [(person_name(i), id_number(i), Decimal("777.77")) for i in range(20, 22)],
        period="2026-04",
        status=Batch.Status.DRAFT,
    )
    withdrawn = make_batch(
        program,
        village,
        [(person_name(i), id_number(i), Decimal("666.66")) for i in range(30, 32)],
        period="2026-05",
        status=Batch.Status.WITHDRAWN,
    )
    return Site(
        program=program,
        village=village,
        other_village=other,
        published=published,
        final=final,
        draft=draft,
        withdrawn=withdrawn,
        head_name=person_name(0),
        head_id=id_number(0),
    )


def add_member(site: Site, *, n: int, batch: Batch, relation: str = "长子") -> Person:
    """Add person N to the lookup person's household, paid only in BATCH (draft, withdrawn…)."""
    household = site.published.disbursements.first().household
    member = Person.objects.identify(
        name=person_name(n), id_number=id_number(n), relation_to_head=relation, household=household
    )
    Disbursement.objects.create(
        batch=batch,
        program=batch.program,
        period=batch.period,
        village=household.village,
        household=household,
        person=member,
        amount=Decimal("321.00"),
        source_sheet="Sheet1",
        source_row=99,
    )
    return member
