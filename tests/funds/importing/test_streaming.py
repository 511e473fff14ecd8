"""import_roster stages and loads a roster while the rest of it is still being read.

The chunk sizes are made small here so that files of a few hundred rows stream in several
chunks; a fake parser (``fed_as_read``) hands rows over one at a time, as the roster reader
does, so that an error can be found after chunks have been written.
"""

from __future__ import annotations

import gc
import sys
import threading
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, connection

from demo.rostergen import generate_roster
from funds.importing import jobs, loading
from funds.importing.jobs import import_roster
from funds.importing.parsed import Issue
from funds.importing.tasks import create_job, request_confirm
from funds.models import Batch, Disbursement, ImportJob
from tests.factories import make_program, make_village, unique_id_number
from tests.funds.importing.support import (
    ParsedRoster,
    household_row,
    import_at_once,
    roster_file,
    table_counts,
)
from villages.models import Household, Person, Village

pytestmark = pytest.mark.django_db

ROWS = 600


@pytest.fixture
def writes(monkeypatch) -> list[tuple[str, int]]:
    """Stream in chunks of 100 then 150 rows; record (thread name, rows) of every write."""
    monkeypatch.setattr(jobs, "STREAM_FIRST_CHUNK", 100)
    monkeypatch.setattr(jobs, "STREAM_CHUNK", 150)
    seen: list[tuple[str, int]] = []
    original = loading.Loader.write

    def recording(self, staged, chunk, prepared=None):
        seen.append((threading.current_thread().name, len(chunk.rows)))
        return original(self, staged, chunk, prepared)

    monkeypatch.setattr(loading.Loader, "write", recording)
    return seen


def fed_as_read(monkeypatch, rows, *, errors_at: dict | None = None, at_end=None) -> None:
    """Make import_roster read ROWS as read_roster would: one by one, calling on_rows."""

    def read(source, *, on_rows=None, **options):
        parsed = ParsedRoster(rows=[])
        for index, row in enumerate(rows):
            parsed.rows.append(row)
            if errors_at and index in errors_at:
                parsed.errors.append(errors_at[index])
            if on_rows is not None:
                on_rows(parsed, len(rows) - index - 1)
        if at_end is not None:
            at_end(parsed)
        parsed.total = sum((r.amount for r in parsed.rows), Decimal("0"))
        return parsed

    monkeypatch.setattr(jobs, "_read_roster", read)


def streamed(writes: list[tuple[str, int]]) -> bool:
    """Say whether the loader thread wrote every chunk, and more than one."""
    by_loader = [name == "sunlight-loader" for name, _rows in writes]
    return all(by_loader) and len(by_loader) > 1


def assert_cleaned_up(interval: float) -> None:
    assert gc.isenabled(), "the import pauses the cyclic GC only while it runs"
    assert not any(t.name == "sunlight-loader" for t in threading.enumerate())
    assert sys.getswitchinterval() == interval
    assert not connection.allow_thread_sharing


@pytest.mark.parametrize(
    ("fmt", "options"),
    [
        ("xlsx", {}),
        ("xlsx", {"per_person": True}),
        ("xlsx", {"one_sheet_per_village": True}),
        ("csv-gbk", {"title_rows": False}),
    ],
    ids=["xlsx", "per-person", "sheet-per-village", "gbk-csv"],
)
def test_a_streamed_roster_is_loaded_whole_and_to_the_cent(writes, tmp_path, fmt, options):
    interval = sys.getswitchinterval()
    suffix = fmt.split("-")[0]
    generated = generate_roster(
        tmp_path / f"roster.{suffix}", fmt=fmt, rows=ROWS, seed=11, **options
    )

    report = import_roster(path=generated.path, program=make_program(), period="2026-03")

    assert report.status == "imported", report.errors[:3]
    assert streamed(writes), writes
    batch = Batch.objects.get(pk=report.batch)
    assert batch.row_count == generated.rows == Disbursement.objects.count()
    assert batch.total_amount == generated.total
    assert batch.household_count == generated.households == Household.objects.count()
    assert sum(rows for _name, rows in writes) == generated.rows
    assert not Person.objects.filter(household__isnull=True).exists()
    assert report.new_villages == sorted(generated.villages)
    assert_cleaned_up(interval)


def test_an_error_found_after_chunks_were_written_leaves_every_table_as_it_was(
    writes, monkeypatch, tmp_path
):
    interval = sys.getswitchinterval()
    late = Issue("Sheet1", 504, "身份证号", "身份证号校验位不正确", "check_digit")
    fed_as_read(monkeypatch, [household_row(n) for n in range(ROWS)], errors_at={500: late})
    program = make_program()
    before = table_counts()

    report = import_roster(path=roster_file(tmp_path), program=program, period="2026-03")

    assert report.status == "rejected"
    assert report.errors[0]["row"] == 504
    assert streamed(writes), "chunks were written before the error was found"
    assert table_counts() == before
    assert_cleaned_up(interval)


def test_a_person_seen_again_in_a_later_chunk_rejects_the_file(writes, monkeypatch, tmp_path):
    rows = [household_row(n) for n in range(ROWS)]
    rows[550] = household_row(10, row=999)
    fed_as_read(monkeypatch, rows)
    program = make_program()
    before = table_counts()

    report = import_roster(path=roster_file(tmp_path), program=program, period="2026-03")

    assert report.status == "rejected"
    assert [(e["row"], e["code"]) for e in report.errors] == [(999, "duplicate_person")]
    assert table_counts() == before


def test_a_second_township_in_a_later_chunk_rejects_the_file(writes, monkeypatch, tmp_path):
    rows = [household_row(n, township="城关镇" if n < 400 else "河西乡") for n in range(ROWS)]
    fed_as_read(monkeypatch, rows)
    program = make_program()
    before = table_counts()

    report = import_roster(path=roster_file(tmp_path), program=program, period="2026-03")

    assert report.status == "rejected" and report.errors[0]["column"] == "乡镇"
    assert table_counts() == before


def test_members_whose_head_comes_later_are_loaded_once_the_file_is_read(
    writes, monkeypatch, tmp_path
):
    """Streaming stops at the first row the rest of the file must complete; nothing is lost."""
    rows = [household_row(n) for n in range(300)]
    rows += [household_row(n, relation="子", head_name="", head_id="") for n in range(300, 400)]
    rows += [household_row(n) for n in range(400, 500)]
    heads = {n: unique_id_number(n + 100) for n in range(300, 400)}

    def fill_heads(parsed):  # what read_roster does once every row is read
        parsed.kind = "per_person"
        for row in parsed.rows[300:400]:
            n = row.row - 4
            row.head_id = heads[n]
            row.head_name = rows[n + 100].name

    fed_as_read(monkeypatch, rows, at_end=fill_heads)

    report = import_roster(path=roster_file(tmp_path), program=make_program(), period="2026-03")

    assert report.status == "imported", report.errors[:3]
    assert streamed(writes)
    assert Disbursement.objects.count() == 500
    assert Household.objects.count() == 400  # the 100 members joined the last 100 heads
    for child in Person.objects.filter(relation_to_head="子").select_related("household__head"):
        assert child.household.head.relation_to_head == "户主"
    assert Household.objects.filter(members__relation_to_head="子").distinct().count() == 100


def test_a_loader_failure_loads_the_staged_roster_again(writes, monkeypatch, tmp_path):
    """Say another import added one of our new persons meanwhile: the retry links to them."""
    recording = loading.Loader.write
    calls = {"n": 0}

    def failing_once(self, staged, chunk, prepared=None):
        calls["n"] += 1
        if calls["n"] == 2:
            raise IntegrityError("duplicate key value violates unique constraint")
        return recording(self, staged, chunk, prepared)

    monkeypatch.setattr(loading.Loader, "write", failing_once)
    fed_as_read(monkeypatch, [household_row(n) for n in range(ROWS)])

    report = import_roster(path=roster_file(tmp_path), program=make_program(), period="2026-03")

    assert report.status == "imported"
    assert writes[0][1] == 100, "the first chunk went before the failure"
    again = writes[1:]
    assert sum(rows for _name, rows in again) == ROWS, "loaded again, whole, after the failure"
    assert {name for name, _rows in again} == {"sunlight-loader"}, "the one load path"
    assert Batch.objects.count() == 1
    assert Disbursement.objects.count() == ROWS
    assert Batch.objects.get().row_count == ROWS


def test_villages_first_seen_in_a_later_chunk_are_reported_as_new(writes, monkeypatch, tmp_path):
    make_village("老村", "城关镇")
    rows = [household_row(n, village="老村" if n < 300 else "新村") for n in range(ROWS)]
    fed_as_read(monkeypatch, rows)

    report = import_roster(path=roster_file(tmp_path), program=make_program(), period="2026-03")

    assert report.status == "imported"
    assert streamed(writes)
    assert report.new_villages == ["新村"] and report.new_townships == []
    assert set(Village.objects.values_list("name", flat=True)) == {"老村", "新村"}


def _stored() -> list[tuple]:
    """Every disbursement as stored, with its person and household, keys left out."""
    return sorted(
        Disbursement.objects.values_list(
            "village__name", "household__group", "household__head__id_hash", "person__id_hash",
            "person__name_masked", "person__name_hash", "person__id_masked",
            "person__birth_year", "person__sex", "person__relation_to_head",
            "person__household__head__id_hash", "payee__id_hash", "quantity", "rate", "amount",
            "pay_date", "account_masked", "account_hash", "status", "is_reversal", "note",
            "source_sheet", "source_row", "program_id", "period",
        )
    )  # fmt: skip


def test_rows_written_as_prepared_text_equal_rows_written_from_the_staged_roster(
    writes, monkeypatch, tmp_path
):
    """The COPY text made on the parsing thread stores exactly what the loader would."""
    tricky = ["备注\\含反斜杠", "制表\t符", "换行\n符", "回车\r符", ""]
    rows = [
        household_row(n, note=tricky[n % 5], group=f"{n % 3}\\组", sheet="表\t一")
        for n in range(ROWS)
    ]
    rows[7] = household_row(7, quantity=None, rate=None, pay_date=None, account="")
    rows[9] = household_row(9, payee_name=rows[9].name)
    fed_as_read(monkeypatch, rows)
    program = make_program()
    sent = []
    original = loading.Loader._write_prepared

    def spying(self, prepared):
        sent.append(prepared)
        return original(self, prepared)

    monkeypatch.setattr(loading.Loader, "_write_prepared", spying)

    prepared_way = import_roster(path=roster_file(tmp_path), program=program, period="2026-03")
    as_prepared = _stored()

    if connection.vendor == "postgresql":
        assert len(sent) > 1 and streamed(writes), "the chunks went as prepared text"
    assert prepared_way.status == "imported"
    Disbursement.objects.all().delete()
    Batch.objects.all().delete()
    Household.objects.update(head=None)
    Person.objects.update(household=None)
    Household.objects.all().delete()
    Person.objects.all().delete()
    sent.clear()
    # No COPY text this time: every chunk is written from the staged rows (the slow way).
    monkeypatch.setattr(loading.Preformatter, "prepare", lambda self, staged, chunk: None)
    staged_way = import_roster(
        path=roster_file(tmp_path, salt="again"), program=program, period="2026-03"
    )

    assert staged_way.status == "imported" and sent == []
    assert _stored() == as_prepared
    assert {row[20] for row in as_prepared} == set(tricky)


def test_a_stored_person_sends_the_rest_of_the_file_the_slow_way(writes, monkeypatch, tmp_path):
    """Keys handed out ahead hold only while every person is new."""
    first = [household_row(n) for n in range(1000, 1020)]
    fed_as_read(monkeypatch, first)
    import_roster(path=roster_file(tmp_path, salt="a"), program=make_program(), period="2026-02")
    rows = [household_row(n) for n in range(ROWS)]
    rows[450] = household_row(1010, row=454)  # already stored: found in the fourth chunk
    fed_as_read(monkeypatch, rows)

    report = import_roster(
        path=roster_file(tmp_path, salt="b"), program=make_program(), period="2026-03"
    )

    assert report.status == "imported"
    assert Person.objects.count() == ROWS + 19
    assert Disbursement.objects.filter(batch=report.batch).count() == ROWS
    person = Person.objects.get(id_hash=Disbursement.objects.get(
        batch=report.batch, source_row=454).person.id_hash)  # fmt: skip
    assert person.disbursements.count() == 2


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_two_streamed_imports_of_the_same_file_racing_give_one_batch(writes, monkeypatch, tmp_path):
    """The second waits on the first one's batch, then says the file is a duplicate."""
    if connection.vendor != "postgresql":
        pytest.skip("concurrent writers need PostgreSQL")
    rows = [household_row(n) for n in range(ROWS)]
    both_reading = threading.Barrier(2, timeout=30)

    def read(source, *, on_rows=None, **options):
        both_reading.wait()
        parsed = ParsedRoster(rows=[])
        for index, row in enumerate(rows):
            parsed.rows.append(row)
            on_rows(parsed, len(rows) - index - 1)
        parsed.total = sum((r.amount for r in rows), Decimal("0"))
        return parsed

    monkeypatch.setattr(jobs, "_read_roster", read)
    reports = import_at_once(roster_file(tmp_path), make_program())

    assert sorted(r.status for r in reports) == ["duplicate", "imported"]
    assert Batch.objects.count() == 1
    assert Disbursement.objects.count() == ROWS
    assert reports[0].batch == reports[1].batch


def test_a_streamed_roster_can_be_published_on_import(writes, monkeypatch, tmp_path):
    fed_as_read(monkeypatch, [household_row(n, amount="12.34") for n in range(ROWS)])

    report = import_roster(
        path=roster_file(tmp_path), program=make_program(), period="2026-03", publish=True
    )

    assert report.status == "imported" and streamed(writes)
    batch = Batch.objects.get(pk=report.batch)
    assert batch.status == Batch.Status.PUBLICITY
    assert (batch.row_count, batch.total_amount) == (ROWS, Decimal("12.34") * ROWS)
    assert Disbursement.objects.published().count() == ROWS


def test_the_staff_confirm_loads_through_the_same_chunked_path(writes, monkeypatch, tmp_path):
    """Confirm sends the staged roster in chunks to the loader thread, as the command does."""
    monkeypatch.setattr(loading, "FIRST_CHUNK", 100)
    monkeypatch.setattr(loading, "CHUNK_ROWS", 150)
    prepared = []
    original = loading.Preformatter.prepare

    def spying(self, staged, chunk):
        found = original(self, staged, chunk)
        prepared.append(found is not None)
        return found

    monkeypatch.setattr(loading.Preformatter, "prepare", spying)
    generated = generate_roster(tmp_path / "roster.xlsx", fmt="xlsx", rows=ROWS, seed=3)
    upload = SimpleUploadedFile("roster.xlsx", generated.path.read_bytes())
    job = create_job(upload=upload, program=make_program(), period="2026-03")
    assert job.status == ImportJob.Status.READY and writes == [], "staging writes no row"

    assert request_confirm(job=job, publish=False)

    job.refresh_from_db()
    assert job.status == ImportJob.Status.IMPORTED and job.progress == 100
    assert streamed(writes), writes
    assert [rows for _name, rows in writes] == [100, 150, 150, 150, 50]
    if connection.vendor == "postgresql":
        assert prepared and all(prepared), "the chunks went as COPY text made ahead"
    batch = Batch.objects.get(pk=job.batch_id)
    assert batch.row_count == ROWS == Disbursement.objects.filter(batch=batch).count()
    assert batch.total_amount == generated.total
