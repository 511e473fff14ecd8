"""One cell at a time: pay dates and periods, amounts in figures and in words, accounts."""

from datetime import date, datetime
from decimal import Decimal

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from funds.importing.cells import (
    BadCell,
    period_of,
    read_account,
    read_amount,
    read_amount_words,
    read_pay_date,
)


def problem(read, value) -> BadCell:
    with pytest.raises(BadCell) as caught:
        read(value)
    return caught.value


# --- Pay dates: a month or a period is not an error ------------------------------------------


@pytest.mark.parametrize(
    ("cell", "period"),
    [
        ("2016年11月", "2016-11"),
        ("2016年11月份", "2016-11"),
        ("2016 年 11 月", "2016-11"),
        ("２０１６年１１月", "2016-11"),
        ("2016.11", "2016-11"),
        ("2016.1", "2016-01"),
        ("201611", "2016-11"),
        (201611, "2016-11"),
        (201611.0, "2016-11"),
        (2016.11, "2016-11"),
        ("2016-11", "2016-11"),
        ("2016/11", "2016-11"),
        ("2016/3", "2016-03"),
        ("2016年10-12月", "2016-10..2016-12"),
        ("2016年10月-12月", "2016-10..2016-12"),
        ("2016年10月至12月", "2016-10..2016-12"),
        ("2016年10月～12月", "2016-10..2016-12"),
        ("2016.10-2016.12", "2016-10..2016-12"),
        ("2016年11月-2017年2月", "2016-11..2017-02"),
        ("2016年第四季度", "2016-10..2016-12"),
        ("2016年四季度", "2016-10..2016-12"),
        ("2016年第1季度", "2016-01..2016-03"),
        ("2016Q4", "2016-10..2016-12"),
        ("2016 q2", "2016-04..2016-06"),
        ("2016年上半年", "2016-01..2016-06"),
        ("2016年下半年", "2016-07..2016-12"),
        ("2016年度", "2016-01..2016-12"),
        ("2016年", "2016-01..2016-12"),
        ("1990年1月", "1990-01"),
        ("2100年12月", "2100-12"),
    ],
)
def test_a_month_or_period_is_an_unknown_pay_date_not_an_error(cell, period):
    """The pay date is then unknown (None); period_of says which months the cell names."""
    assert read_pay_date(cell) is None
    assert period_of(cell) == period


@pytest.mark.parametrize(
    "cell",
    [
        "1989年12月",  # not a plausible year
        "2101年1月",
        "2016年13月",
        "2016年0月",
        "201613",
        "201600",
        "2016.13",
        "2016-00",
        "2016年12-10月",  # a range that runs backwards
        "2017年1月-2016年12月",
        "2016年第五季度",
        "2016Q5",
        "2016年中半年",
        "16年11月",
        "2016",
        "20161",
        "下个月",
        "2016年11月32日",
        "2016-02-30",
    ],
)
def test_what_is_neither_a_date_nor_a_clear_period_stays_an_error(cell):
    assert problem(read_pay_date, cell).code == "bad_date"
    assert period_of(cell) is None


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("2016-11-05", date(2016, 11, 5)),
        ("2016年11月5日", date(2016, 11, 5)),
        ("2016.11.5", date(2016, 11, 5)),
        ("20161105", date(2016, 11, 5)),
        ("２０１６－１１－０５", date(2016, 11, 5)),
        ("2016/11/5 0:00", date(2016, 11, 5)),
        ("2016-11-05 00:00:00", date(2016, 11, 5)),
        (42679, date(2016, 11, 5)),  # an Excel serial shown as a number
        (42679.0, date(2016, 11, 5)),
        (datetime(2016, 11, 5, 9, 30), date(2016, 11, 5)),
        (date(2016, 11, 5), date(2016, 11, 5)),
    ],
)
def test_full_dates_are_still_read_and_name_no_period(cell, expected):
    assert read_pay_date(cell) == expected
    assert period_of(cell) is None


@pytest.mark.parametrize("cell", [None, "", "  "])
def test_an_empty_pay_date_is_unknown_and_names_no_period(cell):
    """Empty and "a month was given" both read as None; period_of tells them apart."""
    assert read_pay_date(cell) is None
    assert period_of(cell) is None


def test_a_number_excel_cut_short_names_no_month_for_sure():
    """2016.10 typed into Excel becomes the number 2016.1: October or January, nobody knows."""
    assert read_pay_date(2016.1) is None
    assert period_of(2016.1) is None
    assert period_of(2016.12) == "2016-12"


# --- Amounts written as text -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("cell", "amount"),
    [
        ("1234.5", "1234.50"),
        ("1,234.50", "1234.50"),
        ("1，234.50", "1234.50"),
        ("1 234.50", "1234.50"),
        ("1\u3000234.50", "1234.50"),
        ("1,234,567.00", "1234567.00"),
        ("１，２３４．５０", "1234.50"),
        ("１２３４", "1234.00"),
        ("12元", "12.00"),
        ("12元整", "12.00"),
        ("12.50元正", "12.50"),
        ("¥1,234.50", "1234.50"),
        ("￥ 1,234.50 元整", "1234.50"),
        ("人民币1,234.50元", "1234.50"),
        ("RMB 12.00", "12.00"),
        ("壹仟贰佰叁拾肆元伍角", "1234.50"),  # a roster with the amount in words only
        ("人民币伍佰元整", "500.00"),
    ],
)
def test_amount_text_as_offices_write_it(cell, amount):
    assert read_amount(cell) == Decimal(amount)
    assert str(read_amount(cell)) == amount


@pytest.mark.parametrize(
    ("cell", "code"),
    [
        ("1,2,3", "bad_separators"),
        ("12,34.00", "bad_separators"),
        ("1,234,56", "bad_separators"),
        ("1 2", "bad_separators"),
        (",123", "bad_separators"),
        ("1.234,50", "bad_separators"),
        ("12元整元", "not_number"),
        ("五百", "not_number"),
        ("壹佰伍元", "amount_words_invalid"),
        ("(1,234.00)", "amount_negative"),
    ],
)
def test_amount_text_that_cannot_be_trusted_is_an_error(cell, code):
    error = problem(read_amount, cell)
    assert error.code == code
    assert cell not in error.message


def test_thousands_separators_in_measures_are_checked_too():
    from funds.importing.cells import read_measure

    assert read_measure("1,234.5", "面积") == Decimal("1234.5")
    assert problem(lambda v: read_measure(v, "面积"), "12,34").code == "bad_separators"


# --- Amounts in words (大写) -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("words", "amount"),
    [
        ("壹仟贰佰叁拾元伍角", "1230.50"),
        ("人民币贰万零伍拾元整", "20050.00"),
        ("叁佰元零伍分", "300.05"),
        ("叁佰元伍分", "300.05"),
        ("壹拾元", "10.00"),
        ("拾元", "10.00"),
        ("拾伍万元整", "150000.00"),
        ("零元整", "0.00"),
        ("零元", "0.00"),
        ("伍角", "0.50"),
        ("伍角整", "0.50"),
        ("叁分", "0.03"),
        ("零元伍角叁分", "0.53"),
        ("壹仟陆佰捌拾元零叁角贰分", "1680.32"),
        ("壹仟陆佰捌拾元叁角贰分", "1680.32"),
        ("壹拾万柒仟元伍角叁分", "107000.53"),
        ("壹拾万零柒仟元零伍角叁分", "107000.53"),
        ("壹万零伍元", "10005.00"),
        ("壹佰零伍元", "105.00"),
        ("壹仟零伍拾元", "1050.00"),
        ("壹仟伍拾元", "1050.00"),
        ("玖仟玖佰玖拾玖万玖仟玖佰玖拾玖元玖角玖分", "99999999.99"),
        ("壹亿元整", "100000000.00"),
        ("壹亿零伍佰万元", "105000000.00"),
        ("玖仟玖佰玖拾玖亿玖仟玖佰玖拾玖万玖仟玖佰玖拾玖元玖角玖分", "999999999999.99"),
        ("壹佰圆整", "100.00"),
        ("壹佰元正", "100.00"),
        ("人民币：壹佰元整", "100.00"),
        ("人民币 壹仟 贰佰元 整", "1200.00"),
        ("一千二百三十元五角", "1230.50"),
        ("十元", "10.00"),
        ("两百元", "200.00"),
        ("二万零五十元整", "20050.00"),
        ("壹萬貳仟參佰元整", "12300.00"),  # traditional forms
    ],
)
def test_amount_in_words_is_read_exactly(words, amount):
    read = read_amount_words(words)
    assert isinstance(read, Decimal)
    assert str(read) == amount


@pytest.mark.parametrize(
    ("words", "names"),
    [
        ("壹佰", "元"),
        ("壹佰整", "元"),
        ("人民币整", "元"),
        ("壹佰伍元", "数位"),  # 150 or 105? the 零 is missing
        ("壹万伍元", "数位"),
        ("壹贰元", "数位"),
        ("壹佰零伍拾元", "零"),  # 零 where no digit is missing
        ("壹万零伍仟元", "零"),
        ("零伍元", "零"),
        ("壹佰零元", "零"),
        ("壹拾零万元", "零"),
        ("壹佰零零伍元", "零"),
        ("佰元", "数位"),
        ("壹佰拾元", "数位"),
        ("壹拾壹佰元", "数位"),
        ("壹佰壹佰元", "数位"),
        ("壹万壹万元", "数位"),
        ("壹万亿元", "数位"),
        ("万元", "数位"),
        ("壹佰元伍分叁角", "角"),
        ("壹佰元伍角零叁分", "角"),
        ("壹佰元伍", "角"),
        ("壹佰元零", "角"),
        ("壹佰元拾角", "角"),
        ("100元", "大写数字"),
        ("壹佰元整整", "大写数字"),
        ("负壹佰元", "大写数字"),
        ("壹佰美元", "大写数字"),
        ("abc", "大写数字"),
    ],
)
def test_malformed_amount_in_words_is_refused_naming_the_problem(words, names):
    error = problem(read_amount_words, words)
    assert error.code == "amount_words_invalid"
    assert names in error.message
    assert words not in error.message


@pytest.mark.parametrize("value", [None, "", " \u3000"])
def test_empty_amount_in_words_is_an_empty_amount(value):
    assert problem(read_amount_words, value).code == "amount_empty"


@pytest.mark.parametrize("value", [100, 100.5, Decimal("100"), date(2016, 1, 1)])
def test_a_number_is_not_an_amount_in_words(value):
    assert problem(read_amount_words, value).code == "amount_words_invalid"


# The oracle: how a clerk writes an amount in words, by the rules of the 《支付结算办法》,
# with the variants they allow. Written independently of the parser it checks.
CAPITALS = "零壹贰叁肆伍陆柒捌玖"
LOWERCASE = "零一二三四五六七八九"
PLACES = ("", "拾", "佰", "仟")
LOWER_PLACES = {"拾": "十", "佰": "百", "仟": "千"}


def yuan_in_words(number: int, zero_after_section: bool) -> str:
    """Write a whole number of yuan: one 零 for each run of zeros between nonzero digits."""
    digits = str(number)
    out: list[str] = []
    zeros = False
    for index, char in enumerate(digits):
        place = len(digits) - 1 - index
        if char == "0":
            zeros = True
        else:
            if zeros and out:
                out.append("零")
            zeros = False
            out.append(CAPITALS[int(char)] + PLACES[place % 4])
        if place in (4, 8) and int(digits[max(0, index - 3) : index + 1]):
            out.append("万" if place == 4 else "亿")
            # A section that ends in zeros may carry its 零 over to the next, or not.
            zeros = zeros and zero_after_section
    return "".join(out)


def in_words(amount: Decimal, variant: dict[str, bool]) -> str:
    """Write AMOUNT in words as a clerk would, choosing among the allowed variants."""
    cents = int(amount * 100)
    yuan, jiao, fen = cents // 100, cents // 10 % 10, cents % 10
    text = ""
    if yuan or not (jiao or fen) or variant["zero_yuan"]:
        text = (yuan_in_words(yuan, variant["zero_section"]) if yuan else "零") + "元"
    if jiao:
        if yuan and yuan % 10 == 0 and variant["zero_before_jiao"]:
            text += "零"
        text += CAPITALS[jiao] + "角"
    elif fen and yuan:
        text += "零"
    if fen:
        text += CAPITALS[fen] + "分"
    elif not jiao or variant["whole_after_jiao"]:
        text += "整"
    if variant["prefix"]:
        text = "人民币" + text
    if variant["lowercase"]:
        text = text.translate(str.maketrans(CAPITALS, LOWERCASE)).translate(
            str.maketrans(LOWER_PLACES)
        )
    return text


#: Amounts with many zeros in them: where 零 goes is the interesting part.
ZERO_HEAVY = st.text(alphabet="000000123456789", min_size=1, max_size=10).map(
    lambda digits: Decimal(int(digits)).scaleb(-2)
)
AMOUNTS = st.one_of(
    st.integers(0, 9_999_999_999).map(lambda cents: Decimal(cents).scaleb(-2)), ZERO_HEAVY
)
VARIANT_NAMES = (
    "zero_section", "zero_yuan", "zero_before_jiao", "whole_after_jiao", "prefix", "lowercase",
)  # fmt: skip
VARIANTS = st.fixed_dictionaries(dict.fromkeys(VARIANT_NAMES, st.booleans()))
PLAIN = dict.fromkeys(VARIANT_NAMES, False)


@given(amount=AMOUNTS, variant=VARIANTS)
@example(amount=Decimal("107000.53"), variant=PLAIN)
@example(amount=Decimal("0.00"), variant=PLAIN)
def test_amount_in_words_reads_back_exactly(amount, variant):
    """Whatever a clerk writes by the rules, the parser reads back the amount to the cent."""
    words = in_words(amount, variant)
    assert read_amount_words(words) == amount, words
    assert str(read_amount_words(words)) == str(amount.quantize(Decimal("0.01")))


def test_the_oracle_writes_the_rules_examples():
    """The oracle itself matches the examples of the 《支付结算办法》."""
    assert in_words(Decimal("1409.50"), PLAIN) == "壹仟肆佰零玖元伍角"
    assert in_words(Decimal("6007.14"), PLAIN) == "陆仟零柒元壹角肆分"
    assert in_words(Decimal("1680.32"), {**PLAIN, "zero_before_jiao": True}) == (
        "壹仟陆佰捌拾元零叁角贰分"
    )
    assert in_words(Decimal("107000.53"), {**PLAIN, "zero_section": True}) == (
        "壹拾万零柒仟元伍角叁分"
    )
    assert in_words(Decimal("325.04"), PLAIN) == "叁佰贰拾伍元零肆分"
    assert in_words(Decimal("100000000"), PLAIN) == "壹亿元整"


# --- Accounts --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "cell",
    [
        "6217000012345678901",
        "6217 0000 1234 5678 901",
        "6217-0000-1234-5678-901",
        "6217–0000–1234–5678–901",  # en dash
        "6217—0000—1234—5678—901",  # em dash
        "6217－0000－1234－5678－901",  # full-width hyphen
        "６２１７　００００　１２３４　５６７８　９０１",
        "'6217000012345678901",
        "’6217000012345678901",  # the apostrophe a Chinese input method types
        "\t6217000012345678901",  # exports put a tab in front to keep Excel off the digits
        '="6217000012345678901"',  # … or write the account as an Excel formula
    ],
)
def test_accounts_written_in_groups_read_as_digits(cell):
    assert read_account(cell) == "6217000012345678901"


@pytest.mark.parametrize(
    ("cell", "code"),
    [
        (6217000012345678901, "account_excel_number"),
        (6.217000012345679e18, "account_excel_number"),
        ("6.217E+18", "account_excel_number"),
        ("６.２１７Ｅ＋１８", "account_excel_number"),
        ("6217-ABC-0001", "account_invalid"),
        ("6217.0000", "account_invalid"),
    ],
)
def test_accounts_that_lost_digits_or_are_not_digits_stay_errors(cell, code):
    assert problem(read_account, cell).code == code


@pytest.mark.parametrize("cell", ["-1234.56", "(77.10)", "9999999999999.99", "壹佰伍元"])
def test_amount_messages_name_the_problem_never_the_figure(cell):
    with pytest.raises(BadCell) as raised:
        read_amount(cell) if "元" not in cell else read_amount_words(cell)
    assert not any(run in raised.value.message for run in ("1234", "77.1", "9999", "壹佰伍"))


@pytest.mark.parametrize("cell", [1234.56, -5, -1234.0])
def test_a_number_that_is_no_account_is_refused_not_hashed_later(cell):
    """An account cell holding 1234.56 passed validation, then failed in hashing."""
    with pytest.raises(BadCell) as raised:
        read_account(cell)
    assert raised.value.code == "account_invalid"
