"""Exports of a filtered disbursement list: streamed CSV and XLSX, formula-safe."""

import csv
import io
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from funds.models import Disbursement

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
