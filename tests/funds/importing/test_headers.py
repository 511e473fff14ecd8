"""Headers read for what they say: roles, money by role, settled by rules or left for staff."""

from __future__ import annotations

from decimal import Decimal

import openpyxl
import pytest

from demo.rostergen import make_id_number
from funds.importing.headers import classify, header_key, signature_of
from funds.importing.parsed import IGNORE, PERSONAL
from funds.importing.roster import read_roster
from tests.funds.importing.header_texts import HEADER_TEXTS


@pytest.mark.parametrize(("text", "target"), HEADER_TEXTS, ids=[t for t, _ in HEADER_TEXTS])
def test_header_texts_as_offices_write_them(text, target):
    guess = classify(text)
    assert (None if guess is None else guess.field) == target


def test_the_table_is_large_and_covers_every_kind_of_target():
    targets = {target for _text, target in HEADER_TEXTS}
    assert len(HEADER_TEXTS) >= 150
    assert {"name", "head_name", "payee_name", "id_number", "head_id", "amount", "gross"} <= targets
    assert {IGNORE, PERSONAL, None, "disability_number", "amount_words"} <= targets


@pytest.mark.parametrize(
    ("text", "role"),
    [("实发金额（元）", "net"), ("合计", "total"), ("补贴金额", "plain"), ("实际发放金额", "net")],
)
def test_money_headers_say_their_role(text, role):
    assert classify(text).role == role


def test_header_keys_fold_width_line_breaks_units_and_numbering():
    assert header_key("１、补贴\n金额（元）") == header_key("补贴金额") == "补贴金额"
    assert header_key("*身份证号码：") == "身份证号码"


def test_a_signature_changes_with_the_headers_and_not_with_their_spacing():
    assert signature_of({0: "姓名", 1: "金额（元）"}) == signature_of({0: "姓 名", 1: "金额(元)"})
    assert signature_of({0: "姓名", 1: "金额"}) != signature_of({0: "金额", 1: "姓名"})


# --- Rosters ---------------------------------------------------------------------------------


def book(path, rows, merges=()):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "东风村"
    for row in rows:
        sheet.append(row)
    for cells in merges:
        sheet.merge_cells(cells)
    workbook.save(path)
    return path


def read(path, **options):
    return read_roster(path, filename=path.name, township="城关镇", **options)


def codes(roster):
    return [issue.code for issue in roster.errors]


def test_the_net_column_is_paid_under_a_merged_gross_deduction_net_header(tmp_path):
    """The reported roster: 应发 / 扣款 / 实发 under one merged header, totals under 实发."""
    ids = [make_id_number(n) for n in range(3)]
    path = book(
        tmp_path / "t.xlsx",
        [
            ["东风村2026年3月低保金发放花名册"],
            ["序号", "姓名", "身份证号码", "补贴金额（元）", None, None],
            [None, None, None, "应发", "扣款", "实发"],
            [1, "张三", ids[0], 500, 75, 425],
            [2, "李四", ids[1], 500, 0, 500],
            [3, "王五", ids[2], 300, 50, 250],
            ["合计", None, None, 1300, 125, 1175],
        ],
        merges=["A2:A3", "B2:B3", "C2:C3", "D2:F2"],
    )
    roster = read(path)
    assert roster.ok(), roster.errors
    assert [r.amount for r in roster.rows] == [
        Decimal("425.00"),
        Decimal("500.00"),
        Decimal("250.00"),
    ]
    assert roster.total == Decimal("1175.00")
    assert roster.totals_rows == [
        {
            "sheet": "东风村",
            "row": 7,
            "declared": Decimal("1175.00"),
            "computed": Decimal("1175.00"),
        }
    ]
    fields = {c.letter: c.field for c in roster.columns}
    assert (fields["D"], fields["E"], fields["F"]) == ("gross", "deduction", "amount")


def test_a_net_figure_that_is_not_gross_less_deductions_is_flagged(tmp_path):
    ids = [make_id_number(n) for n in range(2)]
    path = book(
        tmp_path / "t.xlsx",
        [
            ["姓名", "身份证号码", "应发金额", "扣款", "实发金额"],
            ["张三", ids[0], 500, 75, 452],
            ["李四", ids[1], 500, 0, 500],
        ],
    )
    roster = read(path)
    assert roster.ok()
    assert [(w.row, w.code) for w in roster.warnings] == [(2, "net_mismatch")]


def test_a_totals_row_that_disagrees_in_a_checked_column_is_an_error(tmp_path):
    ids = [make_id_number(n) for n in range(2)]
    path = book(
        tmp_path / "t.xlsx",
        [
            ["姓名", "身份证号码", "应发金额", "扣款", "实发金额"],
            ["张三", ids[0], 500, 75, 425],
            ["李四", ids[1], 500, 0, 500],
            ["合计", None, 1000, 80, 925],
        ],
    )
    roster = read(path)
    assert [(e.row, e.column, e.code) for e in roster.errors] == [(4, "扣款", "total_mismatch")]


def test_a_total_column_is_paid_over_its_parts_and_checked_against_them(tmp_path):
    ids = [make_id_number(n) for n in range(2)]
    path = book(
        tmp_path / "t.xlsx",
        [
            ["姓名", "身份证号码", "生活补贴", "护理补贴", "合计"],
            ["张三", ids[0], 100, 80, 180],
            ["李四", ids[1], 100, 80, 190],
        ],
    )
    roster = read(path)
    assert roster.ok()
    assert [r.amount for r in roster.rows] == [Decimal("180.00"), Decimal("190.00")]
    assert [(w.row, w.code) for w in roster.warnings] == [(3, "parts_mismatch")]


def test_qualified_amount_and_role_named_name_headers_are_recognised(tmp_path):
    """The rejected rosters: 补贴对象 for the name, a qualified amount header."""
    path = book(
        tmp_path / "t.xlsx",
        [
            ["补贴对象", "公民身份号码", "耕地地力保护补贴金额（元）", "联系电话"],
            ["张三", make_id_number(1), "1,234.50", "13912345678"],
        ],
    )
    roster = read(path)
    assert roster.ok(), roster.errors
    assert roster.rows[0].amount == Decimal("1234.50")


def test_two_candidates_for_the_amount_stop_for_mapping_and_read_nothing(tmp_path):
    path = book(
        tmp_path / "t.xlsx",
        [["姓名", "身份证号码", "补贴金额", "奖励金额"], ["张三", make_id_number(1), 100, 50]],
    )
    roster = read(path)
    assert codes(roster) == ["ambiguous_column"] and roster.unsettled == ["amount"]
    assert roster.rows == []
    assert {c.label: c.field for c in roster.columns}["补贴金额"] == "amount"


def test_two_id_columns_without_roles_stop_for_mapping(tmp_path):
    path = book(
        tmp_path / "t.xlsx",
        [["姓名", "身份证号码", "身份证号", "金额"], ["张三", make_id_number(1), "", 100]],
    )
    roster = read(path)
    assert roster.unsettled == ["id_number"] and codes(roster) == ["ambiguous_column"]


def test_a_total_standing_outside_the_amount_column_stops_for_mapping(tmp_path):
    """The totals row's figure is evidence: the amount column chosen was the wrong one."""
    ids = [make_id_number(n) for n in range(2)]
    path = book(
        tmp_path / "t.xlsx",
        [
            ["姓名", "身份证号码", "补贴金额", "其中：本次"],
            ["张三", ids[0], 500, 425],
            ["李四", ids[1], 500, 500],
            ["合计", None, None, 925],
        ],
    )
    roster = read(path)
    assert "total_elsewhere" in codes(roster)
    assert roster.unsettled == ["amount"]


def test_a_staff_mapping_settles_what_the_headers_do_not_say(tmp_path):
    path = book(
        tmp_path / "t.xlsx",
        [["甲", "乙", "丙", "丁"], ["张三", make_id_number(1), 100, "13912345678"]],
    )
    assert "missing_column" in codes(read(path))
    mapping = {"甲": "name", "乙": "id_number", "丙": "amount", "丁": PERSONAL}
    roster = read(path, mapping=mapping)
    assert roster.ok(), roster.errors
    assert roster.rows[0].amount == Decimal("100.00")
    assert [(c.label, c.field, c.guessed) for c in roster.columns] == [
        ("甲", "name", False), ("乙", "id_number", False), ("丙", "amount", False),
        ("丁", PERSONAL, False),
    ]  # fmt: skip
    assert roster.mapping == mapping


def test_a_saved_mapping_is_found_by_the_headers_signature(tmp_path):
    path = book(tmp_path / "t.xlsx", [["甲", "乙", "丙"], ["张三", make_id_number(1), 100]])
    asked = []

    def mapping_for(signature):
        asked.append(signature)
        return {"甲": "name", "乙": "id_number", "丙": "amount"}

    roster = read(path, mapping_for=mapping_for)
    assert roster.ok() and asked == [roster.signature]


def test_samples_are_masked_whatever_the_column(tmp_path):
    number = make_id_number(1)
    path = book(
        tmp_path / "t.xlsx",
        [
            ["姓名", "身份证号码", "金额", "联系电话", "不明列"],
            ["张小三", number, 100, "13912345678", number],
        ],
    )
    roster = read(path)
    samples = {c.label: c.samples for c in roster.columns}
    assert samples["姓名"] == ("张*三",)
    assert number not in str(samples) and "13912345678" not in str(samples)
    assert "张小三" not in str(samples)


def test_unneeded_personal_columns_never_reach_the_rows(tmp_path):
    path = book(
        tmp_path / "t.xlsx",
        [
            ["姓名", "身份证号码", "金额", "联系电话", "家庭住址", "性别"],
            ["张三", make_id_number(1), 100, "13912345678", "东风村3组18号", "男"],
        ],
    )
    roster = read(path)
    assert roster.ok()
    fields = {c.label: c.field for c in roster.columns}
    assert (fields["联系电话"], fields["家庭住址"], fields["性别"]) == (PERSONAL,) * 3
    assert "13912345678" not in repr(roster.rows) and "18号" not in repr(roster.rows)


def test_a_disability_certificate_number_identifies_the_holder_without_an_id_column(tmp_path):
    number = make_id_number(7)
    path = book(tmp_path / "t.xlsx", [["姓名", "残疾人证号", "金额"], ["张三", number + "42", 100]])
    roster = read(path)
    assert roster.ok(), roster.errors
    assert roster.rows[0].id_number == number


def test_a_disability_certificate_beside_an_id_column_is_not_read(tmp_path):
    number = make_id_number(7)
    path = book(
        tmp_path / "t.xlsx",
        [["姓名", "身份证号码", "残疾证号", "金额"], ["张三", number, number + "42", 100]],
    )
    roster = read(path)
    assert roster.ok() and {c.label: c.field for c in roster.columns}["残疾证号"] == PERSONAL


def test_headers_and_titles_repeated_on_every_printed_page_are_skipped(tmp_path):
    ids = [make_id_number(n) for n in range(4)]
    header = ["序号", "姓名", "身份证号码", "金额（元）"]
    title = "城关镇东风村2026年高龄津贴发放花名册"
    path = book(
        tmp_path / "t.xlsx",
        [
            [title, title, title, title],
            header,
            [1, "张三", ids[0], 100],
            [2, "李四", ids[1], 100],
            [title, title, title, title],
            header,
            [3, "王五", ids[2], 100],
            [4, "赵六", ids[3], 100],
            ["合计", None, None, 400],
        ],
    )
    roster = read(path)
    assert roster.ok(), roster.errors
    assert [r.row for r in roster.rows] == [3, 4, 7, 8]


def test_a_total_under_a_column_nothing_recognised_is_never_ignored(tmp_path):
    ids = [make_id_number(n) for n in range(2)]
    path = book(
        tmp_path / "t.xlsx",
        [
            ["姓名", "身份证号码", "补贴金额", "其他"],
            ["张三", ids[0], 500, 425],
            ["李四", ids[1], 500, 500],
            ["合计", None, 1000, 925],
        ],
    )
    roster = read(path)
    assert "total_elsewhere" in codes(roster) and roster.unsettled == ["amount"]
    assert not roster.ok()


def test_samples_of_personal_and_unknown_columns_show_no_text(tmp_path):
    path = book(
        tmp_path / "t.xlsx",
        [
            ["姓名", "身份证号码", "金额", "家庭住址", "不明列"],
            ["买买提·艾力", make_id_number(1), 100, "东风村三组12号", "王小明"],
        ],
    )
    samples = {c.label: c.samples for c in read(path).columns}
    assert samples["家庭住址"] == ("***",)
    assert samples["不明列"] == ("王**",)
    assert "艾力" not in str(samples)


def test_a_data_row_taken_for_a_header_keeps_only_masked_labels(tmp_path):
    """No header recognised: the likeliest row is offered for mapping, its names masked."""
    number = make_id_number(2)
    path = book(tmp_path / "t.xlsx", [["王小明", "东风村", "配偶"], ["张三", number, 100]])
    roster = read(path)
    labels = [c.label for c in roster.columns]
    assert labels == ["王*明", "东*村", "配*"] and "王小明" not in str(roster.mapping)
