"""Downloads are formula-safe, UTF-8 with BOM, and keep amounts as numbers."""

import io
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from publicity.exports import csv_response, iter_csv, neutralise, xlsx_response


@pytest.mark.parametrize("text", ["=1+1", "+SUM(A1)", "-2+3", "@cmd", "\tx", "\rx"])
def test_text_that_would_run_as_a_formula_is_neutralised(text):
    assert neutralise(text) == "'" + text


@pytest.mark.parametrize("value", ["张*三", "341***********1234", Decimal("-5.00"), 7, None])
def test_plain_values_and_numbers_are_left_alone(value):
    assert neutralise(value) == value


def test_csv_starts_with_bom_and_neutralises_every_cell():
    text = "".join(iter_csv(["姓名", "金额"], [['=HYPERLINK("x")', Decimal("12.5")]]))
    assert text.startswith("\ufeff姓名,金额")
    assert "'=HYPERLINK" in text
    assert "12.50" in text


def test_csv_response_is_an_attachment_with_a_utf8_type():
    response = csv_response("批次.csv", ["a"], [["b"]])
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment" in response["Content-Disposition"]
    assert b"".join(response.streaming_content).decode("utf-8").startswith("\ufeffa")


def test_xlsx_keeps_amounts_numeric_and_text_neutralised():
    response = xlsx_response("x.xlsx", ["名称", "金额"], [["@SUM(1)", Decimal("1200.50")]])
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    assert sheet["A2"].value == "'@SUM(1)"
    assert sheet["B2"].value == pytest.approx(1200.50)
    assert isinstance(sheet["B2"].value, float | int)


def test_xlsx_notes_sheet_is_neutralised_and_columns_take_number_formats():
    """The notes sheet is formula-safe; a column's number format applies to its cells."""
    response = xlsx_response(
        "x.xlsx",
        ["名称", "金额"],
        [["a", Decimal("1200.50")]],
        number_formats={1: "#,##0.00"},
        notes=[["q", "=cmd|' /C calc'!A0"]],
    )
    book = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    data, notes = book.worksheets
    assert data["B2"].number_format == "#,##0.00" and data["A2"].number_format == "General"
    assert notes["B1"].value == "'=cmd|' /C calc'!A0"


def test_csv_response_carries_extra_headers():
    response = csv_response("x.csv", ["a"], [["b"]], headers={"X-Sunlight-As-Of": "now"})
    assert response["X-Sunlight-As-Of"] == "now"
