"""The error report keeps the rows' places and problems, and no personal data."""

from __future__ import annotations

import io
import logging

import openpyxl
import pytest

from demo.rostergen import make_id_number
from funds.importing import errorreport
from funds.importing.reports import ImportReport
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


@pytest.mark.parametrize("encoding", ["utf-16", "utf-8"])
def test_a_tab_separated_csv_report_masks_its_name_column(tmp_path, encoding):
    """Excel's Unicode text: the report splits rows as the importer did, and masks names."""
    number = make_id_number(4)
    path = tmp_path / "t.csv"
    path.write_text(
        f"村\t姓名\t身份证号码\t金额\n东风村\t张小三\t{number}\t-5\n", encoding=encoding
    )
    roster = read_roster(path, filename="t.csv", township="城关镇")
    report = ImportReport(file="t.csv", errors=[{"sheet": "t", "row": 2, "column": "金额",
                                                 "message": "金额不能为负数"}])  # fmt: skip

    cells = _cells(errorreport.build(path, filename="t.csv", sheets=roster.sheets,
                                     report=report, columns=roster.columns))  # fmt: skip

    assert "张*三" in cells and not any("张小三" in c or number in c for c in cells)


def _formulas(data: bytes) -> list[str]:
    """Return every cell the workbook stores as a formula, and its sheet titles."""
    book = openpyxl.load_workbook(io.BytesIO(data))
    found = [
        f"{ws.title}!{c.coordinate}"
        for ws in book.worksheets
        for row in ws.iter_rows()
        for c in row
        if c.data_type == "f"
    ]
    return found


def test_no_string_in_the_report_becomes_a_formula(tmp_path):
    """A sheet named like a formula, formula-like labels and messages: all stay text."""
    path = tmp_path / "t.xlsx"
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "=HYPERLINK(x)"  # openpyxl allows it; Excel too
    sheet.append(["村", "姓名", "身份证号码", "金额", "=1+1"])
    cell = sheet.cell(row=2, column=5)
    cell.value, cell.data_type = "@SUM(A1)", "s"
    book.create_sheet("a" * 31)
    book.create_sheet("A" * 31)  # the same title to Excel, which ignores case
    book.save(path)
    report = ImportReport(
        file="t.xlsx",
        errors=[{"sheet": "=HYPERLINK(x)", "row": 2, "column": "=cmd|' /C calc'!A0",
                 "message": "-2+3"}, {"sheet": "+x", "row": None, "column": "", "message": "@x"}],
    )  # fmt: skip
    data = errorreport.build(path, filename="t.xlsx", sheets=["=HYPERLINK(x)"], report=report)
    assert _formulas(data) == []
    titles = openpyxl.load_workbook(io.BytesIO(data), read_only=True).sheetnames
    assert all(len(t) <= 31 and not set(t) & set("[]:*?/\\") for t in titles)
    assert len({t.lower() for t in titles}) == len(titles)
    cells = _cells(data)
    assert "'=HYPERLINK(x)" in cells and "'=cmd|' /C calc'!A0" in cells


def test_safe_text_neutralises_every_formula_start_and_control_character():
    for start in ("=", "+", "-", "@", "\t", "\r", "＝"):
        assert errorreport.safe_text(start + "1+1").startswith("'")
    assert errorreport.safe_text("a\x00b\x1f") == "ab"
    assert len(errorreport.safe_text("x" * 100_000)) == 32_767
    used: set[str] = set()
    assert errorreport.sheet_title("a/b:c*d?e[f]g\\h", "S1", used) == "a_b_c_d_e_f_g_h"
    assert errorreport.sheet_title("A_B_C_D_E_F_G_H", "S2", used) == "A_B_C_D_E_F_G_H(2)"
    assert errorreport.sheet_title("''", "S3", used) == "S3"


def test_a_line_wider_than_excel_still_gets_its_report():
    """A CSV line of 100,000 cells: the report keeps Excel's 16,384 columns of it."""
    data = ("x," * 100_000 + "y").encode()
    report = ImportReport(file="t.csv", errors=[{"sheet": "", "row": None, "column": "",
                                                 "message": "太宽"}])  # fmt: skip
    book = openpyxl.load_workbook(
        io.BytesIO(errorreport.build(data, filename="t.csv", sheets=[], report=report)),
        read_only=True,
    )
    first = next(book.worksheets[1].iter_rows(values_only=True))
    assert len(first) == 16_384 and first[0] == "x"


def test_a_sheet_the_importer_did_not_read_is_left_out_of_the_report(tmp_path):
    path = tmp_path / "t.xlsx"
    book = openpyxl.Workbook()
    book.active.title = "花名册"
    book.active.append(["村", "姓名", "身份证号码", "金额"])
    book.active.append(["东风村", "张小三", make_id_number(5), -5])
    notes = book.create_sheet("说明")
    notes.append(["联系人：王大明，住东风村三组"])
    book.save(path)
    roster = read_roster(path, filename="t.xlsx", township="城关镇")
    report = ImportReport(file="t.xlsx", errors=[{"sheet": "花名册", "row": 2, "column": "金额",
                                                  "message": "金额不能为负数"}])  # fmt: skip
    data = errorreport.build(path, filename="t.xlsx", sheets=roster.sheets, report=report,
                             columns=roster.columns)  # fmt: skip
    cells = _cells(data)
    assert not any("王大明" in c for c in cells) and "张*三" in cells


def _rejected_roster_report(tmp_path) -> bytes:
    """Import a roster with one bad amount; return the bytes of the error report it got."""
    from django.core.files.storage import default_storage

    from funds.importing.jobs import import_roster
    from tests.factories import make_program

    path = tmp_path / "东风村.xlsx"
    book = openpyxl.Workbook()
    book.active.append(["城关镇东风村2026年3月耕地地力保护补贴发放花名册"])
    book.active.append(["村", "姓名", "身份证号码", "金额"])
    for n in range(4):
        book.active.append(["东风村", f"张小{'一二三四'[n]}", make_id_number(n), 100 if n else -5])
    book.save(path)
    report = import_roster(path=path, program=make_program(), period="2026-03", township="城关镇")
    assert report.status == "rejected" and report.error_report
    with default_storage.open(report.error_report, "rb") as fh:
        return fh.read()


def test_every_sheet_of_the_report_says_it_is_masked_and_not_for_import(tmp_path):
    data = _rejected_roster_report(tmp_path)
    book = openpyxl.load_workbook(io.BytesIO(data))
    for sheet in book.worksheets:
        text = " ".join(str(c) for row in sheet.iter_rows(values_only=True) for c in row if c)
        assert "不能再次导入" in text, sheet.title


@pytest.mark.parametrize("saved_as", ["xlsx", "edited xlsx", "csv"])
def test_the_report_sent_back_is_recognised_and_refused(tmp_path, saved_as):
    from funds.importing.jobs import import_roster
    from tests.factories import make_program
    from tests.funds.importing.support import table_counts

    data = _rejected_roster_report(tmp_path)
    path = tmp_path / "改好了.xlsx"
    if saved_as == "xlsx":
        path.write_bytes(data)
    else:
        book = openpyxl.load_workbook(io.BytesIO(data))
        sheet = book.worksheets[1]
        sheet.cell(row=6, column=4).value = 100  # the clerk fixes the amount in the report
        if saved_as == "edited xlsx":
            book.save(path)
        else:  # the rows copied out into a CSV file: no document properties any more
            path = tmp_path / "改好了.csv"
            lines = [",".join("" if v is None else str(v) for v in row)
                     for row in sheet.iter_rows(values_only=True)]  # fmt: skip
            path.write_text("\n".join(lines), encoding="utf-8")
    before = table_counts()
    report = import_roster(path=path, program=make_program(), period="2026-03", township="城关镇")
    assert report.status == "rejected"
    assert [e["code"] for e in report.errors] == ["masked_report"]
    assert "校验结果" in report.errors[0]["message"]
    assert table_counts() == before


def test_a_masked_id_number_says_so_rather_than_not_digits():
    from privacy.idnumbers import check_id_number

    check = check_id_number("341***********0011")
    assert check.code == "masked" and "脱敏" in check.reason
