"""Read one cell of a roster: text, money, measures, dates, accounts and ID numbers.

Pure functions of a cell's value as a reader returns it (str, int, float, date, None). A cell
that cannot be read raises ``BadCell`` with a code and a message that names the problem and
never quotes the cell.

Money comes as figures (``read_amount``: thousands separators, ¥ and 元, full-width digits) or
in words (``read_amount_words``: 壹仟贰佰叁拾元伍角). A pay date may be a full date or only a
month or a period (``read_pay_date`` returns None for those; ``period_of`` says which months).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation

from django.utils.translation import gettext

from privacy.idnumbers import IdCheck, clean_valid_id, id_from_cell

CENT = Decimal("0.01")
_MAX_AMOUNT = Decimal("1000000000000")  # the model keeps 14 digits, 2 after the point

#: Marks around a figure of money that say nothing about its value (after NFKC: ￥ is ¥).
_MONEY_PREFIXES = ("人民币", "RMB", "¥")
_MONEY_SUFFIXES = ("元整", "元正", "圆整", "圆正", "元", "圆")
#: Thousands separators as accountants place them: groups of three, one mark throughout.
_GROUPED = re.compile(r"[0-9]{1,3}(?P<mark>[, ])[0-9]{3}(?:(?P=mark)[0-9]{3})*(?:\.[0-9]*)?")

_DATE_TEXT = re.compile(
    r"([0-9]{4})\s*[-/.年]\s*([0-9]{1,2})\s*[-/.月]\s*([0-9]{1,2})\s*日?"
    r"(?:\s+[0-9]{1,2}:[0-9]{2}(?::[0-9]{2})?)?"  # exports write midnight after the date
)
_EXCEL_EPOCH = date(1899, 12, 30)
#: A month, or a run of months: 2016年11月, 2016.11, 2016年10-12月, 2016.10-2016.12 …
_PERIOD_MONTHS = re.compile(
    r"(?P<y1>[0-9]{4})(?:年|[-/.])(?P<m1>[0-9]{1,2})(?:月份?)?"
    r"(?:[-~〜至到—–](?:(?P<y2>[0-9]{4})(?:年|[-/.]))?(?P<m2>[0-9]{1,2})(?:月份?)?)?"
)
#: A quarter (2016年第四季度, 2016Q4), a half (2016年上半年) or a whole year (2016年度).
_PERIOD_PARTS = re.compile(
    r"(?P<year>[0-9]{4})(?:"
    r"(?:年度?|[-/.])?(?:第?(?P<quarter>[1-4一二三四])季度?|[Qq](?P<q>[1-4]))"
    r"|(?:年度?)?(?P<half>[上下])半年度?"
    r"|年度?(?:全年)?|全年)"
)
_FIRST_YEAR, _LAST_YEAR = 1990, 2100


class BadCell(Exception):
    """A cell that cannot be read; carries the issue code and message."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def cell_text(value: object) -> str:
    """Return a cell as text: integral numbers without '.0', dates ISO, empty as ''."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat() if not value.time() else value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _decimal(value: object, places: int, what: str) -> Decimal:
    """Read a number with at most PLACES decimals from a cell; raise BadCell otherwise."""
    if isinstance(value, bool):
        raise _not_number(what)
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise _not_number(what)
        rounded = round(value, places)
        if abs(value - rounded) > 1e-9 * max(1.0, abs(value)):
            raise _too_many_places(what, places)
        return Decimal(repr(rounded))
    if isinstance(value, int):
        return Decimal(value)
    if not isinstance(value, str):
        raise _not_number(what)
    text = value.strip()
    try:
        number = Decimal(text)  # the common case, a plain figure: no cleaning needed
    except InvalidOperation:
        number = _figure(text, what)
    if not number.is_finite():
        raise _not_number(what)
    exponent = number.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -places and number != round(number, places):
        raise _too_many_places(what, places)
    return number


def _figure(text: str, what: str) -> Decimal:
    """Read a figure as offices type it: ¥ and 元 around it, separators, brackets for minus."""
    if not text.isascii():
        text = unicodedata.normalize("NFKC", text).strip()  # full-width digits, ，and ￥
    text = _strip_affixes(text, _MONEY_PREFIXES, _MONEY_SUFFIXES)
    sign = ""
    if text.startswith("(") and text.endswith(")"):
        sign, text = "-", text[1:-1].strip()  # accountants write negatives in brackets
    elif text[:1] in ("-", "+"):
        sign, text = text[0], text[1:].lstrip()
    grouped = "," in text or " " in text
    bare = text.replace(",", "").replace(" ", "") if grouped else text
    try:
        number = Decimal(sign + bare)
    except InvalidOperation:
        raise _not_number(what) from None
    if grouped and not _GROUPED.fullmatch(text):
        # "1,2,3" or "12,34": a slip of the hand, not a figure to guess at.
        raise BadCell(
            "bad_separators",
            gettext("%(what)s的千位分隔符位置不对") % {"what": gettext(what)},
        )
    return number


def _strip_affixes(text: str, prefixes: tuple[str, ...], suffixes: tuple[str, ...]) -> str:
    """Remove one of PREFIXES and one of SUFFIXES from TEXT, and the spaces beside them."""
    for prefix in prefixes:
        if text.startswith(prefix):
            text = text[len(prefix) :].lstrip()
            break
    for suffix in suffixes:
        if text.endswith(suffix):
            text = text[: -len(suffix)].rstrip()
            break
    return text


def _not_number(what: str) -> BadCell:
    return BadCell("not_number", gettext("%(what)s不是数字") % {"what": gettext(what)})


def _too_many_places(what: str, places: int) -> BadCell:
    return BadCell(
        "too_many_decimals",
        gettext("%(what)s最多保留 %(places)d 位小数") % {"what": gettext(what), "places": places},
    )


def read_amount(value: object) -> Decimal:
    """Read an amount of money: present, non-negative, at most two decimals; figures or words.

    Text such as "1,234.50", "￥1，234.50元整" or "１２３４" is read as a figure; text with no
    digit and a 元, 角 or 分 in it is read as an amount in words (``read_amount_words``).
    """
    if value is None or value == "" or (isinstance(value, str) and not value.strip()):
        raise BadCell("amount_empty", gettext("金额为空"))
    try:
        number = _decimal(value, 2, "金额")
    except BadCell as problem:
        if problem.code == "not_number" and isinstance(value, str) and _in_words(value):
            return read_amount_words(value)
        raise
    if number < 0:
        raise BadCell("amount_negative", gettext("金额不能为负数"))
    if number >= _MAX_AMOUNT:
        raise BadCell("amount_too_large", gettext("金额过大"))
    return number.quantize(CENT)


def _in_words(text: str) -> bool:
    """Say whether TEXT looks like an amount in words: a unit of money and no digit."""
    return any(unit in text for unit in "元圆角分") and not any(ch.isdigit() for ch in text)


#: Digits and places in words, capital (大写) and ordinary, simplified and traditional, mapped
#: to one spelling: digits as 0-9, places as 拾佰仟, 万 亿 元.
_WORD_SPELLING = str.maketrans(
    {
        **dict.fromkeys("零〇", "0"), **dict.fromkeys("壹一", "1"),
        **dict.fromkeys("贰貳二两兩", "2"), **dict.fromkeys("叁參叄三", "3"),
        **dict.fromkeys("肆四", "4"), **dict.fromkeys("伍五", "5"), **dict.fromkeys("陆陸六", "6"),
        **dict.fromkeys("柒七", "7"), **dict.fromkeys("捌八", "8"), **dict.fromkeys("玖九", "9"),
        "十": "拾", "百": "佰", "千": "仟", "萬": "万", "億": "亿", "圆": "元", "圓": "元",
    }
)  # fmt: skip
_WORD_CHARS = frozenset("拾佰仟万亿元角分").union(chr(c) for c in _WORD_SPELLING)
_WORD_PLACES = {"拾": 1, "佰": 2, "仟": 3}
#: 角 and 分 after 元: a 零 may stand for a missing yuan digit or 角.
_WORD_FRACTION = re.compile(r"(?P<zero>0)?(?:(?P<jiao>[1-9])角)?(?:(?P<fen>[1-9])分)?")


def read_amount_words(value: object) -> Decimal:
    """Read an amount written in words (大写) as on financial documents: 壹仟贰佰叁拾元伍角.

    The rules of the 《支付结算办法》: digits 壹…玖 each followed by its place (拾 佰 仟, then 万
    and 亿 for the sections), 零 for a run of missing digits, 元 (or 圆), then 角 and 分, and
    整 (or 正) after 元 or 角. Also read: 人民币 in front, a leading 拾 (拾元 = 10),
    ordinary numerals (一千二百) and traditional forms. A 零 is optional where nothing is
    ambiguous (叁佰元伍分) but must be where its absence changes the value: 壹佰伍元 (150 in
    speech, 105 in figures) is refused. Anything malformed raises BadCell
    ("amount_words_invalid") naming the problem.
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        raise BadCell("amount_empty", gettext("金额为空"))
    if not isinstance(value, str):
        raise _words_problem(gettext("大写金额应写成汉字，不能是数字或日期"))
    text = "".join(unicodedata.normalize("NFKC", value).split())
    text = _strip_affixes(text.removeprefix("人民币").removeprefix(":"), (), ("整", "正"))
    if not text:
        raise _words_problem(gettext("大写金额缺少“元”字"))
    if not _WORD_CHARS.issuperset(text):
        raise _words_problem(gettext("大写金额中有不能识别的字：只能用大写数字和元、角、分、整"))
    text = text.translate(_WORD_SPELLING)
    yuan, has_yuan, fraction = text.partition("元")
    if not has_yuan:
        if not text.endswith(("角", "分")):
            raise _words_problem(gettext("大写金额缺少“元”字"))
        yuan, fraction = "", text
    match = _WORD_FRACTION.fullmatch(fraction)
    if match is None or (match["zero"] and not (yuan and (match["jiao"] or match["fen"]))):
        raise _words_problem(gettext("大写金额的角、分写法不对"))
    cents = int(match["jiao"] or 0) * 10 + int(match["fen"] or 0)
    whole = _yuan_words(yuan) if has_yuan else 0
    return (Decimal(whole) + Decimal(cents).scaleb(-2)).quantize(CENT)


def _yuan_words(text: str) -> int:
    """Return the whole yuan of an amount in words, written with digits 0-9 (零 is 0)."""
    if text == "0":
        return 0
    items: list[tuple[int, int, bool, bool]] = []  # digit, power of ten, no place, after 零
    for mark, power in (("亿", 8), ("万", 4)):
        section, found, rest = text.partition(mark)
        if found:
            items += _section_words(section, power, first=not items)
            text = rest
    if text or not items:
        items += _section_words(text, 0, first=not items)
    previous = None
    for _digit, power, bare, zero in items:
        if zero and (previous is None or power >= previous - 1):
            raise _misplaced_zero()  # no digit is missing where it stands
        if bare and not zero and previous is not None and power != previous - 1:
            # 壹佰伍元: 150 in speech, 105 in figures. The 零 (or the 拾) must say which.
            raise _missing_place()
        previous = power
    return sum(digit * 10**power for digit, power, _bare, _zero in items)


def _section_words(text: str, power: int, *, first: bool) -> list[tuple[int, int, bool, bool]]:
    """Split one section (below 万, 亿 or 元) into (digit, power, no place, after 零) items."""
    if not text:
        raise _wrong_order()  # 万 or 元 with no number before it
    items = []
    digit: int | None = None
    zero = False
    last_place = 4
    for index, char in enumerate(text):
        if char == "0":
            if zero or digit is not None:
                raise _misplaced_zero()
            zero = True
        elif char.isdigit():
            if digit is not None:
                raise _missing_place()
            digit = int(char)
        elif char in _WORD_PLACES:
            place = _WORD_PLACES[char]
            if digit is None and first and index == 0 and char == "拾":
                digit = 1  # 拾元 for 壹拾元: only where the amount begins
            if digit is None or place >= last_place:
                raise _wrong_order()
            items.append((digit, place + power, False, zero))
            digit, zero, last_place = None, False, place
        else:
            raise _wrong_order()  # a second 万 or 亿, or 万 above 亿
    if digit is not None:
        items.append((digit, power, True, zero))
    elif zero:
        raise _misplaced_zero()  # 零 closing a section: 壹佰零元
    return items


def _words_problem(message: str) -> BadCell:
    return BadCell("amount_words_invalid", message)


def _misplaced_zero() -> BadCell:
    return _words_problem(gettext("大写金额中“零”的位置不对"))


def _missing_place() -> BadCell:
    return _words_problem(
        gettext("大写金额中有数字后面缺少数位（拾、佰、仟、万、亿），或前面缺少“零”")
    )


def _wrong_order() -> BadCell:
    return _words_problem(gettext("大写金额的数位顺序不对，或数位前面缺少数字"))


def read_measure(value: object, what: str) -> Decimal | None:
    """Read an optional non-negative quantity or rate (up to four decimals)."""
    if value is None or value == "" or (isinstance(value, str) and not value.strip()):
        return None
    number = _decimal(value, 4, what)
    if number < 0:
        raise BadCell("negative", gettext("%(what)s不能为负数") % {"what": what})
    if number >= _MAX_AMOUNT:
        raise BadCell("too_large", gettext("%(what)s过大") % {"what": what})
    return number


class Memo:
    """Remember what a reader returned (or raised) for cell values that repeat.

    Rosters repeat the same rates, areas, amounts and dates thousands of times; reading each
    distinct float or string once keeps the per-row cost low.
    """

    def __init__(self, read: Callable[[object], object], size: int = 200_000) -> None:
        self.read = read
        self.size = size
        self.known: dict[tuple[type, object], object] = {}

    def __call__(self, value: object) -> object:
        kind = type(value)
        if kind is not float and kind is not str:
            return self.read(value)
        key = (kind, value)
        found = self.known.get(key, self)
        if found is self:
            try:
                found = self.read(value)
            except BadCell as problem:
                found = problem
            if len(self.known) < self.size:
                self.known[key] = found
        if isinstance(found, BadCell):
            raise found
        return found


def read_pay_date(value: object) -> date | None:
    """Read a pay date from a date cell, an Excel serial number or text; None if unknown.

    A cell that names only a month or a period (2016年11月, 201611, 2016年10-12月,
    2016年第四季度, 2016年度) gives no pay date: None, as for an empty cell; ``period_of``
    tells the two apart. Anything else that is not a date raises BadCell("bad_date").
    """
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if type(value) is str and len(value) == 10 and value[4] == "-" and value[7] == "-":
        try:
            return date.fromisoformat(value)  # the common case, an ISO date
        except ValueError:
            pass
    found = _date_or_period(value)
    return found if isinstance(found, date) else None


def period_of(value: object) -> str | None:
    """Return the month ("2016-11") or months ("2016-10..2016-12") a pay-date cell names.

    None for an empty cell, a full date and anything unreadable. Where ``read_pay_date``
    returns None, this tells "a month or period was given" from "empty". Years run 1990–2100;
    a quarter, a half and a year are the months they span. The number 2016.1 (Excel's 2016.10
    as well as 2016.1) names no month for sure: both functions return None for it.
    """
    try:
        found = _date_or_period(value)
    except BadCell:
        return None
    return found if isinstance(found, str) else None


def _date_or_period(value: object) -> date | str | None:
    """Return the date a cell holds, or the period it names ("2016-11"), or None if empty."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        if 20_000 <= value <= 80_000:  # an Excel serial date shown as a number (1954–2119)
            return _EXCEL_EPOCH + timedelta(days=int(value))
        text = cell_text(value)
        if isinstance(value, float) and text[4:] == ".1" and _period(text):
            return None  # 2016.1 or 2016.10? Excel kept no trailing zero: the month is lost
    else:
        text = unicodedata.normalize("NFKC", str(value)).strip()
    if not text:
        return None
    if len(text) == 8 and text.isdigit():
        parts = (text[:4], text[4:6], text[6:])
    elif match := _DATE_TEXT.fullmatch(text):
        parts = match.groups()
    else:
        parts = None
    if parts is not None:
        try:
            return date(int(parts[0]), int(parts[1]), int(parts[2]))
        except ValueError:
            pass
    period = _period("".join(text.split()))
    if period is None:
        raise BadCell("bad_date", gettext("发放日期无法识别，请写成 2026-03-15 这样的格式"))
    return period


def _period(text: str) -> str | None:
    """Return the months TEXT names as "YYYY-MM" or "YYYY-MM..YYYY-MM"; None if it names none."""
    if match := _PERIOD_MONTHS.fullmatch(text):
        first = (int(match["y1"]), int(match["m1"]))
        last = (int(match["y2"] or first[0]), int(match["m2"] or first[1]))
    elif len(text) == 6 and text.isdigit():
        first = last = (int(text[:4]), int(text[4:]))
    elif match := _PERIOD_PARTS.fullmatch(text):
        year, quarter = int(match["year"]), match["quarter"] or match["q"]
        if quarter:
            end = 3 * (int(quarter) if quarter.isdigit() else "一二三四".index(quarter) + 1)
            first, last = (year, end - 2), (year, end)
        elif match["half"]:
            start = 1 if match["half"] == "上" else 7
            first, last = (year, start), (year, start + 5)
        else:
            first, last = (year, 1), (year, 12)
    else:
        return None
    if first > last or not all(_plausible_month(*month) for month in (first, last)):
        return None
    if first == last:
        return f"{first[0]}-{first[1]:02d}"
    return f"{first[0]}-{first[1]:02d}..{last[0]}-{last[1]:02d}"


def _plausible_month(year: int, month: int) -> bool:
    return _FIRST_YEAR <= year <= _LAST_YEAR and 1 <= month <= 12


#: Dashes people put between the groups of an account's digits (after NFKC: － is -).
_ACCOUNT_MARKS = str.maketrans("", "", "-‐‑‒–—―−")


def read_account(value: object) -> str:
    """Read a bank account: digits only, never an Excel number (it has lost digits).

    Digits written in groups (spaces or dashes), full-width, or behind Excel's apostrophe are
    read as the digits.
    """
    if value is None or value == "":
        return ""
    if type(value) is str and value.isdigit() and value.isascii():
        return value
    if isinstance(value, float | int) and not isinstance(value, bool):
        digits = cell_text(value)
        if len(digits.lstrip("-")) >= 15 or "e" in digits.lower():
            raise BadCell(
                "account_excel_number",
                gettext("账号被Excel当成了数字，后几位已经丢失；请把该列设置为文本格式后重新填写"),
            )
        if not digits.isdigit():  # 1234.56 or -5: a number, not an account
            raise BadCell("account_invalid", gettext("账号只能包含数字"))
        return digits
    text = unicodedata.normalize("NFKC", str(value))
    text = "".join(text.split()).translate(_ACCOUNT_MARKS)
    if text.startswith('="') and text.endswith('"'):
        text = text[2:-1]  # ="6217…": an export's way to keep Excel off the digits
    text = text.lstrip("'’‘`")  # Excel's text mark, or the quote an input method types
    if not text:
        return ""
    if not text.isascii() or not text.isdigit():
        if re.fullmatch(r"[0-9](\.[0-9]+)?E\+?[0-9]+", text, re.IGNORECASE):
            raise BadCell(
                "account_excel_number",
                gettext("账号被Excel当成了数字，后几位已经丢失；请把该列设置为文本格式后重新填写"),
            )
        raise BadCell("account_invalid", gettext("账号只能包含数字"))
    return text


def read_id_number(value: object, today: date) -> str:
    """Return a valid, normalised 18-digit ID number from a cell; raise BadCell otherwise."""
    fast = clean_valid_id(value, today=today)
    if fast is not None:
        return fast
    check: IdCheck = id_from_cell(value, today=today)
    if not check.valid:
        raise BadCell(f"id_{check.code}", gettext(check.reason))
    return check.number
