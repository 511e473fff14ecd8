"""Read payment rosters (发放花名册) as offices keep them, and validate every row.

Pure module: no ORM. ``read_roster`` never raises for bad input: a file that is unsafe,
corrupt, too big or too slow to read comes back as a ``ParsedRoster`` whose ``errors`` say why.

The steps below it, in order: ``grids`` (file → cells, merged ranges filled), ``headers`` (which
column is which field; places in the title), ``cells`` (one value each). Here: the rows under
the header, read one by one — places filled down, the household worked out, totals rows
checked and dropped, blank rows and signature footers skipped — and per-person rosters' members
linked to their head. See DESIGN.md, "Import pipeline".

Raw ID numbers and accounts leave this module only inside ``ParsedRow`` objects, in memory;
free text is scrubbed with ``privacy.personal.scrub_text`` (the deployment's policy) before it
leaves.
"""

from __future__ import annotations

import re
import time
import unicodedata
from collections.abc import Callable, Mapping
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.utils.translation import gettext

from funds.importing.aliases import (
    FIELD_LABELS,
    FOOTER_WORDS,
    STATUS_WORDS,
    TOTAL_WORDS,
)
from funds.importing.cells import (
    CENT,
    BadCell,
    Memo,
    cell_text,
    read_account,
    read_amount,
    read_amount_words,
    read_id_number,
    read_measure,
    read_pay_date,
)
from funds.importing.filesafety import (
    DEFAULT_MAX_CELLS,
    DEFAULT_MAX_COLUMNS,
    FileKind,
    UnsafeFile,
    check_upload,
)
from funds.importing.gcpause import gc_paused
from funds.importing.grids import (
    DEFAULT_MAX_MERGED,
    Grid,
    csv_grids,
    fill_merged,
    workbook_grids,
)
from funds.importing.headers import (
    Header,
    column_letter,
    find_header,
    places_in_sheet_name,
    places_in_title,
)
from funds.importing.parsed import PERSONAL, TEXT_LIMITS, Column, Issue, ParsedRoster, ParsedRow
from privacy import personal
from privacy.normalize import normalize_name
from privacy.personal import scrub_text

__all__ = [
    "DEFAULT_MAX_BYTES",
    "DEFAULT_MAX_UNCOMPRESSED",
    "has_digits",
    "is_footer_row",
    "is_total_row",
    "read_grids",
    "read_roster",
]

DEFAULT_MAX_BYTES = 50 * 1024 * 1024
DEFAULT_MAX_UNCOMPRESSED = 500 * 1024 * 1024
PROGRESS_EVERY = 1000
_TOLERANCE = Decimal("0.01")


class _Stop(Exception):
    """Reading must stop: too many rows or past the deadline."""

    def __init__(self, issue: Issue) -> None:
        super().__init__(issue.message)
        self.issue = issue


_FOOTER_PREFIXES = tuple(FOOTER_WORDS)
#: Names that normalize_name leaves as they are: CJK unified ideographs only.
_PLAIN_CJK = re.compile(r"[\u4e00-\u9fff]+")


def is_total_row(row: list[object], upto: int) -> bool:
    """Say whether ROW is a totals row: 合计/总计/小计 in one of its first cells."""
    for cell in row[:upto]:
        # Every total word has 计 in it: a cheap test first, most rows stop here.
        if isinstance(cell, str) and "计" in cell:
            key = "".join(cell.split())
            if key.startswith(TOTAL_WORDS) or key.endswith(("合计", "总计", "小计")):
                return True
    return False


def has_digits(value: object) -> bool:
    """Say whether a cell holds a number or text with a digit in it."""
    if isinstance(value, str):
        return value[:1].isdigit() or any(ch.isdigit() for ch in value)
    return value not in ("", None)


def is_footer_row(row: list[object]) -> bool:
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
        grid: Grid,
        header: Header,
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
        self.per_person = header.per_person
        self.cols = cols
        title_township, title_village = places_in_title(header.title)
        roster.titles[grid.name] = header.title
        sheet_township, sheet_village = places_in_sheet_name(grid.name)
        self.township = township or title_township or sheet_township
        self.village = title_village or sheet_village
        self.errors = roster.errors
        self.warnings = roster.warnings
        self.labels = {name: self.label(name) for name in FIELD_LABELS}
        self.c_head = cols.get("head_name")
        #: column -> what it is checked as: gross, deduction, part or amount_words.
        self.checked = {col: name for name, cols in header.checks.items() for col in cols}

    def label(self, name: str) -> str:
        col = self.cols.get(name)
        if col is None:
            return FIELD_LABELS.get(name, name)
        return self.header.labels.get(col) or column_letter(col)

    def check_columns(self) -> bool:
        """Report fields the sheet has no column for, or several; say whether it can be read."""
        ok = True
        for name, why in self.header.unsettled.items():
            label = FIELD_LABELS.get(name, name)
            message = (
                gettext("工作表缺少“%(field)s”列，请指定哪一列是“%(field)s”")
                if why == "missing"
                else gettext("工作表中有多列可能是“%(field)s”，请指定用哪一列")
            )
            code = "missing_column" if why == "missing" else "ambiguous_column"
            self.errors.append(Issue(self.grid.name, None, label, message % {"field": label}, code))
            if name not in self.roster.unsettled:
                self.roster.unsettled.append(name)
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
        """Read every data row below the header into the roster."""
        rows, cols = self.grid.rows, self.cols
        self._start(township_arg)
        width = max([*cols.values(), *self.checked]) + 1
        c_name, c_id, c_amount = cols["name"], cols["id_number"], cols["amount"]
        # 合计 sits in one of the first columns (序号, 村 or 姓名), never in the ID or amount.
        total_upto = max(min(5, c_amount), 1)
        out = self.roster.rows
        heading = self._heading_cells
        for index in range(self.header.row + 1, len(rows)):
            if not index & 255:
                tick(index)
            row = rows[index]
            if len(row) < width:
                row = [*row, *([""] * (width - len(row)))]
            if not any(row):
                continue
            if is_total_row(row, total_upto) and not has_digits(row[c_id]):
                self._total_row(row, index + 1, total_upto)
                continue
            # Headers and titles repeated on every printed page.
            if (row[c_name] in heading and row[c_amount] in heading) or (
                type(row[c_id]) is str and len(row[c_id]) > 6 and row[c_id] == row[c_amount]
            ):
                continue
            # Signature lines spread over the columns, the ID column included.
            if not has_digits(row[c_id]) and is_footer_row(row):
                continue
            if (
                row[c_name] in ("", None)
                and row[c_id] in ("", None)
                and row[c_amount] in ("", None)
            ):
                continue
            parsed = self._row(row, index + 1)
            if parsed is not None:
                out.append(parsed)

    def _start(self, township_arg: str) -> None:
        """Set up what carries from row to row: filled-down places, the head, the sums."""
        cols, labels = self.cols, self.labels
        self.c_town = None if township_arg else cols.get("township")
        self.town, self.village_now, self.group = self.township, self.village, ""
        self.head_name = self.head_id = ""
        self.sheet_sum = self.section_sum = Decimal(0)
        self.sheet_bad = self.section_bad = False
        self._names: dict[object, str] = {}
        self._notes: dict[str, str] = {}
        self.read_amount = Memo(read_amount_words if self.header.amount_in_words else read_amount)
        self.read_money = Memo(read_amount)
        self.read_words = Memo(read_amount_words)
        # Money columns read only to check the amount: their sums, for the totals rows too.
        self.sheet_sums = dict.fromkeys(self.checked, Decimal(0))
        self.section_sums = dict.fromkeys(self.checked, Decimal(0))
        texts = self.grid.rows[self.header.first : self.header.row + 1]
        self._heading_cells = {cell for row in texts for cell in row if isinstance(cell, str)}
        self.read_quantity = Memo(lambda value: read_measure(value, labels["quantity"]))
        self.read_rate = Memo(lambda value: read_measure(value, labels["rate"]))
        self.read_date = Memo(read_pay_date)

    def _place(self, value: object) -> str:
        """Return a short text cell (a place, a relation, a status) normalised, remembered.

        Scrubbed as notes are: these texts reach public pages, and offices type phone numbers
        into any cell.
        """
        got = self._names.get(value)
        if got is None:
            got = self._names[value] = scrub_text(normalize_name(cell_text(value)))
        return got

    def _fail(self, excel_row: int, name: str, problem: BadCell) -> None:
        self.errors.append(
            Issue(self.grid.name, excel_row, self.labels[name], problem.message, problem.code)
        )

    def _read(
        self, reader: Callable[[object], Any], row: list[object], excel_row: int, name: str
    ) -> Any:
        """Read the cell of field NAME with READER; None (and an error) when it is bad."""
        col = self.cols.get(name)
        if col is None:
            return None
        try:
            return reader(row[col])
        except BadCell as problem:
            self._fail(excel_row, name, problem)
            return None

    def _row(self, row: list[object], excel_row: int) -> ParsedRow | None:
        """Read one payment row; return None when any of its cells is bad (errors say why)."""
        errors_before = len(self.errors)
        self._places(row, excel_row)
        name, id_number, amount = self._person(row, excel_row)
        relation = self._household(row, excel_row, name, id_number)
        payee = self._payee(row, name)
        account = self._read(read_account, row, excel_row, "account") or ""
        quantity = self._read(self.read_quantity, row, excel_row, "quantity")
        rate = self._read(self.read_rate, row, excel_row, "rate")
        pay_date = self._read(self.read_date, row, excel_row, "pay_date")
        status = self._status(row, excel_row)
        note = self._note(row)
        if quantity is not None and rate is not None and len(self.errors) == errors_before:
            self._check_measures(excel_row, quantity, rate, amount)
        if self.checked:
            self._check_money(row, excel_row, amount, clean=len(self.errors) == errors_before)
        if id_number:
            first = self.seen.get(id_number)
            if first is None:
                self.seen[id_number] = (self.grid.name, excel_row, self.labels["id_number"])
            else:
                self._duplicate(first, excel_row, self.labels["id_number"])
        if len(self.errors) != errors_before:
            return None
        return ParsedRow(
            self.grid.name, excel_row, self.town, self.village_now, self.group, self.head_name,
            self.head_id, name, id_number, relation, payee, account, quantity, rate, amount,
            pay_date, status, note,
        )  # fmt: skip

    def _places(self, row: list[object], excel_row: int) -> None:
        """Fill township, village and group down from their columns (merged or blank cells)."""
        if self.c_town is not None and row[self.c_town] not in ("", None):
            self.town = self._place(row[self.c_town])
        for name in ("village", "group"):
            col = self.cols.get(name)
            if col is not None and row[col] not in ("", None):
                setattr(self, "village_now" if name == "village" else name, self._place(row[col]))
        sheet, labels = self.grid.name, self.labels
        if not self.town:
            self.errors.append(
                Issue(sheet, excel_row, labels["township"], gettext("乡镇为空"), "township_empty")
            )
        if not self.village_now:
            self.errors.append(
                Issue(sheet, excel_row, labels["village"], gettext("村为空"), "village_empty")
            )
        if len(self.town) + len(self.village_now) + len(self.group) > 50:  # rare: check each
            self._check_length(excel_row, "township", self.town)
            self._check_length(excel_row, "village", self.village_now)
            self._check_length(excel_row, "group", self.group)

    def _check_length(self, excel_row: int, name: str, text: str) -> None:
        """Refuse a text longer than the database keeps for its field, at its place."""
        if len(text) > TEXT_LIMITS[name]:
            self.errors.append(
                Issue(
                    self.grid.name, excel_row, self.labels[name],
                    gettext("内容过长：最多 %(limit)d 个字") % {"limit": TEXT_LIMITS[name]},
                    "too_long",
                )
            )  # fmt: skip

    def _person(self, row: list[object], excel_row: int) -> tuple[str, str, Decimal]:
        """Read the beneficiary's name and ID number and the amount; add to the sums."""
        cols = self.cols
        raw_name = row[cols["name"]]
        if type(raw_name) is str and _PLAIN_CJK.fullmatch(raw_name):
            name = raw_name  # already its own normal form: no NFKC, space or dot to fix
        elif isinstance(raw_name, str):
            name = normalize_name(raw_name)
        else:
            name = cell_text(raw_name)
        if not name:
            self.errors.append(
                Issue(
                    self.grid.name,
                    excel_row,
                    self.labels["name"],
                    gettext("姓名为空"),
                    "name_empty",
                )
            )
        elif len(name) > TEXT_LIMITS["name"]:
            self._check_length(excel_row, "name", name)
        raw_id = row[cols["id_number"]]
        if self.header.id_from_disability and type(raw_id) is str:
            raw_id = raw_id.strip()[:18]  # 残疾证号: the holder's ID, then category and grade
        try:
            id_number = read_id_number(raw_id, self.today)
        except BadCell as problem:
            self._fail(excel_row, "id_number", problem)
            id_number = ""
        try:
            amount = self.read_amount(row[cols["amount"]])
        except BadCell as problem:
            self._fail(excel_row, "amount", problem)
            self.sheet_bad = self.section_bad = True
            return name, id_number, Decimal(0)
        # Totals are checked against every readable amount, whatever else is wrong.
        self.sheet_sum += amount
        self.section_sum += amount
        return name, id_number, amount

    def _household(self, row: list[object], excel_row: int, name: str, id_number: str) -> str:
        """Work out the row's head (name and ID, filled down) and return its relation."""
        c_head, c_rel, c_head_id = self.c_head, self.cols.get("relation"), self.cols.get("head_id")
        relation = "户主"
        if not self.per_person:
            self.head_name = name
        else:
            if c_head is not None and c_head != self.cols["name"]:
                value = row[c_head]
                if value not in ("", None):
                    self.head_name = normalize_name(cell_text(value))
                elif c_rel is None or self._place(row[c_rel]) in ("户主", "本人"):
                    self.head_name = name
            if c_rel is not None:
                relation = self._place(row[c_rel]) or ("户主" if name == self.head_name else "")
                if relation == "本人":
                    relation = "户主"
                if relation == "户主" and c_head is not None and row[c_head] in ("", None):
                    self.head_name = name
        if c_head_id is not None:
            value = row[c_head_id]
            if value not in ("", None):
                try:
                    self.head_id = read_id_number(value, self.today)
                except BadCell as problem:
                    self._fail(excel_row, "head_id", problem)
                    self.head_id = ""
            elif relation == "户主":
                self.head_id = id_number
        elif not self.per_person:
            self.head_id = ""
        if len(relation) > TEXT_LIMITS["relation"]:
            self._check_length(excel_row, "relation", relation)
        if len(self.head_name) > TEXT_LIMITS["head_name"]:
            self._check_length(excel_row, "head_name", self.head_name)
        return relation

    def _payee(self, row: list[object], name: str) -> str:
        """Return the payee's name when someone other than the beneficiary is paid."""
        col = self.cols.get("payee_name")
        if col is None or row[col] in ("", None):
            return ""
        payee = normalize_name(cell_text(row[col]))
        return "" if payee == name else payee

    def _status(self, row: list[object], excel_row: int) -> str:
        col = self.cols.get("status")
        if col is None:
            return "paid"
        key = self._place(row[col])
        status = STATUS_WORDS.get(key, "")
        if not status:
            self.errors.append(
                Issue(
                    self.grid.name, excel_row, self.labels["status"],
                    gettext("发放状态无法识别：应为成功、失败、退回或停发"),
                    "bad_status",
                )
            )  # fmt: skip
        return status or "paid"

    def _note(self, row: list[object]) -> str:
        """Return the note scrubbed of ID, phone and account numbers (each distinct note once)."""
        col = self.cols.get("note")
        raw = cell_text(row[col]) if col is not None else ""
        if not raw:
            return ""
        note = self._notes.get(raw)
        if note is None:
            note = scrub_text(raw)
            if len(self._notes) < 10_000:
                self._notes[raw] = note
        return note

    def _check_measures(
        self, excel_row: int, quantity: Decimal, rate: Decimal, amount: Decimal
    ) -> None:
        """Warn where quantity × rate is not the amount (an error only in staff's eyes)."""
        expected = quantity * rate
        if abs(expected - amount) <= _TOLERANCE:
            return
        self.warnings.append(
            Issue(
                self.grid.name, excel_row, self.labels["amount"],
                gettext("数量×标准（%(qty)s×%(rate)s=%(expected)s）与金额%(amount)s不符")
                % {"qty": quantity, "rate": rate, "expected": expected.quantize(CENT),
                   "amount": amount},
                "amount_mismatch",
            )
        )  # fmt: skip

    def _total_row(self, row: list[object], excel_row: int, upto: int) -> None:
        """Check a totals or subtotals row against the rows above it, then start a section.

        Every money column's figure is checked against its own sum. A figure standing under
        another column while the amount column has none says the amount column is the wrong
        one: the roster stops for staff to say which it is.
        """
        is_subtotal = any(isinstance(c, str) and "小计" in c for c in row[:upto])
        c_amount = self.cols["amount"]
        self._check_total(
            excel_row,
            row[c_amount],
            self.section_sum if is_subtotal else self.sheet_sum,
            self.section_bad if is_subtotal else self.sheet_bad,
        )
        sums = self.section_sums if is_subtotal else self.sheet_sums
        for col, name in self.checked.items():
            if name != "amount_words":
                self._check_total(excel_row, row[col], sums[col], False, column=col)
        self._total_elsewhere(row, excel_row, upto, amount_empty=row[c_amount] in ("", None))
        self.section_sum = Decimal(0)
        self.section_bad = False
        self.section_sums = dict.fromkeys(self.checked, Decimal(0))

    def _total_elsewhere(
        self, row: list[object], excel_row: int, upto: int, *, amount_empty: bool
    ) -> None:
        """Stop for mapping when a totals row's figure stands where no known column explains it.

        A figure under a column nothing recognised is never ignored; with no figure under the
        amount column, one under another money column says the amount column is the wrong one.
        """
        fields = self.header.fields
        suspects = ("", "amount", "gross", "part") if amount_empty else ("",)
        chosen = set(self.cols.values())
        for col in range(upto, len(row)):
            if fields.get(col, "") in suspects and col not in chosen:
                try:
                    read_amount(row[col])
                except BadCell:
                    continue
                label = self.header.labels.get(col) or column_letter(col)
                self.errors.append(
                    Issue(
                        self.grid.name, excel_row, label,
                        gettext("合计行的金额不在“%(amount)s”列而在本列：请指定哪一列是实发金额")
                        % {"amount": self.labels["amount"]},
                        "total_elsewhere",
                    )
                )  # fmt: skip
                if "amount" not in self.roster.unsettled:
                    self.roster.unsettled.append("amount")
                return

    def _check_money(self, row: list[object], excel_row: int, amount: Decimal, clean: bool) -> None:
        """Check the amount against gross − deductions, its parts and its words; add to sums."""
        values: dict[str, Decimal] = {}
        for col, name in self.checked.items():
            cell = row[col]
            if cell in ("", None):
                continue
            try:
                value = (self.read_words if name == "amount_words" else self.read_money)(cell)
            except BadCell as problem:
                label = self.header.labels.get(col) or column_letter(col)
                self.errors.append(
                    Issue(self.grid.name, excel_row, label, problem.message, problem.code)
                )
                continue
            if name != "amount_words":
                self.sheet_sums[col] += value
                self.section_sums[col] += value
            values[name] = values.get(name, Decimal(0)) + value
        if not clean:
            return
        if "amount_words" in values and values["amount_words"] != amount:
            self._money_issue(excel_row, "amount_words_mismatch", values["amount_words"], amount)
        if "gross" in values and values["gross"] - values.get("deduction", 0) != amount:
            self._money_issue(excel_row, "net_mismatch", values["gross"], amount)
        if "part" in values and values["part"] != amount:
            self._money_issue(excel_row, "parts_mismatch", values["part"], amount)

    def _money_issue(self, excel_row: int, code: str, expected: Decimal, amount: Decimal) -> None:
        """Record a disagreement between the amount and the figures it is checked against."""
        messages = {
            "amount_words_mismatch": gettext("大写金额 %(expected)s 与金额 %(amount)s 不一致"),
            "net_mismatch": gettext("实发金额 %(amount)s 不等于应发 %(expected)s 减去扣款"),
            "parts_mismatch": gettext("合计 %(amount)s 与各分项之和 %(expected)s 不一致"),
        }
        issue = Issue(
            self.grid.name, excel_row, self.labels["amount"],
            messages[code] % {"expected": expected, "amount": amount}, code,
        )  # fmt: skip
        # Words that disagree with the figures are an error: which one was paid is unknown.
        (self.errors if code == "amount_words_mismatch" else self.warnings).append(issue)

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
        self, excel_row: int, declared_cell: object, computed: Decimal, bad: bool,
        column: int | None = None,
    ) -> None:  # fmt: skip
        """Compare a totals row's figure in COLUMN (default: the amount's) with the rows' sum."""
        col = self.cols["amount"] if column is None else column
        label = self.header.labels.get(col) or column_letter(col)
        try:
            declared = read_amount(declared_cell)
        except BadCell:
            if declared_cell not in ("", None):
                self.errors.append(
                    Issue(self.grid.name, excel_row, label, gettext("合计行的金额无法识别"),
                          "total_unreadable")
                )  # fmt: skip
            return
        computed = computed.quantize(CENT)
        if column is None:
            self.roster.totals_rows.append(
                {"sheet": self.grid.name, "row": excel_row, "declared": declared,
                 "computed": computed}
            )  # fmt: skip
        if not bad and declared != computed:
            self.errors.append(
                Issue(
                    self.grid.name, excel_row, label,
                    gettext("合计金额 %(declared)s 与各行金额之和 %(computed)s 不一致")
                    % {"declared": declared, "computed": computed},
                    "total_mismatch",
                )
            )  # fmt: skip


def _fill_heads(roster: ParsedRoster) -> None:
    """Give members of per-person rosters their head's ID where the head's row names it."""
    heads: dict[tuple[str, str, str], str | None] = {}
    for row in roster.rows:
        if row.relation == "户主":
            key = (row.village, row.group, row.name)
            heads[key] = None if key in heads and heads[key] != row.id_number else row.id_number
    for row in roster.rows:
        if not row.head_id and row.relation != "户主":
            row.head_id = heads.get((row.village, row.group, row.head_name)) or ""


# --- Entry point -----------------------------------------------------------------------------


def _file_issue(message: str, code: str) -> Issue:
    return Issue("", None, "", message, code)


def read_grids(
    source: Path | bytes, *, filename: str, kind: FileKind | str | None, max_rows: int,
    max_bytes: int, max_uncompressed: int, roster: ParsedRoster, limits: dict[str, int],
) -> list[Grid] | None:  # fmt: skip
    """Check the file (unless KIND says it was) and read its grids; None, with an error, if bad.

    LIMITS: ``max_columns``, ``max_cells`` and ``max_merged``.
    """
    cells = {"max_columns": limits["max_columns"], "max_cells": limits["max_cells"]}
    try:
        if kind is None:
            kind = check_upload(
                source, filename=filename, max_bytes=max_bytes,
                max_uncompressed=max_uncompressed, **cells,
            )  # fmt: skip
        kind = FileKind(kind)
        data = source if isinstance(source, bytes) else Path(source).read_bytes()
        grids = (
            csv_grids(data, filename, max_rows, roster, **cells)
            if kind is FileKind.CSV
            else workbook_grids(data, max_rows, roster, max_merged=limits["max_merged"], **cells)
        )
    except UnsafeFile as error:
        roster.errors.append(_file_issue(error.message, error.code))
        return None
    except Exception as error:  # any reader failure is a bad file, not a 500
        password = type(error).__name__ == "PasswordError"
        message = (
            gettext("文件设置了密码，请取消密码后重新上传")
            if password
            else gettext(
                "文件无法读取（可能已损坏，或不是 Excel/WPS 保存的表格），请重新导出后上传"
            )
        )
        roster.errors.append(_file_issue(message, "password" if password else "unreadable"))
        return None
    roster.file_kind = str(kind)
    return grids


class _Ticker:
    """Keep the deadline, report progress and hand rows over as the sheets are read."""

    def __init__(
        self, roster: ParsedRoster, *, total_rows: int, started: float,
        deadline_s: float | None, progress: Callable[[int, int], None] | None,
        on_rows: Callable[[ParsedRoster, int], None] | None,
    ) -> None:  # fmt: skip
        self.roster, self.total_rows = roster, total_rows
        self.deadline = None if deadline_s is None else started + deadline_s
        self.deadline_s = deadline_s
        self.progress, self.on_rows = progress, on_rows
        self.before = 0  # rows of the sheets already read
        self.reported = 0

    def check(self) -> None:
        """Stop the reading once past the deadline."""
        if self.deadline is not None and time.monotonic() > self.deadline:
            raise _Stop(
                _file_issue(
                    gettext("文件解析超时（超过 %(seconds)d 秒），请拆分后分批上传")
                    % {"seconds": self.deadline_s},
                    "timeout",
                )
            )

    def __call__(self, index: int) -> None:
        """Called every 256 rows of a sheet, at row INDEX."""
        done = self.before + index
        self.check()
        if self.progress is not None and done - self.reported >= PROGRESS_EVERY:
            self.reported = done
            self.progress(done, self.total_rows)
        if self.on_rows is not None:
            self.on_rows(self.roster, self.total_rows - done)

    def sheet_done(self, rows: int) -> None:
        self.before += rows
        if self.on_rows is not None:
            self.on_rows(self.roster, self.total_rows - self.before)


_NAME_FIELDS = ("name", "head_name", "payee_name")
_ID_FIELDS = ("id_number", "head_id", "disability_number")


def _sample(value: object, field: str) -> str:
    """Return a cell as the mapping page may show it: masked like the field it may be."""
    text = cell_text(value)[:40]
    if not text:
        return ""
    try:
        if field in _NAME_FIELDS:
            return personal.mask_name(text)
        if field in _ID_FIELDS:
            return personal.mask_id_number(text)
        if field == "account":
            return personal.mask_account(text)
    except ValueError:
        return "*" * min(len(text), 8)
    if field == PERSONAL:
        return "***"  # phones, addresses, certificates: nothing of them is shown
    scrubbed = personal.scrub_text(text)
    if field == "" and any("\u4e00" <= ch <= "\u9fff" for ch in scrubbed):
        # An unknown column may hold names or addresses: its first character shows its kind.
        return scrubbed[0] + "*" * min(len(scrubbed) - 1, 7)
    return scrubbed[:20]


def _columns(grid: Grid, header: Header) -> list[Column]:
    """Describe the header's columns for the mapping page, with three masked samples each."""
    below = grid.rows[header.row + 1 : header.row + 41]
    columns = []
    for col, label in sorted(header.labels.items()):
        field = header.fields.get(col, "")
        values = [row[col] for row in below if col < len(row) and row[col] not in ("", None)]
        samples = tuple(s for s in (_sample(v, field) for v in values[:3]) if s)
        columns.append(
            Column(grid.name, col, column_letter(col), label, field, samples,
                   guessed=col not in header.given)
        )  # fmt: skip
    return columns


def _read_sheets(
    grids: list[Grid], roster: ParsedRoster, *, township: str, today: date, tick: _Ticker,
    mapping: Mapping[str, str] | None = None,
    mapping_for: Callable[[str], Mapping[str, str] | None] | None = None,
) -> tuple[bool, set[str]]:  # fmt: skip
    """Read every sheet with a header; return whether any had one, and the kinds of roster."""
    seen: dict[str, tuple[str, int, str]] = {}
    flagged: set[tuple[str, int]] = set()
    any_header = False
    kinds: set[str] = set()
    for grid in grids:
        fill_merged(grid, tick.check)
    found = {id(g): find_header(g.rows, mapping=mapping, mapping_for=mapping_for) for g in grids}
    if not any(found.values()):  # nothing recognised: offer the likeliest rows for mapping
        found = {id(g): find_header(g.rows, mapping=mapping, fallback=True) for g in grids}
    for grid in grids:
        header = found[id(grid)]
        if header is None:
            if any(any(row) for row in grid.rows):
                roster.warnings.append(
                    Issue(grid.name, None, "", gettext("没有找到表头，已跳过该工作表"), "no_header")
                )
            continue
        any_header = True
        roster.sheets.append(grid.name)
        roster.columns += _columns(grid, header)
        roster.signature = roster.signature or header.signature
        roster.mapping.update(
            (header.labels[col], name)
            for col, name in header.fields.items()
            if col in header.labels
        )
        reader = _SheetReader(
            grid, header, roster=roster, township=township, today=today, seen=seen,
            flagged=flagged,
        )  # fmt: skip
        if not reader.check_columns():
            continue
        kinds.add("per_person" if reader.per_person else "per_household")
        reader.read(tick, township)
        tick.sheet_done(len(grid.rows))
        grid.rows = []  # free the cells as soon as the sheet is done
    return any_header, kinds


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
    max_columns: int = DEFAULT_MAX_COLUMNS,
    max_cells: int = DEFAULT_MAX_CELLS,
    max_merged: int = DEFAULT_MAX_MERGED,
    today: date | None = None,
    on_rows: Callable[[ParsedRoster, int], None] | None = None,
    mapping: Mapping[str, str] | None = None,
    mapping_for: Callable[[str], Mapping[str, str] | None] | None = None,
) -> ParsedRoster:
    """Read and validate a roster; return rows, every error and warning, and checked totals.

    ``on_rows``, when given, is called every few hundred rows with the roster and how many
    rows of the file (blank and title rows included) are still to be read, so that its rows
    can be staged and loaded as they come (``funds.importing.jobs``).

    Pass ``kind`` (from ``filesafety.check_upload``) when the file has been checked already;
    otherwise it is checked here against ``max_bytes`` and ``max_uncompressed``.
    ``deadline_s`` bounds the wall-clock time of parsing (checked every few hundred rows).
    No sheet wider than ``max_columns``, larger than ``max_cells`` or with more than
    ``max_merged`` merged ranges is read.

    ``mapping`` (header label -> field, ``IGNORE`` or ``PERSONAL``) says what columns are,
    over what their headers say; else ``mapping_for``, given a sheet's header signature, may
    return a saved one. Fields that neither settles are in ``roster.unsettled``, with errors.
    """
    started = time.monotonic()
    roster = ParsedRoster()
    grids = read_grids(
        source, filename=filename, kind=kind, max_rows=max_rows, max_bytes=max_bytes,
        max_uncompressed=max_uncompressed, roster=roster,
        limits={"max_columns": max_columns, "max_cells": max_cells, "max_merged": max_merged},
    )  # fmt: skip
    if grids is None:
        return roster
    tick = _Ticker(
        roster, total_rows=sum(len(grid.rows) for grid in grids), started=started,
        deadline_s=deadline_s, progress=progress, on_rows=on_rows,
    )  # fmt: skip
    truncated = any(grid.truncated for grid in grids)
    try:
        any_header, kinds = _read_sheets(
            grids, roster, township=normalize_name(township) if township else "",
            today=today or date.today(), tick=tick, mapping=mapping, mapping_for=mapping_for,
        )  # fmt: skip
    except _Stop as stop:
        roster.errors.append(stop.issue)
        roster.rows = []
        return roster
    except UnsafeFile as error:  # merged ranges that overlap
        roster.errors.append(_file_issue(error.message, error.code))
        roster.rows = []
        return roster
    _finish(roster, any_header=any_header, kinds=kinds, too_many=truncated, max_rows=max_rows)
    if progress is not None:
        progress(tick.total_rows, tick.total_rows)
    return roster


def _finish(
    roster: ParsedRoster, *, any_header: bool, kinds: set[str], too_many: bool, max_rows: int
) -> None:
    """Add the file-wide errors, link members to their heads and total the roster."""
    if too_many or len(roster.rows) > max_rows:
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
