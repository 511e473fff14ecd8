"""Rosters are read as offices keep them, and every fault is reported at once, with its cell."""

from datetime import date
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from demo.rostergen import generate_roster, make_id_number
from funds.importing.headers import column_letter, header_field, places_in_title
from funds.importing.roster import read_roster

FORMATS = ["xlsx", "xls", "ods", "csv", "csv-bom", "csv-gbk"]
WORKBOOKS = ["xlsx", "xls", "ods"]
SUFFIX = {"csv-bom": "csv", "csv-gbk": "csv"}


def generate(tmp_path: Path, fmt: str, **options):
    options.setdefault("rows", 24)
    options.setdefault("seed", 11)
    path = tmp_path / f"roster.{SUFFIX.get(fmt, fmt)}"
    return generate_roster(path, fmt=fmt, **options)


def read(generated, **options):
    return read_roster(generated.path, filename=generated.path.name, **options)


def codes(roster) -> list[str]:
    return [issue.code for issue in roster.errors]


# --- Every format, every shape ---------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("per_person", [False, True], ids=["per_household", "per_person"])
def test_generated_roster_reads_clean_in_every_format(tmp_path, fmt, per_person):
    """Title rows, synonyms, merged villages, padded names, 合计 and footer: all read cleanly."""
    made = generate(tmp_path, fmt, per_person=per_person)
    roster = read(made)
    assert roster.errors == []
    assert roster.ok()
    assert [row.id_number for row in roster.rows] == made.ids
    assert roster.total == made.total
    assert roster.kind == ("per_person" if per_person else "per_household")
    assert {row.township for row in roster.rows} == {"城关镇"}


@pytest.mark.parametrize("fmt", FORMATS)
def test_header_below_title_rows_is_found_by_content(tmp_path, fmt):
    made = generate(tmp_path, fmt, rows=5)
    roster = read(made)
    header = next(iter(made.header_row.values()))
    assert header == 3  # title, unit row, header
    assert roster.rows[0].row == header + 1  # Excel row numbers, as staff see them


@pytest.mark.parametrize("fmt", FORMATS)
def test_roster_without_title_rows_reads_the_township_from_its_column(tmp_path, fmt):
    made = generate(tmp_path, fmt, title_rows=False, township="白马镇")
    roster = read(made)
    assert roster.ok(), roster.errors
    assert {row.township for row in roster.rows} == {"白马镇"}
    assert roster.rows[0].row == 2


@pytest.mark.parametrize("fmt", FORMATS)
def test_merged_or_blank_village_cells_are_filled_down(tmp_path, fmt):
    """xlsx/xls merge the village down; ods and CSV leave the cells below blank."""
    made = generate(tmp_path, fmt, rows=30, merged_village=True)
    roster = read(made)
    assert roster.ok(), roster.errors
    assert [row.village for row in roster.rows] == [made.village_of[i] for i in made.ids]
    assert len({row.village for row in roster.rows}) == 4


@pytest.mark.parametrize("fmt", WORKBOOKS)
def test_one_sheet_per_village_named_in_sheet_name_and_title(tmp_path, fmt):
    made = generate(tmp_path, fmt, one_sheet_per_village=True, villages=["东风村", "红旗社区"])
    roster = read(made)
    assert roster.ok(), roster.errors
    assert roster.sheets == ["东风村", "红旗社区"]
    assert {row.sheet: row.village for row in roster.rows} == {
        "东风村": "东风村",
        "红旗社区": "红旗社区",
    }


@pytest.mark.parametrize("fmt", WORKBOOKS)
def test_village_only_in_sheet_name_and_township_from_argument(tmp_path, fmt):
    made = generate(
        tmp_path, fmt, one_sheet_per_village=True, title_rows=False, township_column=False
    )
    roster = read(made, township="城关镇")
    assert roster.ok(), roster.errors
    assert {row.village for row in roster.rows} == set(made.villages)
    assert {row.township for row in roster.rows} == {"城关镇"}


def test_village_only_in_title_row(tmp_path):
    """A sheet named Sheet1 whose title says 城关镇东风村… gives both places."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["某某县城关镇东风村2026年耕地地力保护补贴发放花名册"])
    sheet.append(["序号", "户主姓名", "身份证号码", "补贴金额（元）"])
    sheet.append([1, "张三", make_id_number(5), 100])
    path = tmp_path / "t.xlsx"
    book.save(path)
    roster = read_roster(path, filename="t.xlsx")
    assert roster.ok(), roster.errors
    assert (roster.rows[0].township, roster.rows[0].village) == ("城关镇", "东风村")


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_township_argument_wins_over_title_and_column(tmp_path, fmt):
    made = generate(tmp_path, fmt, title_rows=False, township="白马镇")
    roster = read(made, township=" 城关镇 ")
    assert {row.township for row in roster.rows} == {"城关镇"}


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_township_missing_everywhere_is_one_error_per_sheet(tmp_path, fmt):
    made = generate(tmp_path, fmt, title_rows=False, township_column=False)
    roster = read(made)
    assert codes(roster) == ["missing_township"]
    assert roster.errors[0].row is None
    assert "乡镇" in roster.errors[0].message


@pytest.mark.parametrize("fmt", FORMATS)
def test_padded_names_are_normalised(tmp_path, fmt):
    made = generate(tmp_path, fmt, rows=60, seed=3, padded_names=True)
    roster = read(made)
    assert [row.name for row in roster.rows] == [made.name_of[i] for i in made.ids]
    assert not any(" " in row.name or "\u3000" in row.name for row in roster.rows)


@pytest.mark.parametrize("fmt", FORMATS)
def test_totals_row_is_checked_and_not_imported(tmp_path, fmt):
    made = generate(tmp_path, fmt, rows=12)
    roster = read(made)
    assert len(roster.rows) == 12
    (checked,) = roster.totals_rows
    assert checked["declared"] == checked["computed"] == made.total
    assert checked["sheet"] == made.sheets[0]
    assert checked["row"] == 3 + 12 + 1


@pytest.mark.parametrize("fmt", FORMATS)
def test_totals_row_that_disagrees_is_an_error_with_both_figures(tmp_path, fmt):
    made = generate(tmp_path, fmt, rows=12, errors={"wrong_total": 1})
    roster = read(made)
    (fault,) = made.faults
    (error,) = roster.errors
    assert (error.sheet, error.row, error.column, error.code) == (
        fault.sheet,
        fault.row,
        fault.column,
        "total_mismatch",
    )
    assert str(made.total + 100) in error.message
    assert str(made.total) in error.message


@pytest.mark.parametrize("fmt", FORMATS)
def test_blank_rows_and_signature_footer_are_ignored(tmp_path, fmt):
    made = generate(tmp_path, fmt, rows=8, footer=True, totals_row=False)
    roster = read(made)
    assert roster.ok(), roster.errors
    assert len(roster.rows) == 8


@pytest.mark.parametrize("fmt", FORMATS)
def test_per_person_roster_links_members_to_their_head(tmp_path, fmt):
    made = generate(tmp_path, fmt, rows=40, per_person=True, seed=5)
    roster = read(made)
    assert roster.ok(), roster.errors
    assert roster.kind == "per_person"
    for row in roster.rows:
        head = made.head_of[row.id_number]
        assert (row.head_id or row.id_number) == head
        assert (row.relation == "户主") == (row.id_number == head)
    assert len({row.head_id or row.id_number for row in roster.rows}) == made.households


@pytest.mark.parametrize("fmt", FORMATS)
def test_per_household_roster_makes_each_beneficiary_the_head(tmp_path, fmt):
    made = generate(tmp_path, fmt, rows=10)
    roster = read(made)
    for row in roster.rows:
        assert (row.head_id, row.relation, row.head_name) == ("", "户主", row.name)


def test_quantity_times_rate_mismatch_is_a_warning_not_an_error(tmp_path):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["乡镇", "村", "户主姓名", "身份证号码", "补贴面积（亩）", "补贴标准", "补贴金额"])
    sheet.append(["城关镇", "东风村", "张三", make_id_number(1), 2.5, 100, 250])
    sheet.append(["城关镇", "东风村", "李四", make_id_number(2), 2.5, 100, 250.02])
    path = tmp_path / "t.xlsx"
    book.save(path)
    roster = read_roster(path, filename="t.xlsx")
    assert roster.ok()
    assert len(roster.rows) == 2
    (warning,) = roster.warnings
    assert (warning.row, warning.column, warning.code) == (3, "补贴金额", "amount_mismatch")
    assert "250.00" in warning.message and "250.02" in warning.message


# --- Errors, each with sheet, Excel row and column -------------------------------------------

FAULT_CODES = {
    "check_digit": "id_check_digit",
    "excel_number": "id_excel_number",
    "negative": "amount_negative",
    "empty_amount": "amount_empty",
    "text_amount": "not_number",
    "too_many_decimals": "too_many_decimals",
    "bad_account": "account_invalid",
    "empty_name": "name_empty",
}


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("fault", sorted(FAULT_CODES))
def test_each_fault_is_reported_at_its_cell(tmp_path, fmt, fault):
    made = generate(tmp_path, fmt, rows=15, errors={fault: 1}, totals_row=False)
    roster = read(made)
    (where,) = made.faults
    assert not roster.ok()
    assert [(e.sheet, e.row, e.column, e.code) for e in roster.errors] == [
        (where.sheet, where.row, where.column, FAULT_CODES[fault])
    ]
    assert roster.errors[0].message


@pytest.mark.parametrize("fmt", FORMATS)
def test_all_errors_are_reported_at_once(tmp_path, fmt):
    faults = {"check_digit": 2, "negative": 1, "text_amount": 1, "excel_number": 1}
    made = generate(tmp_path, fmt, rows=40, errors=faults, totals_row=False)
    roster = read(made)
    assert len(roster.errors) == 5
    assert {(e.row, e.code) for e in roster.errors} == {
        (f.row, FAULT_CODES[f.kind]) for f in made.faults
    }


@pytest.mark.parametrize("fmt", FORMATS)
def test_excel_number_id_tells_staff_to_format_the_column_as_text(tmp_path, fmt):
    made = generate(tmp_path, fmt, rows=6, errors={"excel_number": 1}, totals_row=False)
    (error,) = read(made).errors
    assert "设置为文本格式" in error.message


@pytest.mark.parametrize("fmt", FORMATS)
def test_same_person_twice_reports_both_rows(tmp_path, fmt):
    made = generate(tmp_path, fmt, rows=10, errors={"duplicate": 1}, totals_row=False)
    roster = read(made)
    (fault,) = made.faults
    header = made.header_row[fault.sheet]
    assert [(e.row, e.column, e.code) for e in roster.errors] == [
        (header + 1, fault.column, "duplicate"),
        (fault.row, fault.column, "duplicate"),
    ]
    assert f"第 {fault.row} 行" in roster.errors[0].message
    assert f"第 {header + 1} 行" in roster.errors[1].message


def test_same_person_on_two_sheets_is_reported(tmp_path):
    book = openpyxl.Workbook()
    for title in ("东风村", "红旗村"):
        sheet = book.create_sheet(title)
        sheet.append(["乡镇", "户主姓名", "身份证号码", "金额"])
        sheet.append(["城关镇", "张三", make_id_number(9), 10])
    book.remove(book["Sheet"])
    path = tmp_path / "t.xlsx"
    book.save(path)
    roster = read_roster(path, filename="t.xlsx")
    assert [(e.sheet, e.row, e.code) for e in roster.errors] == [
        ("东风村", 2, "duplicate"),
        ("红旗村", 2, "duplicate"),
    ]


@pytest.mark.parametrize(
    ("headers", "missing"),
    [
        (["村", "户主姓名", "金额", "备注"], ["身份证号码"]),
        (["村", "身份证号码", "金额", "备注"], ["姓名"]),
        (["村", "户主姓名", "身份证号码", "备注"], ["金额"]),
    ],
)
def test_missing_required_column_is_one_error_naming_sheet_and_field(tmp_path, headers, missing):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "东风村"
    sheet.append(headers)
    sheet.append(["东风村", "张三", "10", ""])
    path = tmp_path / "t.xlsx"
    book.save(path)
    roster = read_roster(path, filename="t.xlsx", township="城关镇")
    assert [(e.sheet, e.row, e.column, e.code) for e in roster.errors] == [
        ("东风村", None, missing[0], "missing_column")
    ]
    assert missing[0] in roster.errors[0].message


def test_sheet_without_any_header_is_an_error(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("1,2,3\n4,5,6\n", encoding="utf-8")
    roster = read_roster(path, filename="t.csv")
    assert codes(roster) == ["no_header"]


def test_headers_nothing_recognises_are_offered_for_mapping_not_guessed(tmp_path):
    """Short texts over rows of data stand for the header; every field waits for staff."""
    path = tmp_path / "t.csv"
    path.write_text("a,b,c\n1,2,3\n", encoding="utf-8")
    roster = read_roster(path, filename="t.csv", township="城关镇")
    assert set(codes(roster)) == {"missing_column", "missing_village"}
    assert roster.unsettled == ["name", "id_number", "amount"] and roster.rows == []
    assert [(c.letter, c.label, c.field) for c in roster.columns] == [
        ("A", "a", ""), ("B", "b", ""), ("C", "c", "")
    ]  # fmt: skip


def test_csv_with_undecodable_bytes_is_an_error_naming_the_line(tmp_path):
    path = tmp_path / "t.csv"
    path.write_bytes("村,户主姓名,身份证号码,金额\n".encode() + b"\xff\xfe\x80,x,y,1\n")
    roster = read_roster(path, filename="t.csv")
    assert codes(roster) == ["bad_encoding"]
    assert "第 2 行" in roster.errors[0].message


def test_corrupt_workbook_is_an_error_not_an_exception(tmp_path):
    """Past the zip checks, a reader failure still comes back as an error."""
    roster = read_roster(b"PK\x05\x06" + bytes(18), filename="t.xlsx", kind="xlsx")
    assert codes(roster) == ["unreadable"]


# --- Cells -----------------------------------------------------------------------------------


def one_row_roster(tmp_path, amount, **extra):
    headers = ["乡镇", "村", "户主姓名", "身份证号码", "金额", *extra]
    values = ["城关镇", "东风村", "张三", make_id_number(3), amount, *extra.values()]
    path = tmp_path / "one.csv"
    with open(path, "w", encoding="utf-8", newline="") as handle:
        handle.write(",".join(headers) + "\n" + ",".join(f'"{v}"' for v in values) + "\n")
    return read_roster(path, filename="one.csv")


@pytest.mark.parametrize(
    ("cell", "amount"),
    [
        ("1234.5", Decimal("1234.50")),
        ("¥1,234.50", Decimal("1234.50")),
        ("1,234.50元", Decimal("1234.50")),
        (" 12 ", Decimal("12.00")),
        ("１２.３", Decimal("12.30")),
        ("0", Decimal("0.00")),
        ("12.500", Decimal("12.50")),
    ],
)
def test_amount_text_is_read_as_decimal(tmp_path, cell, amount):
    roster = one_row_roster(tmp_path, cell)
    assert roster.ok(), roster.errors
    assert roster.rows[0].amount == amount
    assert isinstance(roster.rows[0].amount, Decimal)


@pytest.mark.parametrize(
    ("cell", "code"),
    [
        ("-5", "amount_negative"),
        ("(5.00)", "amount_negative"),
        ("", "amount_empty"),
        ("五百", "not_number"),
        ("NaN", "not_number"),
        ("1.234", "too_many_decimals"),
        ("1e20", "amount_too_large"),
    ],
)
def test_bad_amount_text_is_an_error(tmp_path, cell, code):
    roster = one_row_roster(tmp_path, cell)
    assert [(e.row, e.column, e.code) for e in roster.errors] == [(2, "金额", code)]


@pytest.mark.parametrize(
    ("value", "expected"),
    [(0.1 + 0.2, Decimal("0.30")), (1234.56, Decimal("1234.56")), (100, Decimal("100.00"))],
)
def test_float_and_integer_amounts_become_exact_decimals(tmp_path, value, expected):
    book = openpyxl.Workbook()
    book.active.append(["乡镇", "村", "户主姓名", "身份证号码", "金额"])
    book.active.append(["城关镇", "东风村", "张三", make_id_number(4), value])
    path = tmp_path / "t.xlsx"
    book.save(path)
    roster = read_roster(path, filename="t.xlsx")
    assert roster.rows[0].amount == expected
    assert str(roster.rows[0].amount) == str(expected)


def test_float_amount_with_more_than_two_decimals_is_an_error(tmp_path):
    book = openpyxl.Workbook()
    book.active.append(["乡镇", "村", "户主姓名", "身份证号码", "金额"])
    book.active.append(["城关镇", "东风村", "张三", make_id_number(4), 12.345])
    path = tmp_path / "t.xlsx"
    book.save(path)
    assert codes(read_roster(path, filename="t.xlsx")) == ["too_many_decimals"]


@pytest.mark.parametrize(
    ("cell", "status"),
    [
        ("成功", "paid"),
        ("已发放", "paid"),
        ("失败", "failed"),
        ("退回", "failed"),
        ("停发", "stopped"),
    ],
)
def test_payment_status_column_is_mapped(tmp_path, cell, status):
    roster = one_row_roster(tmp_path, "10", 发放状态=cell)
    assert roster.rows[0].status == status


def test_unknown_payment_status_is_an_error(tmp_path):
    roster = one_row_roster(tmp_path, "10", 发放状态="也许")
    assert [(e.column, e.code) for e in roster.errors] == [("发放状态", "bad_status")]


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("2026-03-15", date(2026, 3, 15)),
        ("2026/3/5", date(2026, 3, 5)),
        ("2026年3月5日", date(2026, 3, 5)),
        ("20260305", date(2026, 3, 5)),
    ],
)
def test_pay_date_text_forms_are_read(tmp_path, cell, expected):
    assert one_row_roster(tmp_path, "10", 发放日期=cell).rows[0].pay_date == expected


def test_unreadable_pay_date_is_an_error(tmp_path):
    roster = one_row_roster(tmp_path, "10", 发放日期="下个月")
    assert [(e.column, e.code) for e in roster.errors] == [("发放日期", "bad_date")]


def test_notes_are_scrubbed_of_phone_id_and_account_numbers(tmp_path):
    note = f"代领人李四 电话13912345678 身份证{make_id_number(8)} 卡号6217001234567890123"
    roster = one_row_roster(tmp_path, "10", 备注=note)
    scrubbed = roster.rows[0].note
    assert "13912345678" not in scrubbed
    assert make_id_number(8) not in scrubbed
    assert "6217001234567890123" not in scrubbed
    assert scrubbed.startswith("代领人李四 电话139****5678")


def test_payee_same_as_beneficiary_is_left_empty(tmp_path):
    assert one_row_roster(tmp_path, "10", 收款人="张 三").rows[0].payee_name == ""
    assert one_row_roster(tmp_path, "10", 收款人="李四").rows[0].payee_name == "李四"


def test_account_stored_as_excel_number_is_an_error(tmp_path):
    book = openpyxl.Workbook()
    book.active.append(["乡镇", "村", "户主姓名", "身份证号码", "一卡通账号", "金额"])
    book.active.append(["城关镇", "东风村", "张三", make_id_number(4), 6217001234567890123, 1])
    path = tmp_path / "t.xlsx"
    book.save(path)
    roster = read_roster(path, filename="t.xlsx")
    assert [(e.column, e.code) for e in roster.errors] == [("一卡通账号", "account_excel_number")]


def test_columns_without_header_text_are_named_by_excel_letter():
    assert [column_letter(i) for i in (0, 25, 26, 27, 701, 702)] == [
        "A",
        "Z",
        "AA",
        "AB",
        "ZZ",
        "AAA",
    ]


# --- Headers ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("户主姓名", "head_name"),
        ("姓  名", "name"),
        ("身份证\n号码", "id_number"),
        ("公民身份号码", "id_number"),
        ("证件号码", "id_number"),
        ("一卡通账号", "account"),
        ("存折账号", "account"),
        ("实发金额（元）", "amount"),
        ("金额(元)", "amount"),
        ("补贴面积（亩）", "quantity"),
        ("计补面积", "quantity"),
        ("补贴标准（元/亩）", "rate"),
        ("村（社区）", "village"),
        ("行政村", "village"),
        ("村民小组", "group"),
        ("乡（镇）", "township"),
        ("与户主关系", "relation"),
        ("享受人姓名", "name"),
        ("收款人", "payee_name"),
        ("发放日期", "pay_date"),
        ("备注", "note"),
        ("发放状态", "status"),
        ("*身份证号码：", "id_number"),
        ("ＩＤ", None),
        ("土地类型", None),
    ],
)
def test_header_synonyms(text, field):
    assert header_field(text) == field


def test_two_row_header_under_merged_group_headers(tmp_path):
    """户主信息 over 姓名/身份证号码 and 享受人信息 over 姓名/身份证号码 are told apart."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["城关镇2026年高龄津贴发放花名册"])
    sheet.append(["村", "户主信息", None, "享受人信息", None, "与户主关系", "金额（元）"])
    sheet.append([None, "姓名", "身份证号码", "姓名", "身份证号码", None, None])
    sheet.merge_cells("A2:A3")
    sheet.merge_cells("B2:C2")
    sheet.merge_cells("D2:E2")
    sheet.merge_cells("F2:F3")
    sheet.merge_cells("G2:G3")
    head, member = make_id_number(20), make_id_number(21)
    sheet.append(["东风村", "张三", head, "张三", head, "户主", 100])
    sheet.append(["东风村", "张三", head, "王芳", member, "配偶", 100])
    path = tmp_path / "t.xlsx"
    book.save(path)
    roster = read_roster(path, filename="t.xlsx")
    assert roster.ok(), roster.errors
    assert roster.kind == "per_person"
    assert [
        (r.row, r.name, r.head_name, r.head_id, r.id_number, r.relation) for r in roster.rows
    ] == [
        (4, "张三", "张三", head, head, "户主"),
        (5, "王芳", "张三", head, member, "配偶"),
    ]


@pytest.mark.parametrize(
    ("title", "places"),
    [
        ("城关镇东风村2026年耕地地力保护补贴发放花名册", ("城关镇", "东风村")),
        ("2026年城关镇红旗社区高龄津贴发放花名册", ("城关镇", "红旗社区")),
        ("某某县白马乡2026年低保金发放表", ("白马乡", "")),
        ("东风村2026年补贴发放花名册", ("", "东风村")),
        ("城乡居民最低生活保障金发放表", ("", "")),
    ],
)
def test_places_in_title(title, places):
    assert places_in_title(title) == places


# --- Bounds ----------------------------------------------------------------------------------


def test_progress_is_reported_while_reading(tmp_path):
    made = generate(tmp_path, "csv", rows=2500)
    calls = []
    read(made, progress=lambda done, total: calls.append((done, total)))
    assert len(calls) >= 3
    assert calls[-1][0] == calls[-1][1]
    assert [done for done, _ in calls] == sorted(done for done, _ in calls)


def test_row_limit_rejects_the_file(tmp_path):
    made = generate(tmp_path, "csv", rows=50)
    roster = read(made, max_rows=20)
    assert "too_many_rows" in codes(roster)
    assert not roster.ok()


def test_deadline_stops_parsing_with_an_error(tmp_path):
    made = generate(tmp_path, "csv", rows=600)
    roster = read(made, deadline_s=0)
    assert codes(roster) == ["timeout"]
    assert roster.rows == []


def test_only_raw_ids_leave_in_memory_rows_and_notes_are_masked(tmp_path):
    """IDs are normalised (lowercase x upper-cased); free text never carries a full ID."""
    made = generate(tmp_path, "xlsx", rows=80, seed=9)
    roster = read(made)
    assert all(
        len(row.id_number) == 18 and row.id_number.upper() == row.id_number for row in roster.rows
    )
    assert all(row.id_number not in row.note for row in roster.rows)


# --- Property: totals reconcile to the cent --------------------------------------------------


@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    seed=st.integers(0, 10_000),
    rows=st.integers(1, 60),
    fmt=st.sampled_from(["xlsx", "csv", "csv-gbk", "ods"]),
    per_person=st.booleans(),
    quantity=st.booleans(),
)
def test_parsed_total_equals_generated_total_to_the_cent(
    tmp_path, seed, rows, fmt, per_person, quantity
):
    made = generate(
        tmp_path, fmt, rows=rows, seed=seed, per_person=per_person, with_quantity=quantity
    )
    roster = read(made)
    assert roster.errors == []
    assert roster.total == made.total
    assert sum(row.amount for row in roster.rows) == made.total
    assert sorted(row.id_number for row in roster.rows) == sorted(made.ids)


def test_names_the_fast_path_keeps_as_they_are_are_already_normalised():
    """Every CJK unified ideograph is its own normal form, so skipping normalize_name is safe."""
    from funds.importing.roster import _PLAIN_CJK
    from privacy.normalize import normalize_name

    ideographs = "".join(chr(c) for c in range(0x4E00, 0xA000))
    assert _PLAIN_CJK.fullmatch(ideographs)
    assert normalize_name(ideographs) == ideographs
    for padded in [" 张三", "张\u3000三", "李·四", "\uf900一", "王五\u200b"]:
        assert not _PLAIN_CJK.fullmatch(padded)


def test_notes_are_scrubbed_with_the_deployments_masking_policy(tmp_path, settings):
    """A deployment that keeps no digits of an ID number gets none in a roster's notes."""
    from privacy import personal

    settings.SUNLIGHT_MASKING = {**settings.SUNLIGHT_MASKING, "id_keep_head": 0, "id_keep_tail": 0}
    personal.masking_policy.cache_clear()
    try:
        number = make_id_number(12)
        roster = one_row_roster(tmp_path, "100", 备注=f"代领人身份证{number}")
    finally:
        personal.masking_policy.cache_clear()
    assert roster.ok(), roster.errors
    note = roster.rows[0].note
    assert note.startswith("代领人身份证") and "*" in note
    assert not any(ch.isdigit() for ch in note), note
