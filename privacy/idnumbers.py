"""Validate Chinese resident ID numbers (GB 11643-1999): checksum, region, birth date, 15 → 18.

Pure functions: no Django, no settings. The one implementation of the check character is
``check_character``; everything else (the fast path, the demo generator, test factories) uses it.
"""

from __future__ import annotations

import operator
import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from privacy.normalize import normalize_id_number

__all__ = [
    "PROVINCE_CODES",
    "REASONS",
    "REASONS_EN",
    "IdCheck",
    "birth_year_and_sex",
    "check_character",
    "check_id_number",
    "clean_valid_id",
    "id_from_cell",
]

#: Province-level codes that may open an ID number (93 appears in published test vectors).
PROVINCE_CODES: frozenset[str] = frozenset(
    {
        *("11", "12", "13", "14", "15"),
        *("21", "22", "23"),
        *("31", "32", "33", "34", "35", "36", "37"),
        *("41", "42", "43", "44", "45", "46"),
        *("50", "51", "52", "53", "54"),
        *("61", "62", "63", "64", "65"),
        *("71", "81", "82", "83", "93"),
    }
)

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK_CHARS = "10X98765432"
_EARLIEST_BIRTH = date(1900, 1, 1)

#: Human messages by machine code. Keep the codes stable; the Chinese is the source text.
REASONS: dict[str, str] = {
    "empty": "身份证号为空",
    "not_digits": "身份证号只能包含数字，末位可以是X",
    "length": "身份证号应为18位（或15位旧号码）",
    "region": "身份证号前两位不是有效的省级行政区划代码",
    "birth_date": "身份证号中的出生日期无效",
    "future_birth_date": "身份证号中的出生日期晚于今天",
    "check_digit": "身份证号校验位不正确",
    "excel_number": "身份证号被Excel当成了数字，后几位已经丢失；请把该列设置为文本格式后重新填写",
    "masked": "身份证号已脱敏（含 *）：这是校验结果或公示文件，不是原始花名册；请上传原始花名册",
}

#: English translations of ``REASONS``, by the same codes.
REASONS_EN: dict[str, str] = {
    "empty": "The ID number is empty",
    "not_digits": "The ID number may contain only digits, with an optional final X",
    "length": "The ID number must have 18 digits (or 15 for an old number)",
    "region": "The first two digits of the ID number are not a valid province code",
    "birth_date": "The birth date in the ID number is not a real date",
    "future_birth_date": "The birth date in the ID number is later than today",
    "check_digit": "The check digit of the ID number is wrong",
    "excel_number": (
        "Excel turned the ID number into a number and its last digits are lost; "
        "format the column as text and enter it again"
    ),
    "masked": (
        "The ID number is masked (it has *): this is an error report or a public notice, "
        "not the original roster; upload the original roster"
    ),
}

_SCIENTIFIC = re.compile(r"[0-9](?:\.[0-9]+)?E[+]?[0-9]+")
_FLOAT_TEXT = re.compile(r"[0-9]{15,}\.[0-9]*")
_ID_CHARS = re.compile(r"[0-9X]+")


@dataclass(frozen=True)
class IdCheck:
    """The outcome of checking an ID number."""

    valid: bool
    number: str  # normalised 18-digit form when valid, else the normalised input
    reason: str  # '' when valid
    code: str  # '' when valid, else a key of REASONS
    birth_date: date | None = None
    sex: str = ""  # 'M', 'F' or ''


def check_character(first17: str) -> str:
    """Return the check character (0-9 or X) of the first 17 digits of an ID number."""
    if len(first17) != 17 or not first17.isascii() or not first17.isdigit():
        raise ValueError("the check character is computed from 17 ASCII digits")
    return _check_of_ascii(first17.encode())


_ZERO_WEIGHT_SUM = ord("0") * sum(_WEIGHTS)  # bytes of ASCII digits are their codes


def _check_of_ascii(first17: bytes) -> str:
    """Return the check character of 17 ASCII digit bytes (no validation: the hot path)."""
    total = sum(map(operator.mul, _WEIGHTS, first17)) - _ZERO_WEIGHT_SUM
    return _CHECK_CHARS[total % 11]


def _invalid(number: str, code: str) -> IdCheck:
    return IdCheck(valid=False, number=number, reason=REASONS[code], code=code)


def check_id_number(raw: str, *, today: date | None = None) -> IdCheck:
    """Check an ID number; convert a valid 15-digit legacy number to 18 digits."""
    number = normalize_id_number(raw)
    if not number:
        return _invalid(number, "empty")
    if _SCIENTIFIC.fullmatch(number) or _FLOAT_TEXT.fullmatch(number):
        return _invalid(number, "excel_number")
    if not _ID_CHARS.fullmatch(number):
        return _invalid(number, "masked" if "*" in number else "not_digits")
    if len(number) not in (15, 18):
        return _invalid(number, "length")
    body = number[:17] if len(number) == 18 else number[:6] + "19" + number[6:]
    if not body.isdigit():
        return _invalid(number, "not_digits")
    if body[:2] not in PROVINCE_CODES:
        return _invalid(number, "region")
    try:
        born = date(int(body[6:10]), int(body[10:12]), int(body[12:14]))
    except ValueError:
        return _invalid(number, "birth_date")
    if born < _EARLIEST_BIRTH:
        return _invalid(number, "birth_date")
    if born > (today or date.today()):
        return _invalid(number, "future_birth_date")
    check = check_character(body)
    if len(number) == 18 and number[17] != check:
        # Excel keeps 15 significant digits and pads with zeros: 321083197812162119 → …162000.
        return _invalid(number, "excel_number" if number.endswith("000") else "check_digit")
    return IdCheck(
        valid=True,
        number=body + check,
        reason="",
        code="",
        birth_date=born,
        sex="M" if int(body[16]) % 2 else "F",
    )


#: YYYYMMDD → the date, or None when there is no such day. Whether it is a plausible birth
#: date depends on TODAY, so that is checked on every call, not remembered.
_BIRTH_DATES: dict[str, date | None] = {}


def clean_valid_id(value: object, *, today: date) -> str | None:
    """Return VALUE upper-cased if it is a clean, valid 18-character ID number, else None.

    Most roster cells hold exactly that; this path is several times faster than
    check_id_number, which handles every other form and says what is wrong (call it on None).
    """
    if type(value) is not str or len(value) != 18 or not value.isascii():
        return None
    body = value[:17]
    if not body.isdigit() or body[:2] not in PROVINCE_CODES:
        return None
    last = "X" if value[17] == "x" else value[17]
    if _check_of_ascii(body.encode()) != last:
        return None
    digits = body[6:14]
    try:
        born = _BIRTH_DATES[digits]
    except KeyError:
        try:
            born = date(int(digits[:4]), int(digits[4:6]), int(digits[6:]))
        except ValueError:
            born = None
        if len(_BIRTH_DATES) < 100_000:  # a bounded memo: birth dates repeat a lot
            _BIRTH_DATES[digits] = born
    if born is None or not _EARLIEST_BIRTH <= born <= today:
        return None
    return body + last


def id_from_cell(value: object, *, today: date | None = None) -> IdCheck:
    """Check an ID number as a spreadsheet reader returns it (str, int, float, None)."""
    if value is None:
        return _invalid("", "empty")
    if isinstance(value, bool):
        return _invalid(str(value), "not_digits")
    if isinstance(value, int | float | Decimal):
        text = normalize_id_number(str(value))
        try:
            integral = int(value)
        except (ValueError, OverflowError):  # nan, inf
            return _invalid(text, "not_digits")
        if len(str(abs(integral))) >= 15:
            return _invalid(text, "excel_number")
        if integral != value:
            return _invalid(text, "not_digits")
        return check_id_number(str(integral), today=today)
    return check_id_number(str(value), today=today)


def birth_year_and_sex(number18: str) -> tuple[int, str]:
    """Return the birth year and sex ('M'/'F') an ID number tells; raise ValueError if malformed."""
    number = normalize_id_number(number18)
    if re.fullmatch(r"[0-9]{15}", number):
        number = number[:6] + "19" + number[6:]
    elif not re.fullmatch(r"[0-9]{17}[0-9X]", number):
        raise ValueError("not an 18-digit ID number")
    return int(number[6:10]), "M" if int(number[16]) % 2 else "F"
