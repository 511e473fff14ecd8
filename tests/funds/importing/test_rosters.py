"""Generated rosters with the traits offices' files really have, through the whole import."""

from __future__ import annotations

import pytest

from demo.rostergen import generate_roster
from funds.importing.jobs import import_roster
from funds.models import Batch, Disbursement
from tests.factories import make_program
from tests.funds.importing.support import table_counts
from villages.models import Household, Person, Village

pytestmark = pytest.mark.django_db

TRAITS = {
    "xlsx with title rows, merged villages, totals and footer": ("xlsx", {}),
    "csv in UTF-8 with a township column": ("csv", {"title_rows": False}),
    "csv with a byte-order mark": ("csv-bom", {"title_rows": False}),
    "csv in GBK": ("csv-gbk", {"title_rows": False}),
    "legacy xls": ("xls", {}),
    "ods": ("ods", {}),
    "one sheet per village": ("xlsx", {"one_sheet_per_village": True}),
    "per-person roster": ("xlsx", {"per_person": True}),
    "per-person GBK csv": ("csv-gbk", {"per_person": True, "title_rows": False}),
    "payment status column": ("xlsx", {"with_status": True}),
    "no quantity or rate": ("xlsx", {"with_quantity": False}),
    "names not padded, no merged cells": ("xlsx", {"padded_names": False, "merged_village": False}),
}


@pytest.mark.parametrize("trait", list(TRAITS))
def test_a_roster_with_this_trait_imports_every_row_to_the_cent(trait, tmp_path):
    fmt, options = TRAITS[trait]
    suffix = fmt.split("-")[0]
    generated = generate_roster(tmp_path / f"roster.{suffix}", fmt=fmt, rows=120, seed=7, **options)

    report = import_roster(path=generated.path, program=make_program(), period="2026-03")

    assert report.status == "imported", report.errors[:3]
    batch = Batch.objects.get(pk=report.batch)
    assert batch.row_count == generated.rows == Disbursement.objects.count()
    assert batch.total_amount == generated.total
    assert batch.household_count == generated.households == Household.objects.count()
    assert set(Village.objects.values_list("name", flat=True)) == set(generated.villages)
    assert batch.township.name == "城关镇"
    assert set(Person.objects.values_list("id_masked", flat=True)) >= {
        n[:3] + "*" * 14 + n[-1] for n in generated.ids
    }


@pytest.mark.parametrize(
    "fault", ["check_digit", "excel_number", "duplicate", "negative", "text_amount", "wrong_total"]
)
def test_a_roster_with_a_fault_is_rejected_at_the_right_place_and_writes_nothing(fault, tmp_path):
    generated = generate_roster(
        tmp_path / "roster.xlsx", fmt="xlsx", rows=60, seed=3, errors={fault: 1}
    )
    program = make_program()
    before = table_counts()

    report = import_roster(path=generated.path, program=program, period="2026-03")

    assert report.status == "rejected"
    assert table_counts() == before
    assert generated.faults, "the generator planted the fault"
    for planted in generated.faults:
        assert any(
            e["sheet"] == planted.sheet and e["row"] == planted.row for e in report.errors
        ), (planted, report.errors)


def test_the_same_people_in_two_programs_are_one_person_each(tmp_path):
    first = generate_roster(tmp_path / "a.xlsx", fmt="xlsx", rows=40, seed=1)
    second = generate_roster(
        tmp_path / "b.csv", fmt="csv-gbk", rows=40, seed=2, title_rows=False, with_quantity=False
    )
    assert set(first.ids) & set(second.ids), "the generator reuses people across files"
    import_roster(path=first.path, program=make_program("甲"), period="2026-03")
    import_roster(path=second.path, program=make_program("乙"), period="2026-03")
    assert Person.objects.count() == len(set(first.ids) | set(second.ids))
    assert Disbursement.objects.count() == 80


def test_a_real_file_imported_twice_gives_one_batch(tmp_path):
    generated = generate_roster(tmp_path / "r.ods", fmt="ods", rows=30, seed=5)
    program = make_program()
    statuses = [
        import_roster(path=generated.path, program=program, period="2026-03").status
        for _ in range(2)
    ]
    assert statuses == ["imported", "duplicate"] and Batch.objects.count() == 1
