"""One cell at a time: pay dates and periods."""

from datetime import date, datetime

import pytest

from funds.importing.cells import BadCell, period_of, read_pay_date


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
