"""import_roster stages and loads a roster while the rest of it is still being read.

The chunk sizes are made small here so that files of a few hundred rows stream in several
chunks; a fake parser (``fed_as_read``) hands rows over one at a time, as funds.sheets does,
so that an error can be found after chunks have been written.
"""

from __future__ import annotations

import sys
import threading
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection

from funds import imports, loading
from funds.imports import import_roster
from funds.models import Batch, Disbursement
from funds.rostergen import generate_roster
from tests.factories import make_program, make_village, unique_id_number
from tests.funds.imports_support import (
    Issue,
    ParsedRoster,
    household_row,
    roster_file,
    table_counts,
)
from villages.models import Household, Person, Village

pytestmark = pytest.mark.django_db

ROWS = 600


@pytest.fixture
def writes(monkeypatch) -> list[tuple[str, int]]:
    """Stream in chunks of 100 then 150 rows; record (thread name, rows) of every write."""
    monkeypatch.setattr(imports, "STREAM_FIRST_CHUNK", 100)
    monkeypatch.setattr(imports, "STREAM_CHUNK", 150)
    seen: list[tuple[str, int]] = []
    original = loading.Loader.write

    def recording(self, staged, chunk):
        seen.append((threading.current_thread().name, len(chunk.rows)))
        return original(self, staged, chunk)

    monkeypatch.setattr(loading.Loader, "write", recording)
    return seen


def fed_as_read(monkeypatch, rows, *, errors_at: dict | None = None, at_end=None) -> None:
    """Make import_roster read ROWS as funds.sheets would: one by one, calling on_rows."""

    def read(source, *, on_rows=None, **options):
        parsed = ParsedRoster(rows=[])
        for index, row in enumerate(rows):
            parsed.rows.append(row)
            if errors_at and index in errors_at:
                parsed.errors.append(errors_at[index])
            if on_rows is not None:
                on_rows(parsed)
        if at_end is not None:
            at_end(parsed)
        parsed.total = sum((r.amount for r in parsed.rows), Decimal("0"))
        return parsed

    monkeypatch.setattr(imports, "_read_roster", read)


def streamed(writes: list[tuple[str, int]]) -> bool:
    """Say whether more than one chunk was written by the loader thread."""
    return sum(1 for name, _rows in writes if name == "sunlight-loader") > 1


def assert_cleaned_up(interval: float) -> None:
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

    def fill_heads(parsed):  # what funds.sheets does once every row is read
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

    def failing_once(self, staged, chunk):
        calls["n"] += 1
        if calls["n"] == 2:
            raise IntegrityError("duplicate key value violates unique constraint")
        return recording(self, staged, chunk)

    monkeypatch.setattr(loading.Loader, "write", failing_once)
    fed_as_read(monkeypatch, [household_row(n) for n in range(ROWS)])

    report = import_roster(path=roster_file(tmp_path), program=make_program(), period="2026-03")

    assert report.status == "imported"
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
