"""ID numbers are validated as GB 11643-1999 says, and personal data is hashed with a key."""

from __future__ import annotations

import json
import os
import re
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from privacy.hashing import hash_account, hash_id_number, hash_name, keyed_hash
from privacy.idnumbers import (
    PROVINCE_CODES,
    REASONS,
    REASONS_EN,
    IdCheck,
    birth_year_and_sex,
    check_character,
    check_id_number,
    clean_valid_id,
    id_from_cell,
)
from privacy.normalize import normalize_account, normalize_id_number, normalize_name
from tests.privacy.oracle import check_char

TODAY = date(2025, 6, 1)
KEY = b"k" * 32
OTHER_KEY = b"q" * 32
VALID = "321083197812162119"
FULL_WIDTH = str.maketrans("0123456789Xx", "０１２３４５６７８９Ｘｘ")


# --- Reference vectors -----------------------------------------------------------------------


# The vectors of ../shared/reference/ are copied into tests/fixtures/ so the suite never
# depends on a folder outside the repository; a test below keeps the copy faithful.
VECTORS_PATH = Path(__file__).resolve().parents[1] / "fixtures" / "cn_id_vectors.json"
SHARED_VECTORS_PATH = (
    Path(os.environ.get("SUNLIGHT_SHARED_DIR", Path(__file__).resolve().parents[3] / "shared"))
    / "reference"
    / "cn_id_vectors.json"
)
VECTORS = json.loads(VECTORS_PATH.read_text(encoding="utf-8"))


def _params(section: str, *, pairs: bool = False) -> list:
    """Return one pytest param per entry of SECTION."""
    entries = VECTORS[section]
    return list(entries.items()) if pairs else list(entries)


@pytest.mark.skipif(not SHARED_VECTORS_PATH.is_file(), reason="no ../shared checkout beside")
def test_vector_copy_matches_the_shared_reference():
    shared = json.loads(SHARED_VECTORS_PATH.read_text(encoding="utf-8"))
    assert shared == VECTORS


# Which codes each kind of invalid entry may get, by words in its description.
EXPECTED_CODES = [
    ("impossible birth date and region", {"region", "birth_date", "future_birth_date"}),
    ("wrong check digit", {"check_digit"}),
    ("month 13", {"birth_date"}),
    ("30 february", {"birth_date"}),
    ("day 32", {"birth_date"}),
    ("no such region code", {"region"}),
    ("wrong length", {"length"}),
    ("not digits", {"not_digits"}),
    ("bad check character", {"not_digits", "check_digit"}),
]


def test_vector_file_has_every_section():
    for section in ("valid_18", "valid_18_lowercase_x_normalises_to_upper", "valid_15_to_18"):
        assert VECTORS[section], section
    assert len(VECTORS["invalid"]) >= 10


@pytest.mark.parametrize("number", _params("valid_18"))
def test_reference_valid_18_digit_numbers_are_valid(number):
    check = check_id_number(number, today=TODAY)
    assert check == IdCheck(
        valid=True,
        number=number,
        reason="",
        code="",
        birth_date=date(int(number[6:10]), int(number[10:12]), int(number[12:14])),
        sex="M" if int(number[16]) % 2 else "F",
    )


@pytest.mark.parametrize("number", _params("valid_18_lowercase_x_normalises_to_upper"))
def test_reference_lowercase_x_is_normalised_to_upper_case(number):
    assert number.endswith("x")
    check = check_id_number(number, today=TODAY)
    assert check.valid, check.code
    assert check.number == number.upper()


@pytest.mark.parametrize(("number15", "number18"), _params("valid_15_to_18", pairs=True))
def test_reference_15_digit_numbers_become_the_expected_18_digits(number15, number18):
    assert len(number15) == 15
    check = check_id_number(number15, today=TODAY)
    assert check.valid, check.code
    assert check.number == number18
    assert check.birth_date == date(int(number18[6:10]), int(number18[10:12]), int(number18[12:14]))


@pytest.mark.parametrize(("number", "why"), _params("invalid", pairs=True))
def test_reference_invalid_numbers_are_invalid_for_the_stated_reason(number, why):
    check = check_id_number(number, today=TODAY)
    assert not check.valid
    assert check.reason == REASONS[check.code]
    allowed = next((codes for words, codes in EXPECTED_CODES if words in why.lower()), None)
    assert allowed is not None, f"no expectation for the description {why!r}; add one"
    assert check.code in allowed, (number, why, check.code)


# --- Normalisation and validation --------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (VALID, VALID),
        (VALID.translate(FULL_WIDTH), VALID),
        (" 321083 19781216 2119 ", VALID),
        ("\u3000321083\u300019781216\t2119\n", VALID),
        ("321083-19781216-2119", VALID),
        ("321083\u00a019781216\u200b2119", VALID),
        ("'321083197812162119", VALID),
        ("44011320141005001x", "44011320141005001X"),
        ("44011320141005001ｘ", "44011320141005001X"),
        ("", ""),
    ],
)
def test_normalize_id_number(raw, expected):
    assert normalize_id_number(raw) == expected


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("", "empty"),
        ("   \u3000", "empty"),
        ("32108319781216211", "length"),
        ("3210831978121621199", "length"),
        ("3210831978121621X9", "not_digits"),
        ("32108319781216211Y", "not_digits"),
        ("32108319781216211８", "check_digit"),  # full-width 8 is read as 8, a wrong check digit
        ("001083197812162119", "region"),
        ("901083197812162119", "region"),
        ("110101189912311230", "birth_date"),  # born before 1900
        ("110101199002290011", "birth_date"),  # 1990 is no leap year
        ("110101202507010010", "future_birth_date"),  # after TODAY
        ("3.21083197812162E+17", "excel_number"),
        ("3.21083197812162e17", "excel_number"),
        ("321083197812162000", "excel_number"),  # Excel's 15 significant digits, zero padded
        ("321083197812162119.0", "excel_number"),
    ],
)
def test_check_id_number_gives_a_stable_code(raw, code):
    check = check_id_number(raw, today=TODAY)
    assert (check.valid, check.code) == (False, code)
    assert check.reason == REASONS[code]
    assert check.birth_date is None
    assert check.sex == ""
    assert check.number == normalize_id_number(raw)


def test_a_birth_date_of_today_is_accepted_and_tomorrow_is_not():
    body = "110101" + "20250601" + "001"
    number = body + check_char(body)
    assert check_id_number(number, today=date(2025, 6, 1)).valid
    assert check_id_number(number, today=date(2025, 5, 31)).code == "future_birth_date"


@pytest.mark.parametrize("raw", [VALID.translate(FULL_WIDTH), f"\u3000{VALID[:6]} {VALID[6:]}　"])
def test_full_width_and_padded_numbers_are_valid(raw):
    check = check_id_number(raw, today=TODAY)
    assert check.valid
    assert check.number == VALID
    assert (check.birth_date, check.sex) == (date(1978, 12, 16), "M")


@pytest.mark.parametrize(
    ("number", "sex"),
    [("33010219200403064X", "F"), ("810000199408230021", "F"), ("81000019980902013X", "M")],
)
def test_sex_comes_from_the_17th_digit(number, sex):
    assert check_id_number(number, today=TODAY).sex == sex


@given(
    region=st.sampled_from(sorted(PROVINCE_CODES)),
    rest=st.from_regex(r"[0-9]{4}", fullmatch=True),
    born=st.dates(min_value=date(1900, 1, 1), max_value=TODAY),
    serial=st.from_regex(r"[0-9]{3}", fullmatch=True),
)
def test_any_well_formed_number_is_valid_and_any_other_check_digit_is_not(
    region, rest, born, serial
):
    body = region + rest + born.strftime("%Y%m%d") + serial
    check = check_id_number(body + check_char(body), today=TODAY)
    assert check.valid
    assert check.birth_date == born
    for wrong in set("0123456789X") - {check_char(body)}:
        assert not check_id_number(body + wrong, today=TODAY).valid


@given(body=st.from_regex(r"[0-9]{17}", fullmatch=True))
def test_the_check_character_agrees_with_the_standards_definition(body):
    assert check_character(body) == check_char(body)


@pytest.mark.parametrize(
    "body", ["", "1" * 16, "1" * 18, "1" * 16 + "X", "１" * 17, "1" * 16 + "a"]
)
def test_the_check_character_refuses_anything_but_17_ascii_digits(body):
    with pytest.raises(ValueError):
        check_character(body)


def test_every_code_has_a_chinese_and_an_english_reason():
    assert set(REASONS) == set(REASONS_EN)
    assert {"length", "not_digits", "check_digit", "region", "birth_date"} <= set(REASONS)
    assert {"future_birth_date", "excel_number", "empty"} <= set(REASONS)
    assert all(re.search(r"[\u4e00-\u9fff]", text) for text in REASONS.values())
    assert all(text.isascii() for text in REASONS_EN.values())
    assert "设置为文本格式" in REASONS["excel_number"]


# --- Spreadsheet cells -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        321083197812162119,
        321083197812162000,
        3.21083197812162e17,
        150102880730303,  # a 15-digit number survives as a number, but the column is wrong
        Decimal("321083197812162119"),
        "3.21083197812162E+17",
        "321083197812162000",
    ],
)
def test_cells_that_excel_turned_into_numbers_are_rejected(value):
    check = id_from_cell(value, today=TODAY)
    assert (check.valid, check.code) == (False, "excel_number")
    assert "设置为文本格式" in check.reason


@pytest.mark.parametrize(
    ("value", "code"),
    [(None, "empty"), (True, "not_digits"), (12345, "length"), (12.5, "not_digits")],
)
def test_other_odd_cells_are_rejected(value, code):
    assert id_from_cell(value, today=TODAY).code == code


def test_not_a_number_cell_is_rejected():
    assert id_from_cell(float("nan"), today=TODAY).code == "not_digits"


@pytest.mark.parametrize(
    "value", [VALID, f" {VALID} ", VALID.translate(FULL_WIDTH), "150102880730303"]
)
def test_text_cells_are_checked_as_id_numbers(value):
    check = id_from_cell(value, today=TODAY)
    assert check.valid
    assert len(check.number) == 18


# --- Birth year and sex ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("number", "expected"),
    [
        (VALID, (1978, "M")),
        ("33010219200403064X", (1920, "F")),
        ("44011320141005001x", (2014, "M")),
        ("150102880730303", (1988, "M")),
    ],
)
def test_birth_year_and_sex(number, expected):
    assert birth_year_and_sex(number) == expected


@pytest.mark.parametrize("number", ["", "12345", "3210831978121621X9", "abc"])
def test_birth_year_and_sex_rejects_malformed_numbers(number):
    with pytest.raises(ValueError):
        birth_year_and_sex(number)


# --- Names and accounts ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("张三", "张三"),
        ("　张 三 ", "张三"),
        ("张\t小\u00a0三\n", "张小三"),
        ("欧阳　娜娜", "欧阳娜娜"),
        ("买买提·艾力", "买买提·艾力"),
        ("买买提•艾力", "买买提·艾力"),
        ("买买提・艾力", "买买提·艾力"),
        ("买买提.艾力", "买买提·艾力"),
        ("ＡＢＣ", "ABC"),
        ("", ""),
    ],
)
def test_normalize_name(raw, expected):
    assert normalize_name(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("6222021234567890123", "6222021234567890123"),
        ("6222 0212 3456 7890 123", "6222021234567890123"),
        ("6222-0212-3456-7890-123", "6222021234567890123"),
        ("６２２２　０２１２", "62220212"),
    ],
)
def test_normalize_account(raw, expected):
    assert normalize_account(raw) == expected


@pytest.mark.parametrize("raw", ["6222O212", "6222/0212", "账号6222"])
def test_normalize_account_rejects_anything_but_digits(raw):
    with pytest.raises(ValueError):
        normalize_account(raw)


# --- Keyed hashes ----------------------------------------------------------------------------


def test_keyed_hash_is_pinned_so_stored_hashes_stay_comparable():
    assert keyed_hash("abc", key=KEY, version=1) == (
        "v1:c2b84cb6bd701de56667217dded419dcb82427a4cc35d7df620a1429fc21e2f1"
    )
    assert hash_id_number(VALID, key=KEY, version=1) == (
        "v1:842bcdd9570dd4b885467cec79f0033d1f5bc2fc803e05682419fe40a564ef75"
    )


@pytest.mark.parametrize("version", [1, 2, 17])
def test_keyed_hash_shows_its_key_version(version):
    digest = keyed_hash("abc", key=KEY, version=version)
    assert re.fullmatch(rf"v{version}:[0-9a-f]{{64}}", digest)
    assert digest == keyed_hash("abc", key=KEY, version=version)


@pytest.mark.parametrize(
    "make",
    [
        lambda key, version: keyed_hash("abc", key=key, version=version),
        lambda key, version: hash_id_number(VALID, key=key, version=version),
        lambda key, version: hash_account("6222021234567890123", key=key, version=version),
        lambda key, version: hash_name("张三", key=key, version=version),
    ],
    ids=["keyed_hash", "id", "account", "name"],
)
def test_hashes_are_stable_and_differ_by_key_and_by_version(make):
    base = make(KEY, 1)
    assert base == make(KEY, 1)
    assert base != make(OTHER_KEY, 1)
    other_version = make(KEY, 2)
    assert other_version.startswith("v2:")
    assert base.split(":")[1] != other_version.split(":")[1]


def test_hashes_are_domain_separated():
    digits = VALID  # a valid ID, and a valid account number, and hashable as a "name"
    hashes = {
        hash_id_number(digits, key=KEY, version=1),
        hash_account(digits, key=KEY, version=1),
        hash_name(digits, key=KEY, version=1),
        keyed_hash(digits, key=KEY, version=1),
    }
    assert len(hashes) == 4


@pytest.mark.parametrize(
    ("left", "right"),
    [
        (VALID, VALID.translate(FULL_WIDTH)),
        (VALID, f" {VALID[:6]}　{VALID[6:14]}-{VALID[14:]} "),
        ("44011320141005001X", "44011320141005001x"),
        ("150102198807303035", "150102880730303"),
    ],
)
def test_id_hash_ignores_how_the_number_was_written(left, right):
    assert hash_id_number(left, key=KEY, version=1) == hash_id_number(right, key=KEY, version=1)


@pytest.mark.parametrize(
    ("left", "right"),
    [
        ("6222021234567890123", "6222 0212 3456 7890 123"),
        ("6222021234567890123", "６２２２０２１２３４５６７８９０１２３"),
        ("6222021234567890123", "6222-0212-3456-7890-123"),
    ],
)
def test_account_hash_ignores_how_the_number_was_written(left, right):
    assert hash_account(left, key=KEY, version=1) == hash_account(right, key=KEY, version=1)


@pytest.mark.parametrize(
    ("left", "right"),
    [("张三", "　张 三 "), ("买买提·艾力", "买买提•艾力"), ("李四", "李\u00a0四")],
)
def test_name_hash_ignores_padding_and_dot_variants(left, right):
    assert hash_name(left, key=KEY, version=1) == hash_name(right, key=KEY, version=1)


def test_different_names_hash_differently():
    assert hash_name("张三", key=KEY, version=1) != hash_name("张四", key=KEY, version=1)


def test_invalid_id_numbers_are_not_hashed_and_not_echoed():
    wrong = "440308199901101513"
    with pytest.raises(ValueError) as excinfo:
        hash_id_number(wrong, key=KEY, version=1)
    assert wrong not in str(excinfo.value)
    assert "check_digit" in str(excinfo.value)


@pytest.mark.parametrize(
    "call",
    [
        lambda: hash_account("", key=KEY, version=1),
        lambda: hash_account("6222 abc", key=KEY, version=1),
        lambda: hash_name(" \u3000", key=KEY, version=1),
        lambda: keyed_hash("x", key=b"", version=1),
        lambda: keyed_hash("x", key="not-bytes", version=1),  # type: ignore[arg-type]
        lambda: keyed_hash("x", key=KEY, version=0),
        lambda: keyed_hash("x", key=KEY, version=True),
    ],
    ids=["empty-account", "letters-in-account", "blank-name", "empty-key", "str-key", "v0", "bool"],
)
def test_hashing_refuses_bad_input(call):
    with pytest.raises(ValueError):
        call()


@given(st.text(alphabet="0123456789Xx", min_size=18, max_size=18))
def test_fast_path_agrees_with_the_full_check(text):
    check = check_id_number(text, today=TODAY)
    fast = clean_valid_id(text, today=TODAY)
    assert fast == (check.number if check.valid else None)


@st.composite
def well_formed_numbers(draw) -> str:
    """18-character numbers with a real region and check digit: valid unless the date is off."""
    region = draw(st.sampled_from(sorted(PROVINCE_CODES))) + draw(
        st.from_regex(r"[0-9]{4}", fullmatch=True)
    )
    born = draw(st.dates(min_value=date(1850, 1, 1), max_value=date(2100, 12, 31)))
    body = f"{region}{born:%Y%m%d}" + draw(st.from_regex(r"[0-9]{3}", fullmatch=True))
    return body + check_char(body)


@given(
    well_formed_numbers(),
    st.lists(st.dates(min_value=date(1990, 1, 1), max_value=date(2100, 1, 1)), min_size=2,
             max_size=3),
)  # fmt: skip
def test_fast_path_agrees_with_the_full_check_whatever_the_day(number, days):
    """The fast path remembers birth dates, never whether they were plausible on a given day."""
    for today in days:
        check = check_id_number(number, today=today)
        assert clean_valid_id(number, today=today) == (check.number if check.valid else None)


def test_a_birth_date_in_the_future_stays_refused_after_it_was_seen_in_the_past():
    number = "110101202507010017"  # born 2025-07-01
    assert clean_valid_id(number, today=date(2026, 1, 1)) == number
    assert clean_valid_id(number, today=date(2025, 6, 1)) is None
    assert check_id_number(number, today=date(2025, 6, 1)).code == "future_birth_date"


@pytest.mark.parametrize("number", [*_params("valid_18"), "44011320141005001x"])
def test_fast_path_accepts_every_valid_reference_number(number):
    assert clean_valid_id(number, today=TODAY) == number.upper()


@pytest.mark.parametrize(
    "value", [" 321083197812162119", VALID.translate(FULL_WIDTH), 321083197812162119, None]
)
def test_fast_path_leaves_anything_unclean_to_the_full_check(value):
    assert clean_valid_id(value, today=TODAY) is None
