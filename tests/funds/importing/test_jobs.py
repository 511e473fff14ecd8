"""Loading a parsed roster: one transaction, matched persons and households, no duplicates."""

from __future__ import annotations

import gzip
from decimal import Decimal

import pytest

from funds.importing.jobs import import_roster
from funds.importing.parsed import Issue
from funds.models import Batch, Disbursement
from privacy import personal
from tests.factories import make_program, person_name, unique_id_number
from tests.funds.importing.support import (
    household_row,
    import_at_once,
    roster,
    roster_file,
    table_counts,
    use_roster,
)
from villages.models import Household, Person, Township, Village

pytestmark = pytest.mark.django_db


def test_a_clean_roster_becomes_one_draft_batch_with_every_row(monkeypatch, tmp_path):
    """Every row is loaded with its amount, village, household and masked person."""
    rows = [household_row(n, village="红星村" if n % 2 else "胜利村") for n in range(30)]
    use_roster(monkeypatch, roster(rows))
    program = make_program()

    report = import_roster(path=roster_file(tmp_path), program=program, period="2026-03")

    assert report.status == "imported"
    batch = Batch.objects.get(pk=report.batch)
    assert batch.status == Batch.Status.DRAFT
    assert (batch.row_count, batch.household_count, batch.person_count) == (30, 30, 30)
    assert batch.total_amount == Decimal("3000.00")
    assert Disbursement.objects.filter(batch=batch).count() == 30
    assert set(Village.objects.values_list("name", flat=True)) == {"红星村", "胜利村"}
    assert Township.objects.get().name == "城关镇"
    first = Disbursement.objects.select_related("person", "household").get(source_row=4)
    assert first.person.name_masked != rows[0].name
    assert first.person.id_masked.startswith(rows[0].id_number[:3])
    assert first.household.head_id == first.person_id
    assert first.person.household_id == first.household_id
    assert first.quantity == Decimal("2.5") and first.rate == Decimal("40")
    assert first.account_masked.startswith("6217") and "*" in first.account_masked
    assert report.new_villages == ["红星村", "胜利村"] and report.new_townships == ["城关镇"]


def test_a_dry_run_checks_and_writes_nothing(monkeypatch, tmp_path):
    use_roster(monkeypatch, roster([household_row(1)]))
    program = make_program()
    before = table_counts()
    report = import_roster(
        path=roster_file(tmp_path), program=program, period="2026-03", dry_run=True
    )
    assert report.status == "checked" and report.rows == 1
    assert table_counts() == before


def test_a_rejected_roster_leaves_every_table_as_it_was(monkeypatch, tmp_path):
    """A sheet with one bad row writes nothing, not even its township or villages."""
    parsed = roster(
        [household_row(n, village="新村") for n in range(5)],
        errors=[Issue("Sheet1", 7, "身份证号", "身份证号校验位不正确", "check_digit")],
    )
    use_roster(monkeypatch, parsed)
    program = make_program()
    before = table_counts()

    report = import_roster(path=roster_file(tmp_path), program=program, period="2026-03")

    assert report.status == "rejected"
    assert report.errors[0]["row"] == 7 and report.errors[0]["column"] == "身份证号"
    assert table_counts() == before


def test_the_same_file_twice_gives_one_batch(monkeypatch, tmp_path):
    calls: list = []
    use_roster(monkeypatch, roster([household_row(1)]), calls)
    program, path = make_program(), roster_file(tmp_path)

    first = import_roster(path=path, program=program, period="2026-03")
    second = import_roster(path=path, program=program, period="2026-03")

    assert (first.status, second.status) == ("imported", "duplicate")
    assert second.batch == first.batch
    assert Batch.objects.count() == 1
    assert len(calls) == 1, "a known file is recognised before it is parsed"


def test_one_person_paid_by_two_programs_is_one_person_with_two_entries(monkeypatch, tmp_path):
    use_roster(monkeypatch, roster([household_row(1), household_row(2)]))
    import_roster(
        path=roster_file(tmp_path, salt="a"), program=make_program("甲"), period="2026-03"
    )
    import_roster(
        path=roster_file(tmp_path, salt="b"), program=make_program("乙"), period="2026-03"
    )

    assert Person.objects.count() == 2
    assert Household.objects.count() == 2
    assert Disbursement.objects.count() == 4
    person = Person.objects.get(id_hash=Disbursement.objects.first().person.id_hash)
    assert person.disbursements.count() == 2


def test_a_per_person_roster_groups_members_under_their_head(monkeypatch, tmp_path):
    """Members point at the household of the head named on their row."""
    head_name, head_id = person_name(100), unique_id_number(100)
    rows = [
        household_row(100, relation="户主", head_name=head_name, head_id=head_id),
        household_row(101, relation="配偶", head_name=head_name, head_id=head_id),
        household_row(102, relation="子", head_name=head_name, head_id=head_id),
        # the head of this household is not paid, but still becomes its head
        household_row(
            103, relation="母亲", head_name=person_name(104), head_id=unique_id_number(104)
        ),
    ]
    use_roster(monkeypatch, roster(rows, kind="per_person"))

    report = import_roster(path=roster_file(tmp_path), program=make_program(), period="2026-03")

    assert (report.rows, report.households, report.persons) == (4, 2, 4)
    assert Household.objects.count() == 2
    assert Person.objects.count() == 5
    household = Household.objects.get(
        head__relation_to_head="户主", members__relation_to_head="配偶"
    )
    assert set(household.members.values_list("relation_to_head", flat=True)) == {
        "户主",
        "配偶",
        "子",
    }
    unpaid_head = Person.objects.get(id_hash=personal.hash_id_number(unique_id_number(104)))
    assert unpaid_head.headed_household.members.filter(relation_to_head="母亲").exists()


def test_a_payee_who_is_the_head_is_linked_and_another_is_masked_in_the_note(monkeypatch, tmp_path):
    head_name, head_id = person_name(200), unique_id_number(200)
    rows = [
        household_row(200, head_name=head_name, head_id=head_id),
        household_row(
            201, relation="子", head_name=head_name, head_id=head_id, payee_name=head_name
        ),
        household_row(202, payee_name="欧阳娜娜"),
    ]
    use_roster(monkeypatch, roster(rows, kind="per_person"))

    import_roster(path=roster_file(tmp_path), program=make_program(), period="2026-03")

    by_row = {d.source_row: d for d in Disbursement.objects.select_related("payee")}
    assert by_row[205].payee.relation_to_head == "户主"
    assert by_row[206].payee is None and "欧阳*娜" in by_row[206].note
    assert "欧阳娜娜" not in by_row[206].note


def test_the_same_person_twice_in_one_roster_is_rejected(monkeypatch, tmp_path):
    rows = [household_row(1), household_row(1, row=9, sheet="二组")]
    use_roster(monkeypatch, roster(rows))
    program = make_program()
    before = table_counts()
    report = import_roster(path=roster_file(tmp_path), program=program, period="2026-03")
    assert report.status == "rejected"
    assert report.errors[0]["sheet"] == "二组" and report.errors[0]["row"] == 9
    assert table_counts() == before


def test_a_roster_without_a_township_is_rejected_unless_one_is_given(monkeypatch, tmp_path):
    use_roster(monkeypatch, roster([household_row(1, township="")]))
    program = make_program()
    rejected = import_roster(path=roster_file(tmp_path), program=program, period="2026-03")
    assert rejected.status == "rejected" and rejected.errors[0]["column"] == "乡镇"
    report = import_roster(
        path=roster_file(tmp_path), program=program, period="2026-03", township="河西乡"
    )
    assert report.status == "imported"
    assert Batch.objects.get().township.name == "河西乡"


def test_publishing_on_import_opens_the_publicity_period(monkeypatch, tmp_path):
    use_roster(monkeypatch, roster([household_row(1)]))
    report = import_roster(
        path=roster_file(tmp_path), program=make_program(), period="2026-03", publish=True
    )
    batch = Batch.objects.get(pk=report.batch)
    assert batch.status == Batch.Status.PUBLICITY
    assert batch.publicity_start and batch.publicity_end > batch.publicity_start


def test_a_file_that_is_not_a_spreadsheet_is_rejected_before_parsing(monkeypatch, tmp_path):
    calls: list = []
    use_roster(monkeypatch, roster([household_row(1)]), calls)
    path = tmp_path / "roster.xlsx"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 100)
    report = import_roster(path=path, program=make_program(), period="2026-03")
    assert report.status == "rejected" and report.errors
    assert calls == []


def test_a_parser_crash_is_a_rejection_not_a_server_error(monkeypatch, tmp_path, caplog):
    def boom(source, **options):
        raise RuntimeError("bad cell 341122196001010013 张三")

    monkeypatch.setattr("funds.importing.jobs._read_roster", boom)
    report = import_roster(path=roster_file(tmp_path), program=make_program(), period="2026-03")
    assert report.status == "rejected"
    assert "341122196001010013" not in str(report.as_json())
    # The log says what failed and where, never the exception's text (it quotes a cell).
    assert "RuntimeError" in caplog.text and "boom" in caplog.text
    assert "341122196001010013" not in caplog.text and "张三" not in caplog.text


def test_the_json_line_has_the_documented_shape(monkeypatch, tmp_path):
    use_roster(monkeypatch, roster([household_row(1, amount="12.5")]))
    report = import_roster(path=roster_file(tmp_path), program=make_program(), period="2026-03")
    line = report.as_line()
    assert set(line) == {
        "file", "status", "batch", "rows", "households", "persons", "total", "errors", "warnings",
        "mapping", "template", "saved_template", "unsettled",
    }  # fmt: skip
    assert line["total"] == "12.50" and line["status"] == "imported"


def test_the_staged_file_holds_no_raw_personal_values(monkeypatch, tmp_path):
    from funds.importing.staging import stage_rows

    rows = [household_row(n, payee_name="欧阳娜娜") for n in range(3)]
    staged, errors = stage_rows(rows, township="城关镇", kind="per_household")
    text = gzip.decompress(staged.dump()).decode()
    assert not errors
    for r in rows:
        assert r.id_number not in text and r.account not in text and r.name not in text
    assert "欧阳娜娜" not in text
    again = type(staged).load(staged.dump())
    assert again.rows == staged.rows and again.persons == staged.persons


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_two_imports_of_the_same_file_racing_give_one_batch(monkeypatch, tmp_path):
    """Both pass the early duplicate check; the unique file hash lets only one batch commit."""
    import threading

    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("concurrent writers need PostgreSQL")
    parsed = roster([household_row(n) for n in range(50)])
    both_parsing = threading.Barrier(2, timeout=30)

    def racing_read(source, **options):
        both_parsing.wait()
        return parsed

    monkeypatch.setattr("funds.importing.jobs._read_roster", racing_read)
    reports = import_at_once(roster_file(tmp_path), make_program())

    assert sorted(r.status for r in reports) == ["duplicate", "imported"]
    assert Batch.objects.count() == 1
    assert Disbursement.objects.count() == 50
    assert reports[0].batch == reports[1].batch


def test_disbursement_program_and_village_always_agree_with_batch_and_household(
    monkeypatch, tmp_path
):
    """The copies without a foreign key of their own match batch.program and household.village.

    Their existence is enforced through batch's and household's foreign keys only while they
    agree, so imports into several villages and correction batches are checked.
    """
    from django.db.models import F

    from funds.publishing import Replacement, correct_batch, publish_batch

    villages = ["红星村", "胜利村", "东风村"]
    rows = [household_row(n, village=villages[n % 3]) for n in range(12)]
    use_roster(monkeypatch, roster(rows))
    report = import_roster(path=roster_file(tmp_path), program=make_program(), period="2026-03")
    batch = Batch.objects.get(pk=report.batch)
    publish_batch(batch=batch)
    first = batch.disbursements.order_by("id").first()
    correct_batch(
        original=batch,
        changes={first.pk: Replacement(amount=Decimal("1.00"))},
        source_name="更正.xlsx",
        source_sha256="c" * 64,
    )

    assert Disbursement.objects.count() == 14
    assert Disbursement.objects.values("village_id").distinct().count() == 3
    assert not Disbursement.objects.exclude(program_id=F("batch__program_id")).exists()
    assert not Disbursement.objects.exclude(village_id=F("household__village_id")).exists()


def test_the_staged_person_fields_are_the_person_columns_the_loader_writes():
    """One definition: StagedPerson's fields name Person's columns, and the loader uses them."""
    from funds.importing.loading import PERSON_COLUMNS
    from funds.importing.staging import PERSON_FIELDS

    columns = {f.name for f in Person._meta.concrete_fields}
    assert set(PERSON_FIELDS) <= columns and "head_hash" not in PERSON_FIELDS
    assert ["id", "household_id", *PERSON_FIELDS, "created_at"] == PERSON_COLUMNS
    assert set(PERSON_COLUMNS) == {f.column for f in Person._meta.concrete_fields}


def test_names_of_the_rosters_persons_are_masked_in_notes(monkeypatch, tmp_path):
    """A note that names a person of the roster ("代领人…") keeps only the mask."""
    rows = [household_row(n) for n in range(3)]
    rows[2].note = f"由{rows[0].name}代领，{rows[2].name}本人不在"
    rows[1].payee_name = "欧阳娜娜"
    rows[1].note = "欧阳娜娜代领"
    use_roster(monkeypatch, roster(rows))

    report = import_roster(path=roster_file(tmp_path), program=make_program(), period="2026-03")

    assert report.status == "imported"
    notes = " ".join(Disbursement.objects.values_list("note", flat=True))
    for name in (rows[0].name, rows[2].name, "欧阳娜娜"):
        assert name not in notes
    assert "欧阳*娜" in notes


def test_two_townships_in_one_file_are_counted_not_quoted(monkeypatch, tmp_path):
    rows = [household_row(1, township="张小三家"), household_row(2, township="城关镇")]
    use_roster(monkeypatch, roster(rows))
    report = import_roster(path=roster_file(tmp_path), program=make_program(), period="2026-03")
    assert [e["code"] for e in report.errors] == ["township"]
    assert "2" in report.errors[0]["message"] and "张小三" not in report.errors[0]["message"]
