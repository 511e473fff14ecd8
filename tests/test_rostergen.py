"""The demo's roster generator: the shapes offices write, and the old output kept byte for byte.

These check the files themselves (what ``generate_roster`` says it wrote is in them); whether
the importer reads them is ``tests/funds/importing/test_variety.py``.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest

from demo import rostergen
from demo.rostergen import FORMATS, amount_in_words, generate_roster
from funds.importing.cells import read_amount_words
from funds.importing.headers import classify
from funds.importing.parsed import PERSONAL

BENCH_VILLAGES = ["东风村", "红旗村", "新华村", "幸福村", "和平村", "光明村"]


# --- The output of the options that existed before the shapes, pinned ----------------------


@pytest.mark.parametrize(
    ("fmt", "options", "sha256"),
    [
        ("csv", {"rows": 40, "seed": 1},
         "a0ad18cf32951bb47aa2d9fb7ebdf8435803bbc33bfa11c9b88de9a77032afec"),
        ("csv-gbk", {"rows": 60, "seed": 21, "per_person": True, "with_quantity": False,
                     "title_rows": False},
         "75733795036d363b1d9fe94b42e1effe84f33c0e0568ed3c35f1b83cc64c084b"),
        ("csv-bom", {"rows": 30, "seed": 3,
                     "errors": {"check_digit": 1, "wrong_total": 1, "negative": 1}},
         "320127575df3e6c848c6541dfd95d7a04b26ec89890715fda370b140f2388baf"),
    ],
)  # fmt: skip
def test_the_shapes_off_write_the_same_bytes_as_before(tmp_path, fmt, options, sha256):
    """The benchmark and many tests rely on a seed giving the same file it always gave."""
    path = tmp_path / "roster.csv"
    generate_roster(path, fmt=fmt, **options)
    assert hashlib.sha256(path.read_bytes()).hexdigest() == sha256


def test_the_benchmark_roster_has_the_same_cells_as_before(tmp_path):
    """The bench's arguments (a smaller file): cells and merges as before (xlsx dates itself)."""
    path = tmp_path / "bench.xlsx"
    generate_roster(path, fmt="xlsx", rows=300, seed=2026, villages=BENCH_VILLAGES)
    book = openpyxl.load_workbook(path)
    text = repr(
        [
            (
                ws.title,
                sorted(str(r) for r in ws.merged_cells.ranges),
                list(ws.iter_rows(values_only=True)),
            )
            for ws in book.worksheets
        ]
    )
    assert hashlib.sha256(text.encode()).hexdigest() == (
        "2ae3e0477e896e2f21a45c1bd2b903551195e66da3c0f32449ab2d79ffdaa68e"
    )


# --- Amounts in capital numerals -------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "words"),
    [
        ("1230.50", "壹仟贰佰叁拾元伍角"),
        ("300", "叁佰元整"),
        ("300.00", "叁佰元整"),
        ("100.05", "壹佰元零伍分"),
        ("0.50", "伍角"),
        ("0.05", "伍分"),
        ("0", "零元整"),
        ("10", "壹拾元整"),
        ("1005", "壹仟零伍元整"),
        ("1050", "壹仟零伍拾元整"),
        ("10005.32", "壹万零伍元叁角贰分"),
        ("1680.32", "壹仟陆佰捌拾元叁角贰分"),
        ("107000.53", "壹拾万柒仟元伍角叁分"),
        ("100500", "壹拾万零伍佰元整"),
        ("325.04", "叁佰贰拾伍元零肆分"),
        ("100000000", "壹亿元整"),
        ("100001000", "壹亿零壹仟元整"),
        ("123456789.12", "壹亿贰仟叁佰肆拾伍万陆仟柒佰捌拾玖元壹角贰分"),
        ("-12.30", "负壹拾贰元叁角"),
    ],
)
def test_amounts_in_words_take_the_canonical_form(amount, words):
    assert amount_in_words(Decimal(amount)) == words


def test_the_importer_reads_back_the_words_written():
    """amount_in_words and the importer's reader of 大写 agree on every kind of amount."""
    import random

    rng = random.Random(7)
    amounts = [Decimal(n) / 100 for n in (1, 10, 100, 1000, 100000, 1000000, 1000100)]
    amounts += [Decimal(rng.randint(1, 10**11)) / 100 for _ in range(2000)]
    amounts += [Decimal(rng.randint(1, 10**6)) for _ in range(500)]  # whole yuan: 整
    wrong = [a for a in amounts if read_amount_words(amount_in_words(a)) != a]
    assert wrong == []


# --- Headers ---------------------------------------------------------------------------------


def test_every_header_the_generator_writes_says_its_field():
    """The generator's vocabulary read by the header rules: no shape writes a header by mistake."""
    expected = {"member_name": "name", "phone": PERSONAL, "address": PERSONAL,
                "disability": "disability_number", "month": "pay_date"}  # fmt: skip
    texts = [
        (name, text) for name, choices in rostergen._OFFICE_HEADERS.items() for text in choices
    ]
    texts += [
        (name, text) for name, choices in rostergen._EXTRA_HEADERS.items() for text in choices
    ]
    texts += [
        (name, text)
        for name, choices in (*rostergen._GROSS_NET, *rostergen._PARTS)
        for text in choices
    ]
    wrong = []
    for name, text in texts:
        for program in ("耕地地力保护补贴", "农村最低生活保障", "高龄津贴", "残疾人两项补贴"):
            guess = classify(text.format(program=program))
            want = expected.get(name, name)
            if name in ("living", "care"):  # parts beside their total: amounts
                want = "amount"
            if guess is None or guess.field != want:
                wrong.append((text.format(program=program), want, guess))
    assert wrong == []
    for group in rostergen._MONEY_GROUPS:
        assert [classify(group[:-3] + sub).field for sub in ("应发", "扣款", "实发")] == [
            "gross", "deduction", "amount",
        ]  # fmt: skip


# --- The shapes, read back from the files ----------------------------------------------------


def sheet_rows(path: Path, fmt: str) -> list[list[str]]:
    """Return the file's cells as text, row by row (the first sheet of a workbook)."""
    if fmt.startswith("csv"):
        data = path.read_bytes()
        if fmt == "csv-utf16":
            assert data[:2] == b"\xff\xfe"
            return list(
                csv.reader(io.StringIO(data[2:].decode("utf-16-le"), newline=""), delimiter="\t")
            )
        encoding = {"csv-gbk": "gbk", "csv-bom": "utf-8-sig"}.get(fmt, "utf-8")
        return list(csv.reader(io.StringIO(data.decode(encoding), newline="")))
    assert fmt == "xlsx"
    book = openpyxl.load_workbook(path)
    return [
        ["" if v is None else str(v) for v in row]
        for row in book.worksheets[0].iter_rows(values_only=True)
    ]


def write(tmp_path, fmt="csv", rows=60, seed=4, **options):
    path = tmp_path / ("roster.xlsx" if fmt == "xlsx" else "roster.csv")
    return generate_roster(path, fmt=fmt, rows=rows, seed=seed, **options), path


def read_money(text: str) -> Decimal:
    """Read a money cell as the generator writes it: 1234.5, 1,234.50元 or empty."""
    return Decimal(text.replace(",", "").removesuffix("元") or 0)


def data_rows(table: list[list[str]]) -> list[list[str]]:
    return [row for row in table if row and re.fullmatch(r"[0-9]+", row[0])]


def test_a_seed_pays_the_same_people_the_same_amounts_whatever_the_shape(tmp_path):
    plain, _ = write(tmp_path, per_person=True)
    for options in (
        {"office_headers": True}, {"money": "gross_net"}, {"money": "parts"},
        {"amount_words": True}, {"pay_dates": "month"}, {"contact_columns": True},
        {"repeat_header_every": 7}, {"id_column": "disability"}, {"accounts": "grouped"},
    ):  # fmt: skip
        shaped, _ = write(tmp_path, per_person=True, **options)
        assert (shaped.ids, shaped.total, shaped.households, shaped.name_of) == (
            plain.ids, plain.total, plain.households, plain.name_of,
        ), options  # fmt: skip


def test_office_headers_name_the_recipients_role(tmp_path):
    generated, path = write(tmp_path, office_headers=True, program="耕地地力保护补贴", seed=2)
    header = sheet_rows(path, "csv")[2]
    assert generated.columns["name"] in ("补贴对象", "补贴对象姓名", "享受对象姓名", "救助对象姓名")
    assert generated.columns["amount"] in ("耕地地力保护补贴金额（元）", "本次发放金额（元）")
    assert "身份证" in generated.columns["id_number"]
    assert {generated.columns[n] for n in ("name", "id_number", "amount")} <= set(header)


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_gross_net_writes_a_two_row_header_and_net_is_gross_less_deductions(tmp_path, fmt):
    generated, path = write(tmp_path, fmt=fmt, money="gross_net", rows=80)
    table = sheet_rows(path, fmt)
    top, sub = table[2], table[3]
    gross = sub.index(next(t for t in sub if t.startswith("应发")))
    assert top[gross] in rostergen._MONEY_GROUPS
    assert sub[gross + 1] in ("扣款", "扣减", "扣除") and sub[gross + 2].startswith("实发")
    assert generated.columns["amount"] == f"{top[gross]}/{sub[gross + 2]}"
    assert generated.header_row == ({"roster": 4} if fmt == "csv" else {"花名册": 4})
    money = [[read_money(r[c]) for c in (gross, gross + 1, gross + 2)] for r in data_rows(table)]
    assert all(g - d == n for g, d, n in money)
    assert sum(1 for _g, d, _n in money if d) >= 5, "deductions on some rows"
    assert sum(n for *_, n in money) == generated.total
    totals = next(r for r in table if r[0] == "合计")
    assert [Decimal(totals[c]) for c in (gross, gross + 1, gross + 2)] == [
        generated.money["gross"], generated.money["deduction"], generated.total,
    ]  # fmt: skip


def test_parts_are_beside_their_total_which_is_paid(tmp_path):
    generated, path = write(tmp_path, money="parts", amount_words=True, with_quantity=False)
    table = sheet_rows(path, "csv")
    header = table[2]
    total = header.index(generated.columns["amount"])
    words = header.index(generated.columns["amount_words"])
    assert total == words - 1 and header[total - 2].endswith(("生活补贴", "生活补贴（元）"))
    for row in data_rows(table):
        living, care, paid = (read_money(row[c]) for c in (total - 2, total - 1, total))
        assert living + care == paid
        assert row[words] == amount_in_words(paid)
    totals = next(r for r in table if r[0] == "合计")
    assert Decimal(totals[total]) == generated.total
    assert totals[words] == amount_in_words(generated.total)
    assert Decimal(totals[total - 2]) + Decimal(totals[total - 1]) == generated.total


def test_month_pay_dates_are_written_four_ways(tmp_path):
    generated, path = write(tmp_path, pay_dates="month", period="2026-03", rows=80)
    column = sheet_rows(path, "csv")[2].index(generated.columns["pay_date"])
    written = {row[column] for row in data_rows(sheet_rows(path, "csv"))}
    assert written == {"2026年3月", "2026.03", "202603", "2026-03"}
    assert generated.pay_date is None


def test_contact_columns_hold_phones_and_addresses(tmp_path):
    generated, path = write(tmp_path, contact_columns=True, per_person=True)
    text = path.read_text(encoding="utf-8")
    assert generated.columns["phone"] in ("联系电话", "手机号码", "联系方式")
    assert len(generated.phones) >= generated.rows
    assert len(generated.addresses) == generated.households
    assert all(phone in text for phone in generated.phones)
    assert all(address in text for address in generated.addresses)
    assert all(re.fullmatch(r"1[3578][0-9]{9}", phone) for phone in generated.phones)


def test_headers_repeat_every_n_rows_as_printed_pages_do(tmp_path):
    generated, path = write(tmp_path, repeat_header_every=10, rows=45, money="gross_net")
    table = sheet_rows(path, "csv")
    headers = [i for i, row in enumerate(table) if row[0] == "序号"]
    titles = [i for i, row in enumerate(table) if row[0].endswith("发放花名册")]
    assert len(headers) == len(titles) == 1 + generated.header_repeats == 5
    assert all(title + 2 == header for title, header in zip(titles, headers, strict=True))
    assert len(data_rows(table)) == 45


def test_repeated_headers_split_the_merged_village_cells(tmp_path):
    generated, path = write(
        tmp_path, fmt="xlsx", repeat_header_every=8, rows=30, villages=["东风村"]
    )
    sheet = openpyxl.load_workbook(path).worksheets[0]
    village = [str(r) for r in sheet.merged_cells.ranges if str(r).startswith("B")]
    assert len(village) == 1 + generated.header_repeats
    for cells in village:
        top = sheet[cells.split(":")[0]].value
        assert top == "东风村"


def test_a_disability_number_is_the_id_and_two_digits(tmp_path):
    generated, path = write(tmp_path, id_column="disability")
    column = sheet_rows(path, "csv")[2].index(generated.columns["id_number"])
    assert "残疾" in generated.columns["id_number"] and "id_number" in generated.columns
    numbers = [row[column] for row in data_rows(sheet_rows(path, "csv"))]
    assert numbers == generated.disability_numbers
    for number, id_number in zip(numbers, generated.ids, strict=True):
        assert number[:18].upper() == id_number and re.fullmatch(r"[1-7][1-4]", number[18:])
    assert not any("身份证" in text for text in sheet_rows(path, "csv")[2])


def test_grouped_accounts_are_the_same_digits(tmp_path):
    generated, path = write(tmp_path, accounts="grouped")
    column = sheet_rows(path, "csv")[2].index(generated.columns["account"])
    written = [row[column] for row in data_rows(sheet_rows(path, "csv"))]
    assert [re.sub(r"[ -]", "", text) for text in written] == generated.accounts
    assert sum(bool(re.fullmatch(r"[0-9]{4}( [0-9]{4}){3} [0-9]{3}", t)) for t in written) > 5
    assert sum(bool(re.fullmatch(r"[0-9]{4}(-[0-9]{4}){3}-[0-9]{3}", t)) for t in written) > 5


def test_unicode_text_is_utf16_with_a_bom_and_tabs(tmp_path):
    generated, path = write(tmp_path, fmt="csv-utf16")
    data = path.read_bytes()
    assert data[:2] == b"\xff\xfe" and b"\r\x00\n\x00" in data
    table = sheet_rows(path, "csv-utf16")
    assert len(data_rows(table)) == generated.rows
    assert {len(row) for row in table} == {len(table[2])}


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_shape_at_once_writes_in_every_format(tmp_path, fmt):
    suffix = "csv" if fmt.startswith("csv") else fmt
    generated = generate_roster(
        tmp_path / f"roster.{suffix}", fmt=fmt, rows=40, seed=9, office_headers=True,
        money="gross_net", amount_words=True, pay_dates="month", contact_columns=True,
        repeat_header_every=15, id_column="disability", accounts="grouped", per_person=True,
        errors={"negative": 1, "check_digit": 1},
    )  # fmt: skip
    assert generated.path.stat().st_size > 0
    assert len(generated.ids) == 38 and {f.kind for f in generated.faults} == {
        "negative", "check_digit",
    }  # fmt: skip


def test_unknown_shapes_are_refused(tmp_path):
    for options in ({"money": "net"}, {"pay_dates": "week"}, {"id_column": "passport"},
                    {"accounts": "dotted"}, {"repeat_header_every": -1}):  # fmt: skip
        with pytest.raises(ValueError):
            generate_roster(tmp_path / "r.csv", fmt="csv", rows=5, seed=1, **options)
