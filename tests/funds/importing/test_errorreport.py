"""The error report keeps the rows' places and problems, and no personal data."""

from __future__ import annotations

import io
import logging

import openpyxl
import pytest

from demo.rostergen import make_id_number
from funds.importing import errorreport
from funds.importing.jobs import ImportReport
from funds.importing.roster import read_roster


def _cells(data: bytes) -> list[str]:
    book = openpyxl.load_workbook(io.BytesIO(data), read_only=True)
    return [str(c) for ws in book.worksheets for row in ws.iter_rows(values_only=True) for c in row]


def test_unneeded_personal_columns_are_blanked_and_names_masked(tmp_path):
    number = make_id_number(3)
    path = tmp_path / "t.xlsx"
    book = openpyxl.Workbook()
    book.active.append(["村", "补贴对象", "身份证号码", "金额", "家庭住址", "联系电话"])
    book.active.append(["东风村", "张小三", number, -5, "东风村3组18号", "0551-12345678"])
    book.save(path)
    roster = read_roster(path, filename="t.xlsx", township="城关镇")
    report = ImportReport(file="t.xlsx", errors=[{"sheet": "Sheet", "row": 2, "column": "金额",
                                                  "message": "金额不能为负数"}])  # fmt: skip

    cells = _cells(errorreport.build(path, filename="t.xlsx", sheets=roster.sheets,
                                     report=report, columns=roster.columns))  # fmt: skip

    assert "张*三" in cells and "张小三" not in cells
    assert not any(number in c or "18号" in c or "12345678" in c for c in cells)
    assert "***" in cells and any("金额不能为负数" in c for c in cells)


def test_a_report_that_cannot_be_built_is_logged_without_its_data(monkeypatch, caplog):
    def broken(*args, **kwargs):
        raise ValueError("张小三 341122193502254331")

    monkeypatch.setattr(errorreport, "build", broken)
    roster = type("Roster", (), {"sheets": [], "columns": []})()
    with caplog.at_level(logging.ERROR):
        name = errorreport.save(b"", filename="t.csv", sha256="ab" * 32, roster=roster,
                                report=ImportReport(file="t.csv"))  # fmt: skip
    assert name == ""
    assert "could not be written" in caplog.text and "张小三" not in caplog.text
    assert "ValueError" in caplog.text


pytestmark = pytest.mark.django_db
