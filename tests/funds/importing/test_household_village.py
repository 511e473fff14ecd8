"""One household, one village (issue #14, defect 4): the loader refuses a roster that puts a
household's rows in another village, with a located error, and writes nothing."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import transaction

from funds.consistency import HouseholdVillageMismatch, inconsistencies
from funds.importing.jobs import import_roster
from funds.importing.loading import load_staged
from funds.importing.staging import stage_rows
from funds.models import Batch, Disbursement
from tests.factories import make_program, person_name, unique_id_number
from tests.funds.importing.support import (
    household_row,
    roster,
    roster_file,
    table_counts,
    use_roster,
)
from villages.models import Household, Village

pytestmark = pytest.mark.django_db


def _member(n: int, head: int, *, village: str) -> object:
    """Person N's row as a member of person HEAD's household."""
    return household_row(
        n, village=village, head_name=person_name(head), head_id=unique_id_number(head),
        relation="子",
    )  # fmt: skip


def test_a_household_written_in_two_villages_of_one_roster_is_refused(monkeypatch, tmp_path):
    rows = [household_row(0, village="红星村"), _member(1, 0, village="胜利村")]
    use_roster(monkeypatch, roster(rows))
    program = make_program()
    before = table_counts()

    report = import_roster(path=roster_file(tmp_path), program=program, period="2026-03")

    assert report.status == "rejected"
    [error] = [e for e in report.errors if e["code"] == "household_village"]
    assert (error["sheet"], error["row"], error["column"]) == ("Sheet1", 5, "村")
    assert person_name(1) not in error["message"] and person_name(0) not in error["message"]
    assert table_counts() == before


def test_a_stored_household_named_under_another_village_is_refused(monkeypatch, tmp_path):
    """2025 places the household in 红星村; a 2026 roster writing 胜利村 is refused, located."""
    use_roster(monkeypatch, roster([household_row(0, village="红星村"), household_row(1)]))
    program = make_program()
    first = import_roster(path=roster_file(tmp_path, salt="a"), program=program, period="2025-03")
    assert first.status == "imported"
    before = table_counts()
    moved = [household_row(2), household_row(0, village="胜利村", row=9)]
    use_roster(monkeypatch, roster(moved))

    report = import_roster(path=roster_file(tmp_path, salt="b"), program=program, period="2026-03")

    assert report.status == "rejected" and report.batch is None
    assert [(e["sheet"], e["row"], e["column"], e["code"]) for e in report.errors] == [
        ("Sheet1", 9, "村", "household_village")
    ]
    assert "红星村" in report.errors[0]["message"]  # where the household is registered
    assert table_counts() == before  # nothing written, not even the new village
    assert not Village.objects.filter(name="胜利村").exists()


def test_the_staged_path_refuses_it_too(monkeypatch, tmp_path):
    use_roster(monkeypatch, roster([household_row(0, village="红星村")]))
    program = make_program()
    import_roster(path=roster_file(tmp_path, salt="a"), program=program, period="2025-03")
    staged, errors = stage_rows([household_row(0, village="胜利村")], township="城关镇", kind="")
    assert not errors

    with pytest.raises(HouseholdVillageMismatch) as refused, transaction.atomic():
        load_staged(
            staged=staged, program=program, period="2026-03", source_name="x.csv",
            sha256="e" * 64, counts=(1, 1, 1, staged.total),
        )  # fmt: skip

    assert [e["code"] for e in refused.value.errors] == ["household_village"]
    assert Batch.objects.count() == 1


def test_the_same_village_again_is_imported(monkeypatch, tmp_path):
    use_roster(
        monkeypatch, roster([household_row(0, village="红星村"), _member(1, 0, village="红星村")])
    )
    program = make_program()
    for salt, period in (("a", "2025-03"), ("b", "2026-03")):
        report = import_roster(
            path=roster_file(tmp_path, salt=salt), program=program, period=period
        )
        assert report.status == "imported", report.errors
    assert Household.objects.count() == 1
    assert inconsistencies() == {
        "row_village_is_household_village": 0,
        "row_program_is_batch_program": 0,
    }


def test_check_consistency_finds_a_row_off_its_households_village(monkeypatch, tmp_path):
    use_roster(
        monkeypatch,
        roster([household_row(0, village="红星村"), household_row(1, village="胜利村")]),
    )
    import_roster(path=roster_file(tmp_path), program=make_program(), period="2026-03")
    out = StringIO()
    call_command("check_consistency", stdout=out)
    assert "row_village_is_household_village: 0" in out.getvalue()

    other = Village.objects.get(name="胜利村")
    Disbursement.objects.filter(source_row=4).update(village=other)  # as the demo had them

    out = StringIO()
    with pytest.raises(CommandError):
        call_command("check_consistency", stdout=out)
    assert "row_village_is_household_village: 1" in out.getvalue()
