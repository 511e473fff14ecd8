"""Read payment rosters (发放花名册) as offices keep them, and validate every row.

Pure module: no ORM. ``read_roster`` never raises for bad input: a file that is unsafe,
corrupt, too big or too slow to read comes back as a ``ParsedRoster`` whose ``errors`` say why.

What it copes with (see DESIGN.md, "Import pipeline"): xlsx, xls and ods through
python-calamine and CSV in UTF-8 (with or without BOM) or GB18030/GBK; title and unit rows
above a header that is found by its content; header synonyms from ``funds.aliases``; two-row
headers under a merged group header; merged cells filled down; one sheet per village, the
village named only in the sheet name or the title; totals rows checked and dropped; blank
rows and signature footers skipped; per-household and per-person rosters.

Raw ID numbers and accounts leave this module only inside ``ParsedRow`` objects, in memory;
free text is scrubbed with ``privacy.personal.scrub_text`` (the deployment's policy) before it
leaves.
"""

from __future__ import annotations

import csv
import io
import re
import time
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path

from django.utils.translation import gettext

from funds.aliases import FIELD_ALIASES, FIELD_LABELS, FOOTER_WORDS, STATUS_WORDS, TOTAL_WORDS
from funds.filesafety import FileKind, UnsafeFile, check_upload, decode_text
from funds.gcpause import gc_paused
from privacy.idnumbers import IdCheck, clean_valid_id, id_from_cell
from privacy.normalize import normalize_name
from privacy.personal import scrub_text

__all__ = [
    "DEFAULT_MAX_BYTES",
    "DEFAULT_MAX_UNCOMPRESSED",
    "Issue",
    "ParsedRoster",
    "ParsedRow",
    "column_letter",
    "header_field",
    "read_roster",
]

DEFAULT_MAX_BYTES = 50 * 1024 * 1024
DEFAULT_MAX_UNCOMPRESSED = 500 * 1024 * 1024
#: How many rows from the top may hold titles before the header.
HEADER_WINDOW = 15
PROGRESS_EVERY = 1000
CENT = Decimal("0.01")
_MAX_AMOUNT = Decimal("1000000000000")  # the model keeps 14 digits, 2 after the point
_TOLERANCE = Decimal("0.01")


@dataclass(frozen=True)
class Issue:
    """An error or a warning about one cell, one row, one sheet or the whole file."""

    sheet: str
    row: int | None  # as Excel shows it (1-based); None for the sheet or the file
    column: str  # header text as in the sheet, or the Excel letter when there is none
    message: str
    code: str = ""


@dataclass(slots=True)
class ParsedRow:
    """One payment as read from a roster, normalised and validated."""

    sheet: str
    row: int
    township: str
    village: str
    group: str
    head_name: str
    head_id: str  # '' when the sheet has no head-ID column: the beneficiary is the head
    name: str
    id_number: str  # normalised 18-digit ID; in memory only, never stored
    relation: str
    payee_name: str  # '' when the beneficiary is paid
    account: str  # digits only, '' when none
    quantity: Decimal | None
    rate: Decimal | None
    amount: Decimal
    pay_date: date | None
    status: str  # 'paid' | 'failed' | 'stopped'
    note: str  # scrubbed of ID, phone and account numbers
    #: Rows of one household share this key: the head's ID when known, else village|group|head.
    household_key: str = ""


@dataclass
class ParsedRoster:
    """What a roster file holds, with every error and warning found in it."""

    rows: list[ParsedRow] = field(default_factory=list)
    errors: list[Issue] = field(default_factory=list)
    warnings: list[Issue] = field(default_factory=list)
    sheets: list[str] = field(default_factory=list)
    kind: str = "per_household"  # or 'per_person'
    total: Decimal = Decimal("0.00")
    totals_rows: list[dict] = field(default_factory=list)
    file_kind: str = ""
    encoding: str = ""  # CSV only

    def ok(self) -> bool:
        """Say whether the roster may be imported: no errors and at least one row."""
        return not self.errors and bool(self.rows)


# --- Headers ---------------------------------------------------------------------------------

_BRACKETS = re.compile(r"\([^()]*\)|\[[^\[\]]*\]|<[^<>]*>")
_HEADER_JUNK = str.maketrans("", "", "*:：※#")


def _header_key(text: str) -> str:
    """Return the form of a header text that aliases are matched on."""
    text = "".join(unicodedata.normalize("NFKC", text).split()).translate(_HEADER_JUNK)
    text = text.replace("【", "(").replace("】", ")").replace("〔", "(").replace("〕", ")")
    stripped = _BRACKETS.sub("", text)
    return stripped or text


def _build_alias_index() -> dict[str, str]:
    index: dict[str, str] = {}
    for name, aliases in FIELD_ALIASES.items():
        for alias in aliases:
            index.setdefault(_header_key(alias), name)
    return index


_ALIAS_INDEX = _build_alias_index()
_GROUP_SUFFIXES = ("基本信息", "信息", "情况", "基本情况", "资料")


def header_field(text: object) -> str | None:
    """Return the roster field a header cell names, or None."""
    if not isinstance(text, str) or not text.strip():
        return None
    return _ALIAS_INDEX.get(_header_key(text))


def _group_field(top: object, sub: object) -> str | None:
    """Return the field a sub-header names under a group header (户主信息 + 姓名 = 户主姓名)."""
    if not isinstance(top, str) or not isinstance(sub, str):
        return None
    prefix = _header_key(top)
    for suffix in _GROUP_SUFFIXES:
        prefix = prefix.removesuffix(suffix)
    return _ALIAS_INDEX.get(prefix + _header_key(sub)) if prefix else None


def column_letter(index: int) -> str:
    """Return the Excel letter of a 0-based column index (0 → A, 26 → AA)."""
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def _label(text: object) -> str:
    """Return a header cell as staff see it, without line breaks or padding."""
    return "".join(str(text).split()) if text not in (None, "") else ""


# --- Titles and places -----------------------------------------------------------------------

_YEAR_PREFIX = re.compile(r"^[0-9０-９]{2,4}\s*年度?")
_TOWNSHIP = re.compile(r"([\u4e00-\u9fff]{2,12}?)(镇|乡|街道|苏木)(?!村|镇)")
_VILLAGE = re.compile(r"([\u4e00-\u9fff]{1,10}?)(村委会|村|社区|居委会|嘎查)")
_PREFIX_ENDS = "省市县区旗年度"
_DEFAULT_SHEET = re.compile(r"^(sheet|工作表|表|页|sheet 页)?\s*[0-9]*$", re.IGNORECASE)
_VILLAGE_SUFFIXES = ("村", "社区", "居委会", "嘎查", "村委会")


def _strip_prefix(name: str, suffix_len: int) -> str:
    """Drop a county/year prefix from a township match: 某某县城关镇 → 城关镇."""
    for pos in range(len(name) - suffix_len - 2, -1, -1):
        if name[pos] in _PREFIX_ENDS:
            return name[pos + 1 :]
    return name


def places_in_title(text: str) -> tuple[str, str]:
    """Return (township, village) named in a title like 城关镇东风村2024年…花名册; '' if absent."""
    text = "".join(unicodedata.normalize("NFKC", text).split())
    text = _YEAR_PREFIX.sub("", text)
    township = village = ""
    rest = text
    if match := _TOWNSHIP.search(text):
        township = _strip_prefix(match.group(0), len(match.group(2)))
        rest = text[match.end() :]
        if found := _VILLAGE.match(rest):
            village = found.group(0)
    elif found := _VILLAGE.match(_YEAR_PREFIX.sub("", rest)):
        village = found.group(0)
    if village.endswith("村委会"):
        village = village.removesuffix("委会")
    return township, village


def _village_from_sheet_name(name: str) -> tuple[str, str]:
    """Return (township, village) a sheet name gives, if it names a village at all."""
    clean = normalize_name(name)
    if not clean or _DEFAULT_SHEET.match(clean):
        return "", ""
    township, village = places_in_title(clean)
    if village:
        return township, village
    if clean.endswith(_VILLAGE_SUFFIXES):
        return township, clean
    return township, ""


# --- Cell values -----------------------------------------------------------------------------

_MONEY_JUNK = str.maketrans("", "", "¥￥,，元 \u3000\t")
_DATE_TEXT = re.compile(r"([0-9]{4})\s*[-/.年]\s*([0-9]{1,2})\s*[-/.月]\s*([0-9]{1,2})\s*日?")
_MONTH_TEXT = re.compile(r"([0-9]{4})\s*[-/.年]\s*([0-9]{1,2})\s*月?")
_EXCEL_EPOCH = date(1899, 12, 30)


class _Bad(Exception):
    """A cell that cannot be read; carries the issue code and message."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _text(value: object) -> str:
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
    """Read a number with at most PLACES decimals from a cell; raise _Bad otherwise."""
    if isinstance(value, bool):
        raise _Bad("not_number", gettext("%(what)s不是数字") % {"what": gettext(what)})
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise _Bad("not_number", gettext("%(what)s不是数字") % {"what": gettext(what)})
        rounded = round(value, places)
        if abs(value - rounded) > 1e-9 * max(1.0, abs(value)):
            raise _too_many_places(what, places)
        return Decimal(repr(rounded))
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, str):
        text = value.strip()
        if not text.isascii():
            text = unicodedata.normalize("NFKC", text)
        text = text.translate(_MONEY_JUNK)
        if text.startswith("(") and text.endswith(")"):
            text = "-" + text[1:-1]  # accountants write negatives in brackets
        try:
            number = Decimal(text)
        except InvalidOperation:
            raise _Bad(
                "not_number", gettext("%(what)s不是数字") % {"what": gettext(what)}
            ) from None
        if not number.is_finite():
            raise _Bad("not_number", gettext("%(what)s不是数字") % {"what": gettext(what)})
        exponent = number.as_tuple().exponent
        if isinstance(exponent, int) and exponent < -places and number != round(number, places):
            raise _too_many_places(what, places)
        return number
    raise _Bad("not_number", gettext("%(what)s不是数字") % {"what": gettext(what)})


def _too_many_places(what: str, places: int) -> _Bad:
    return _Bad(
        "too_many_decimals",
        gettext("%(what)s最多保留 %(places)d 位小数") % {"what": gettext(what), "places": places},
    )


def _amount(value: object) -> Decimal:
    """Read an amount of money: present, numeric, non-negative, at most two decimals."""
    if value is None or value == "" or (isinstance(value, str) and not value.strip()):
        raise _Bad("amount_empty", gettext("金额为空"))
    number = _decimal(value, 2, "金额")
    if number < 0:
        raise _Bad("amount_negative", gettext("金额不能为负数（%(value)s）") % {"value": number})
    if number >= _MAX_AMOUNT:
        raise _Bad("amount_too_large", gettext("金额过大（%(value)s）") % {"value": number})
    return number.quantize(CENT)


def _measure(value: object, what: str) -> Decimal | None:
    """Read an optional non-negative quantity or rate (up to four decimals)."""
    if value is None or value == "" or (isinstance(value, str) and not value.strip()):
        return None
    number = _decimal(value, 4, what)
    if number < 0:
        raise _Bad("negative", gettext("%(what)s不能为负数") % {"what": what})
    if number >= _MAX_AMOUNT:
        raise _Bad("too_large", gettext("%(what)s过大") % {"what": what})
    return number


class _Memo:
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
            except _Bad as problem:
                found = problem
            if len(self.known) < self.size:
                self.known[key] = found
        if isinstance(found, _Bad):
            raise found
        return found


def _pay_date(value: object) -> date | None:
    """Read a pay date from a date cell, an Excel serial number or text."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        if 20_000 <= value <= 80_000:  # an Excel serial date shown as a number (1954–2119)
            return _EXCEL_EPOCH + timedelta(days=int(value))
        text = _text(value)
    else:
        text = unicodedata.normalize("NFKC", str(value)).strip()
    if len(text) == 8 and text.isdigit():
        text = f"{text[:4]}-{text[4:6]}-{text[6:]}"
    if match := _DATE_TEXT.fullmatch(text):
        try:
            return date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
        except ValueError:
            pass
    raise _Bad("bad_date", gettext("发放日期无法识别，请写成 2026-03-15 这样的格式"))


def _account(value: object) -> str:
    """Read a bank account: digits only, never an Excel number (it has lost digits)."""
    if value is None or value == "":
        return ""
    if type(value) is str and value.isdigit() and value.isascii():
        return value
    if isinstance(value, float | int) and not isinstance(value, bool):
        digits = _text(value)
        if len(digits.lstrip("-")) >= 15 or "e" in digits.lower():
            raise _Bad(
                "account_excel_number",
                gettext("账号被Excel当成了数字，后几位已经丢失；请把该列设置为文本格式后重新填写"),
            )
        return digits
    text = unicodedata.normalize("NFKC", str(value))
    text = "".join(text.split()).replace("-", "").removeprefix("'")
    if not text:
        return ""
    if not text.isascii() or not text.isdigit():
        if re.fullmatch(r"[0-9](\.[0-9]+)?E\+?[0-9]+", text, re.IGNORECASE):
            raise _Bad(
                "account_excel_number",
                gettext("账号被Excel当成了数字，后几位已经丢失；请把该列设置为文本格式后重新填写"),
            )
        raise _Bad("account_invalid", gettext("账号只能包含数字"))
    return text


def _id_number(value: object, today: date) -> str:
    """Return a valid, normalised 18-digit ID number from a cell; raise _Bad otherwise."""
    fast = clean_valid_id(value, today=today)
    if fast is not None:
        return fast
    check: IdCheck = id_from_cell(value, today=today)
    if not check.valid:
        raise _Bad(f"id_{check.code}", gettext(check.reason))
    return check.number


# --- Reading files ---------------------------------------------------------------------------


@dataclass
class _Grid:
    """One sheet's cells, rows and columns as in the file (row 0 is Excel row 1)."""

    name: str
    rows: list[list[object]]
    merged: list[tuple[tuple[int, int], tuple[int, int]]]
    truncated: bool = False


class _Stop(Exception):
    """Reading must stop: too many rows or past the deadline."""

    def __init__(self, issue: Issue) -> None:
        super().__init__(issue.message)
        self.issue = issue


def _csv_grids(data: bytes, filename: str, max_rows: int, roster: ParsedRoster) -> list[_Grid]:
    """Decode CSV bytes strictly and split them into one grid named after the file."""
    text, roster.encoding = decode_text(data)
    sample = text[:4096]
    first = sample.split("\n", 1)[0]
    delimiter = ","
    if first.count("\t") > first.count(","):
        delimiter = "\t"
    elif first.count(";") > first.count(","):
        delimiter = ";"
    rows: list[list[object]] = []
    truncated = False
    for row in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter):
        if len(rows) >= max_rows + HEADER_WINDOW:
            truncated = True
            break
        rows.append(row)  # type: ignore[arg-type]
    stem = Path(filename).stem or "CSV"
    return [_Grid(stem, rows, [], truncated)]


def _workbook_grids(data: bytes, max_rows: int, roster: ParsedRoster) -> list[_Grid]:
    """Read every visible worksheet with calamine."""
    from python_calamine import CalamineWorkbook, SheetTypeEnum, SheetVisibleEnum

    book = CalamineWorkbook.from_filelike(io.BytesIO(data))
    grids = []
    with book:
        for meta in book.sheets_metadata:
            if meta.typ != SheetTypeEnum.WorkSheet:
                continue
            if meta.visible != SheetVisibleEnum.Visible:
                roster.warnings.append(
                    Issue(meta.name, None, "", gettext("隐藏的工作表已跳过"), "hidden_sheet")
                )
                continue
            sheet = book.get_sheet_by_name(meta.name)
            limit = max_rows + HEADER_WINDOW
            # skip_empty_area=False keeps row and column numbers as Excel shows them.
            rows = sheet.to_python(skip_empty_area=False, nrows=limit + 1)
            truncated = len(rows) > limit
            grids.append(_Grid(meta.name, rows[:limit], sheet.merged_cell_ranges or [], truncated))
    return grids


def _fill_merged(grid: _Grid) -> None:
    """Copy the value of each merged range's top-left cell into the whole range."""
    rows = grid.rows
    for (r0, c0), (r1, c1) in grid.merged:
        if r0 >= len(rows) or c0 >= len(rows[r0]):
            continue
        value = rows[r0][c0]
        for r in range(r0, min(r1, len(rows) - 1) + 1):
            row = rows[r]
            for c in range(c0, min(c1, len(row) - 1) + 1):
                row[c] = value


# --- Parsing one sheet -----------------------------------------------------------------------


@dataclass
class _Header:
    """Where the header is and which column holds which field."""

    row: int  # 0-based index of the (last) header row
    columns: dict[str, int]
    labels: dict[int, str]
    title: str


def _row_fields(row: list[object]) -> dict[int, str]:
    """Return column -> field for the header cells of ROW."""
    found: dict[int, str] = {}
    for col, cell in enumerate(row):
        name = header_field(cell)
        if name is not None:
            found[col] = name
    return found


def _first_columns(by_col: dict[int, str]) -> dict[str, int]:
    """Return field -> column, the leftmost column winning."""
    columns: dict[str, int] = {}
    for col in sorted(by_col):
        columns.setdefault(by_col[col], col)
    return columns


def _regroup(top: list[object], sub: list[object], by_col: dict[int, str]) -> dict[int, str]:
    """Return column -> field of SUB read under the group headers in TOP (户主信息 / 姓名)."""
    fields = dict(by_col)
    for col, cell in enumerate(sub):
        above = top[col] if col < len(top) else ""
        if isinstance(above, str) and above.strip() and above != cell:
            name = _group_field(above, cell)
            if name is not None:
                fields[col] = name
            elif col not in fields and header_field(above) is not None and cell in ("", None):
                fields[col] = header_field(above)  # type: ignore[assignment]
    return fields


def _find_header(rows: list[list[object]]) -> _Header | None:
    """Find the header by its content among the first rows; allow a two-row header."""
    best: tuple[int, dict[int, str]] | None = None
    for index, row in enumerate(rows[:HEADER_WINDOW]):
        found = _row_fields(row)
        names = set(found.values())
        if len(names) < 3:
            continue
        if ("name" in names or "head_name" in names) and "amount" in names:
            best = (index, found)
            break
        if best is None:
            best = (index, found)
    if best is None:
        return None
    index, by_col = best
    labels = {col: _label(cell) for col, cell in enumerate(rows[index])}
    first = last = index
    if index > 0 and any(_text(cell) for cell in rows[index - 1]):
        # A group header above: 户主信息 over 姓名 and 身份证号码.
        regrouped = _regroup(rows[index - 1], rows[index], by_col)
        if regrouped != by_col:
            by_col = regrouped
            first = index - 1
    if first == index and index + 1 < len(rows):
        # The row found may itself be the group header, with the sub-headers below it.
        top, below = rows[index], rows[index + 1]
        sub_fields = {
            col: name
            for col, cell in enumerate(below)
            if (name := header_field(cell)) is not None
            and (col >= len(top) or header_field(top[col]) is None or top[col] == cell)
        }
        if sub_fields and any(col not in by_col for col in sub_fields):
            by_col = _regroup(top, below, {**by_col, **sub_fields})
            last = index + 1
            labels.update({col: _label(below[col]) for col in sub_fields if below[col]})
    title = " ".join(_text(cell) for row in rows[:first] for cell in row if _text(cell))
    return _Header(last, _first_columns(by_col), labels, title)


_FOOTER_PREFIXES = tuple(FOOTER_WORDS)
#: Names that normalize_name leaves as they are: CJK unified ideographs only.
_PLAIN_CJK = re.compile(r"[\u4e00-\u9fff]+")


def _is_total(row: list[object], upto: int) -> bool:
    """Say whether ROW is a totals row: 合计/总计/小计 in one of its first cells."""
    for cell in row[:upto]:
        # Every total word has 计 in it: a cheap test first, most rows stop here.
        if isinstance(cell, str) and "计" in cell:
            key = "".join(cell.split())
            if key.startswith(TOTAL_WORDS) or key.endswith(("合计", "总计", "小计")):
                return True
    return False


def _has_digits(value: object) -> bool:
    """Say whether a cell holds a number or text with a digit in it."""
    if isinstance(value, str):
        return value[:1].isdigit() or any(ch.isdigit() for ch in value)
    return value not in ("", None)


def _is_footer(row: list[object]) -> bool:
    for cell in row:
        if isinstance(cell, str) and cell:
            key = "".join(unicodedata.normalize("NFKC", cell).split())
            if key.startswith(_FOOTER_PREFIXES):
                return True
    return False


class _SheetReader:
    """Turn one grid into ParsedRows, issues and checked totals."""

    def __init__(
        self,
        grid: _Grid,
        header: _Header,
        *,
        roster: ParsedRoster,
        township: str,
        today: date,
        seen: dict[str, tuple[str, int, str]],
        flagged: set[tuple[str, int]],
    ) -> None:
        self.grid = grid
        self.header = header
        self.roster = roster
        self.today = today
        self.seen = seen
        self.flagged = flagged
        cols = dict(header.columns)
        self.per_person = "relation" in cols or (
            "head_name" in cols and "name" in cols and cols["head_name"] != cols["name"]
        )
        if "name" not in cols and "head_name" in cols:
            cols["name"] = cols["head_name"]
        if "id_number" not in cols and "head_id" in cols:
            cols["id_number"] = cols.pop("head_id")
        if cols.get("head_id") == cols.get("id_number"):
            cols.pop("head_id", None)
        self.cols = cols
        title_township, title_village = places_in_title(header.title)
        sheet_township, sheet_village = _village_from_sheet_name(grid.name)
        self.township = township or title_township or sheet_township
        self.village = title_village or sheet_village
        self.errors = roster.errors
        self.warnings = roster.warnings

    def label(self, name: str) -> str:
        col = self.cols.get(name)
        if col is None:
            return FIELD_LABELS.get(name, name)
        return self.header.labels.get(col) or column_letter(col)

    def error(self, row: int | None, name: str, message: str, code: str) -> None:
        self.errors.append(Issue(self.grid.name, row, self.label(name), message, code))

    def check_columns(self) -> bool:
        """Report required fields the sheet has no column for; say whether it can be read."""
        ok = True
        for name in ("name", "id_number", "amount"):
            if name not in self.cols:
                label = FIELD_LABELS[name]
                self.errors.append(
                    Issue(
                        self.grid.name,
                        None,
                        label,
                        gettext("工作表缺少“%(field)s”列") % {"field": label},
                        "missing_column",
                    )
                )
                ok = False
        if "township" not in self.cols and not self.township:
            self.errors.append(
                Issue(
                    self.grid.name,
                    None,
                    FIELD_LABELS["township"],
                    gettext(
                        "无法确定乡镇：表中没有乡镇列，标题中也没有乡镇名称，请在导入时指定乡镇"
                    ),
                    "missing_township",
                )
            )
            ok = False
        if "village" not in self.cols and not self.village:
            self.errors.append(
                Issue(
                    self.grid.name,
                    None,
                    FIELD_LABELS["village"],
                    gettext("无法确定村：表中没有村列，标题和工作表名称中也没有村名"),
                    "missing_village",
                )
            )
            ok = False
        return ok

    def read(self, tick: Callable[[int], None], township_arg: str) -> None:
        """Read every data row below the header."""
        rows = self.grid.rows
        cols = self.cols
        width = max(cols.values()) + 1
        c_name, c_id, c_amount = cols["name"], cols["id_number"], cols["amount"]
        c_head, c_head_id = cols.get("head_name"), cols.get("head_id")
        c_town, c_village, c_group = cols.get("township"), cols.get("village"), cols.get("group")
        c_rel, c_payee, c_acct = cols.get("relation"), cols.get("payee_name"), cols.get("account")
        c_qty, c_rate, c_date = cols.get("quantity"), cols.get("rate"), cols.get("pay_date")
        c_status, c_note = cols.get("status"), cols.get("note")
        # 合计 sits in one of the first columns (序号, 村 or 姓名), never in the ID or amount.
        total_upto = max(min(5, c_amount), 1)
        sheet = self.grid.name
        today = self.today
        out = self.roster.rows
        errors = self.errors
        seen = self.seen
        labels = {name: self.label(name) for name in FIELD_ALIASES}
        town = self.township
        village = self.village
        group = ""
        head_name = ""
        head_id = ""
        names: dict[object, str] = {}
        notes: dict[str, str] = {}
        sheet_sum = Decimal(0)
        section_sum = Decimal(0)
        sheet_bad = section_bad = False
        statuses = STATUS_WORDS

        def cell(row: list[object], col: int | None) -> object:
            return row[col] if col is not None and col < len(row) else ""

        def place(value: object) -> str:
            got = names.get(value)
            if got is None:
                got = normalize_name(_text(value))
                names[value] = got
            return got

        read_amount = _Memo(_amount)
        read_quantity = _Memo(lambda value: _measure(value, labels["quantity"]))
        read_rate = _Memo(lambda value: _measure(value, labels["rate"]))
        read_date = _Memo(_pay_date)

        def fail(excel_row: int, name: str, problem: _Bad) -> None:
            errors.append(Issue(sheet, excel_row, labels[name], problem.message, problem.code))

        for index in range(self.header.row + 1, len(rows)):
            if not index & 255:
                tick(index)
            row = rows[index]
            if len(row) < width:
                row = [*row, *([""] * (width - len(row)))]
            excel_row = index + 1
            if not any(row):
                continue
            if _is_total(row, total_upto) and not _has_digits(row[c_id]):
                is_subtotal = any(isinstance(c, str) and "小计" in c for c in row[:total_upto])
                self._check_total(
                    excel_row,
                    row[c_amount],
                    section_sum if is_subtotal else sheet_sum,
                    section_bad if is_subtotal else sheet_bad,
                )
                section_sum = Decimal(0)
                section_bad = False
                continue
            raw_name, raw_id, raw_amount = row[c_name], row[c_id], row[c_amount]
            # Signature lines spread over the columns, the ID column included.
            if not _has_digits(raw_id) and _is_footer(row):
                continue
            if raw_name in ("", None) and raw_id in ("", None) and raw_amount in ("", None):
                continue
            bad = False

            # Places: a column (filled down: merged or blank cells), else title or sheet name.
            if c_town is not None and not township_arg:
                value = row[c_town]
                if value not in ("", None):
                    town = place(value)
            if c_village is not None:
                value = row[c_village]
                if value not in ("", None):
                    village = place(value)
            if c_group is not None:
                value = row[c_group]
                if value not in ("", None):
                    group = place(value)
            if not town:
                errors.append(
                    Issue(
                        sheet, excel_row, labels["township"], gettext("乡镇为空"), "township_empty"
                    )
                )
                bad = True
            if not village:
                errors.append(
                    Issue(sheet, excel_row, labels["village"], gettext("村为空"), "village_empty")
                )
                bad = True

            if type(raw_name) is str and _PLAIN_CJK.fullmatch(raw_name):
                name = raw_name  # already its own normal form: no NFKC, space or dot to fix
            else:
                name = normalize_name(raw_name) if isinstance(raw_name, str) else _text(raw_name)
            if not name:
                errors.append(
                    Issue(sheet, excel_row, labels["name"], gettext("姓名为空"), "name_empty")
                )
                bad = True
            try:
                id_number = _id_number(raw_id, today)
            except _Bad as problem:
                fail(excel_row, "id_number", problem)
                id_number = ""
                bad = True
            try:
                amount = read_amount(raw_amount)
                # Totals are checked against every readable amount, whatever else is wrong.
                sheet_sum += amount
                section_sum += amount
            except _Bad as problem:
                fail(excel_row, "amount", problem)
                amount = Decimal(0)
                bad = True
                sheet_bad = section_bad = True

            relation = "户主"
            if self.per_person:
                if c_head is not None and c_head != c_name:
                    value = row[c_head]
                    if value not in ("", None):
                        head_name = normalize_name(_text(value))
                    elif c_rel is None or place(row[c_rel]) in ("户主", "本人"):
                        head_name = name
                if c_rel is not None:
                    relation = place(row[c_rel]) or ("户主" if name == head_name else "")
                    if relation == "本人":
                        relation = "户主"
                    if relation == "户主" and c_head is not None and row[c_head] in ("", None):
                        head_name = name
            else:
                head_name = name
            if c_head_id is not None:
                value = row[c_head_id]
                if value not in ("", None):
                    try:
                        head_id = _id_number(value, today)
                    except _Bad as problem:
                        fail(excel_row, "head_id", problem)
                        head_id = ""
                        bad = True
                elif relation == "户主":
                    head_id = id_number
            elif not self.per_person:
                head_id = ""

            payee = ""
            if c_payee is not None:
                value = row[c_payee]
                if value not in ("", None):
                    payee = normalize_name(_text(value))
                    if payee == name:
                        payee = ""
            account = ""
            if c_acct is not None:
                try:
                    account = _account(row[c_acct])
                except _Bad as problem:
                    fail(excel_row, "account", problem)
                    bad = True
            quantity = rate = None
            if c_qty is not None:
                try:
                    quantity = read_quantity(row[c_qty])
                except _Bad as problem:
                    fail(excel_row, "quantity", problem)
                    bad = True
            if c_rate is not None:
                try:
                    rate = read_rate(row[c_rate])
                except _Bad as problem:
                    fail(excel_row, "rate", problem)
                    bad = True
            pay_date = None
            if c_date is not None:
                try:
                    pay_date = read_date(row[c_date])
                except _Bad as problem:
                    fail(excel_row, "pay_date", problem)
                    bad = True
            status = "paid"
            if c_status is not None:
                key = place(row[c_status])
                status = statuses.get(key, "")
                if not status:
                    errors.append(
                        Issue(
                            sheet,
                            excel_row,
                            labels["status"],
                            gettext("发放状态“%(value)s”无法识别：应为成功、失败、退回或停发")
                            % {"value": key},
                            "bad_status",
                        )
                    )
                    status = "paid"
                    bad = True
            note = ""
            if c_note is not None:
                raw_note = _text(row[c_note])
                if raw_note:
                    note = notes.get(raw_note) or ""
                    if not note:
                        note = scrub_text(raw_note)
                        if len(notes) < 10_000:
                            notes[raw_note] = note

            if quantity is not None and rate is not None and not bad:
                expected = quantity * rate
                if abs(expected - amount) > _TOLERANCE:
                    self.warnings.append(
                        Issue(
                            sheet,
                            excel_row,
                            labels["amount"],
                            gettext(
                                "数量×标准（%(qty)s×%(rate)s=%(expected)s）与金额%(amount)s不符"
                            )
                            % {
                                "qty": quantity,
                                "rate": rate,
                                "expected": expected.quantize(CENT),
                                "amount": amount,
                            },
                            "amount_mismatch",
                        )
                    )
            if id_number:
                first = seen.get(id_number)
                if first is None:
                    seen[id_number] = (sheet, excel_row, labels["id_number"])
                else:
                    self._duplicate(first, excel_row, labels["id_number"])
                    bad = True
            if bad:
                continue
            key = head_id or (id_number if relation == "户主" and not self.per_person else "")
            out.append(
                ParsedRow(
                    sheet,
                    excel_row,
                    town,
                    village,
                    group,
                    head_name,
                    head_id,
                    name,
                    id_number,
                    relation,
                    payee,
                    account,
                    quantity,
                    rate,
                    amount,
                    pay_date,
                    status,
                    note,
                    key or f"{village}|{group}|{head_name}",
                )
            )

    def _duplicate(self, first: tuple[str, int, str], excel_row: int, column: str) -> None:
        sheet0, row0, column0 = first
        sheet = self.grid.name
        message = gettext("同一人在本文件中出现多次：见工作表“%(sheet)s”第 %(row)d 行")
        if (sheet0, row0) not in self.flagged:
            self.flagged.add((sheet0, row0))
            self.errors.append(
                Issue(
                    sheet0, row0, column0, message % {"sheet": sheet, "row": excel_row}, "duplicate"
                )
            )
        self.errors.append(
            Issue(sheet, excel_row, column, message % {"sheet": sheet0, "row": row0}, "duplicate")
        )

    def _check_total(
        self, excel_row: int, declared_cell: object, computed: Decimal, bad: bool
    ) -> None:
        try:
            declared = _amount(declared_cell)
        except _Bad:
            if declared_cell not in ("", None):
                self.error(excel_row, "amount", gettext("合计行的金额无法识别"), "total_unreadable")
            return
        computed = computed.quantize(CENT)
        self.roster.totals_rows.append(
            {"sheet": self.grid.name, "row": excel_row, "declared": declared, "computed": computed}
        )
        if not bad and declared != computed:
            self.error(
                excel_row,
                "amount",
                gettext("合计金额 %(declared)s 与各行金额之和 %(computed)s 不一致")
                % {"declared": declared, "computed": computed},
                "total_mismatch",
            )


def _fill_heads(roster: ParsedRoster) -> None:
    """Give members of per-person rosters their head's ID where the head's row names it."""
    heads: dict[tuple[str, str, str], str | None] = {}
    for row in roster.rows:
        if row.relation == "户主":
            key = (row.village, row.group, row.name)
            heads[key] = None if key in heads and heads[key] != row.id_number else row.id_number
    for row in roster.rows:
        if row.head_id:
            continue
        if row.relation == "户主":
            row.household_key = row.id_number
            continue
        head = heads.get((row.village, row.group, row.head_name))
        if head:
            row.head_id = head
            row.household_key = head


# --- Entry point -----------------------------------------------------------------------------


def _file_issue(message: str, code: str) -> Issue:
    return Issue("", None, "", message, code)


@gc_paused
def read_roster(
    source: Path | bytes,
    *,
    filename: str,
    township: str | None = None,
    max_rows: int = 1_000_000,
    deadline_s: float | None = None,
    progress: Callable[[int, int], None] | None = None,
    kind: FileKind | str | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_uncompressed: int = DEFAULT_MAX_UNCOMPRESSED,
    today: date | None = None,
    on_rows: Callable[[ParsedRoster, int], None] | None = None,
) -> ParsedRoster:
    """Read and validate a roster; return rows, every error and warning, and checked totals.

    ``on_rows``, when given, is called every few hundred rows with the roster and how many
    rows of the file (blank and title rows included) are still to be read, so that its rows
    can be staged and loaded as they come (``funds.imports``).

    Pass ``kind`` (from ``filesafety.check_upload``) when the file has been checked already;
    otherwise it is checked here against ``max_bytes`` and ``max_uncompressed``.
    ``deadline_s`` bounds the wall-clock time of parsing (checked every few hundred rows).
    """
    started = time.monotonic()
    roster = ParsedRoster()
    today = today or date.today()
    try:
        if kind is None:
            kind = check_upload(
                source,
                filename=filename,
                max_bytes=max_bytes,
                max_uncompressed=max_uncompressed,
            )
        kind = FileKind(kind)
        data = source if isinstance(source, bytes) else Path(source).read_bytes()
        if kind is FileKind.CSV:
            grids = _csv_grids(data, filename, max_rows, roster)
        else:
            grids = _workbook_grids(data, max_rows, roster)
    except UnsafeFile as error:
        roster.errors.append(_file_issue(error.message, error.code))
        return roster
    except Exception as error:  # any reader failure is a bad file, not a 500
        code = "password" if type(error).__name__ == "PasswordError" else "unreadable"
        message = (
            gettext("文件设置了密码，请取消密码后重新上传")
            if code == "password"
            else gettext(
                "文件无法读取（可能已损坏，或不是 Excel/WPS 保存的表格），请重新导出后上传"
            )
        )
        roster.errors.append(_file_issue(message, code))
        return roster
    roster.file_kind = str(kind)
    township_arg = normalize_name(township) if township else ""
    total_rows = sum(len(grid.rows) for grid in grids)
    done = before = 0
    reported = [0]
    limit_reached = False

    def tick(index: int) -> None:
        """Check the deadline and report progress; called every 256 rows of a sheet."""
        nonlocal done
        done = before + index
        if deadline_s is not None and time.monotonic() - started > deadline_s:
            raise _Stop(
                _file_issue(
                    gettext("文件解析超时（超过 %(seconds)d 秒），请拆分后分批上传")
                    % {"seconds": deadline_s},
                    "timeout",
                )
            )
        if progress is not None and done - reported[0] >= PROGRESS_EVERY:
            reported[0] = done
            progress(done, total_rows)
        if on_rows is not None:
            on_rows(roster, total_rows - done)

    seen: dict[str, tuple[str, int, str]] = {}
    flagged: set[tuple[str, int]] = set()
    any_header = False
    kinds = set()
    try:
        for grid in grids:
            if grid.truncated or len(roster.rows) > max_rows:
                limit_reached = True
            _fill_merged(grid)
            header = _find_header(grid.rows)
            if header is None:
                if any(any(row) for row in grid.rows):
                    roster.warnings.append(
                        Issue(
                            grid.name,
                            None,
                            "",
                            gettext("没有找到表头，已跳过该工作表"),
                            "no_header",
                        )
                    )
                continue
            any_header = True
            roster.sheets.append(grid.name)
            reader = _SheetReader(
                grid,
                header,
                roster=roster,
                township=township_arg,
                today=today,
                seen=seen,
                flagged=flagged,
            )
            if not reader.check_columns():
                continue
            kinds.add("per_person" if reader.per_person else "per_household")
            reader.read(tick, township_arg)
            if on_rows is not None:
                on_rows(roster, total_rows - before - len(grid.rows))
            before += len(grid.rows)
            grid.rows = []  # free the cells as soon as the sheet is done
    except _Stop as stop:
        roster.errors.append(stop.issue)
        roster.rows = []
        return roster
    if limit_reached or len(roster.rows) > max_rows:
        roster.errors.append(
            _file_issue(
                gettext("文件行数超过上限（%(limit)d 行），请拆分后分批上传") % {"limit": max_rows},
                "too_many_rows",
            )
        )
    if not any_header:
        roster.errors.append(
            _file_issue(
                gettext("没有找到花名册表头：表头应包含姓名、身份证号码和金额等列"), "no_header"
            )
        )
    elif not roster.rows and not roster.errors:
        roster.errors.append(_file_issue(gettext("花名册中没有数据行"), "no_rows"))
    roster.kind = "per_person" if "per_person" in kinds else "per_household"
    if roster.kind == "per_person":
        _fill_heads(roster)
    roster.total = sum((row.amount for row in roster.rows), Decimal("0.00"))
    if progress is not None:
        progress(total_rows, total_rows)
    return roster
