"""Exports of a filtered disbursement list: streamed CSV and XLSX, formula-safe."""

import csv
import io
import zipfile
from datetime import datetime, timedelta
from decimal import Decimal
from urllib.parse import parse_qsl

import pytest
from django.utils import timezone
from openpyxl import load_workbook

from funds.models import Batch, Disbursement
from tests.api.conftest import new_batch, pay

pytestmark = pytest.mark.django_db


def csv_rows(response) -> list[list[str]]:
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text)))


def test_csv_export_streams_the_filtered_rows(api, world):
    """The CSV holds exactly the rows the same filters list, with two-place amounts."""
    farm = world.programs["farm"]
    response = api.get(f"/api/v1/disbursements/export.csv?program={farm.pk}&ordering=id")
    assert response.status_code == 200 and response.streaming
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    header, *rows = csv_rows(response)
    assert header[0] == "记录id" and "金额" in header
    want = Disbursement.objects.published().filter(program=farm).order_by("id")
    assert [int(r[0]) for r in rows] == list(want.values_list("id", flat=True))
    amount = header.index("金额")
    assert [r[amount] for r in rows] == [f"{d.amount:.2f}" for d in want]


def test_csv_export_neutralises_formulas(api, world):
    """A village named like a formula is written so spreadsheets show it as text."""
    west = world.villages["west"]
    response = api.get(f"/api/v1/disbursements/export.csv?village={west.pk}")
    header, *rows = csv_rows(response)
    village = header.index("村")
    assert rows and all(r[village] == "'" + west.name for r in rows)


def test_xlsx_export_is_a_workbook_of_the_filtered_rows(api, world):
    """The XLSX opens, has the header and one line per row, amounts as numbers."""
    west = world.villages["west"]
    response = api.get(f"/api/v1/disbursements/export.xlsx?village={west.pk}")
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(b"".join(response.streaming_content)), read_only=True)
    header, *rows = list(book.active.values)
    want = Disbursement.objects.published().filter(village=west)
    assert len(rows) == want.count()
    amount = header.index("金额")
    assert sorted(Decimal(str(r[amount])) for r in rows) == sorted(d.amount for d in want)
    assert all(str(r[header.index("村")]).startswith("'=") for r in rows)


def test_export_leaves_out_drafts(api, world):
    """An anonymous export never holds draft rows."""
    _, *rows = csv_rows(api.get("/api/v1/disbursements/export.csv"))
    assert str(world.draft_row.pk) not in {r[0] for r in rows}
    assert len(rows) == Disbursement.objects.published().count()


def test_export_ignores_the_accept_header(api, world):
    """Asking for JSON still downloads CSV; the endpoint has one format."""
    response = api.get("/api/v1/disbursements/export.csv", HTTP_ACCEPT="application/json")
    assert response["Content-Type"].startswith("text/csv")


def test_export_with_a_bad_filter_is_a_json_400(api, world):
    """A malformed filter on an export is refused with a JSON 400."""
    response = api.get("/api/v1/disbursements/export.xlsx?period_after=bad")
    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/json")


def _extra_batch(world, n: int) -> Batch:
    farm, east = world.programs["farm"], world.villages["east"]
    return new_batch(farm, east.township, period="2026-05", status=Batch.Status.FINAL, n=n)


def _by_id(response) -> tuple[list[str], dict[int, list[str]]]:
    header, *rows = csv_rows(response)
    return header, {int(r[0]): r for r in rows}


def test_export_tells_drafts_corrections_persons_and_payees_apart(auditor_api, world):
    """An auditor's export has batch status, batch, person, payee and corrected-row columns."""
    payee_row = pay(
        _extra_batch(world, 60), world.households[1].head, world.households[0], "10.00",
        payee=world.households[0].head,
    )  # fmt: skip
    every = "batch_status=draft&batch_status=publicity&batch_status=final"  # drafts when asked
    header, rows = _by_id(auditor_api.get(f"/api/v1/disbursements/export.csv?{every}"))
    status, batch = header.index("批次状态"), header.index("批次id")
    person, payee, corrects = (
        header.index("享受人id"),
        header.index("收款人id"),
        header.index("更正的记录id"),
    )
    draft = rows[world.draft_row.pk]
    assert (draft[status], draft[batch]) == (str(Batch.Status.DRAFT.label), str(world.draft.pk))
    assert rows[payee_row.pk][person] == str(world.households[1].head_id)
    assert rows[payee_row.pk][payee] == str(world.households[0].head_id)
    assert rows[world.draft_row.pk][payee] == ""
    fixes = Disbursement.objects.filter(corrects__isnull=False)
    assert fixes and all(rows[fix.pk][corrects] == str(fix.corrects_id) for fix in fixes)
    published = rows[payee_row.pk][status]
    assert published == str(Batch.Status.FINAL.label)


def test_csv_export_says_as_of_and_filters_in_headers(api, world):
    """The CSV's response headers stamp the moment and record the query parameters."""
    farm = world.programs["farm"]
    before = timezone.now()
    response = api.get(f"/api/v1/disbursements/export.csv?program={farm.pk}&ordering=-amount")
    as_of = datetime.fromisoformat(response["X-Sunlight-As-Of"])
    assert before <= as_of <= timezone.now() and as_of.tzinfo is not None
    assert parse_qsl(response["X-Sunlight-Filters"]) == [
        ("ordering", "-amount"),
        ("program", str(farm.pk)),
    ]
    assert csv_rows(response)[0][0] == "记录id"  # the file itself stays comment-free


def _workbook(response):
    return load_workbook(io.BytesIO(b"".join(response.streaming_content)))


def test_xlsx_writes_quantities_and_rates_as_numbers_and_formats_amounts(api, world):
    """Quantity and rate are numeric cells; amounts are numbers formatted #,##0.00."""
    farm = world.programs["farm"]
    response = api.get(f"/api/v1/disbursements/export.xlsx?program={farm.pk}")
    sheet = _workbook(response).worksheets[0]
    header = [cell.value for cell in sheet[1]]
    quantity, rate, amount = (header.index(h) + 1 for h in ("数量", "标准", "金额"))
    with_quantity = [
        row for row in sheet.iter_rows(min_row=2) if row[quantity - 1].value is not None
    ]
    assert with_quantity
    for row in with_quantity:
        assert row[quantity - 1].value == 12.5 and row[rate - 1].value == 100
        assert row[amount - 1].data_type == "n"
        assert row[amount - 1].number_format == "#,##0.00"


def test_xlsx_keeps_the_decimal_digits_of_money(auditor_api, world):
    """Amounts are written from Decimal, digit for digit, not through a float."""
    household = world.households[0]
    # "%.16g" of this amount, openpyxl's way to write a number, is 968742861036.0699.
    pay(_extra_batch(world, 61), household.head, household, "968742861036.07")
    response = auditor_api.get("/api/v1/disbursements/export.xlsx")
    with zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content))) as book:
        xml = book.read("xl/worksheets/sheet1.xml").decode()
    assert "<v>968742861036.07</v>" in xml and "<v>1300.00</v>" in xml


def test_xlsx_has_a_note_sheet_with_the_time_and_the_query(api, world):
    """A second sheet 说明 gives the export's as-of time and each query parameter."""
    west = world.villages["west"]
    before = timezone.now()
    response = api.get(f"/api/v1/disbursements/export.xlsx?village={west.pk}&ordering=id")
    book = _workbook(response)
    assert book.sheetnames[1] == "说明"
    notes = {row[0]: row[1] for row in book["说明"].iter_rows(values_only=True)}
    as_of = datetime.fromisoformat(notes["导出时间"])
    assert before - timedelta(seconds=1) <= as_of <= timezone.now()
    assert (notes["village"], notes["ordering"]) == (str(west.pk), "id")
    assert response["X-Sunlight-As-Of"] == notes["导出时间"]
