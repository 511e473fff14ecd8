"""Read a bank return file (回盘文件): which payments failed, which were re-sent and paid.

Pure module: no ORM. The file goes through the roster's own steps — ``filesafety`` and
``grids`` (``roster.read_grids``), ``headers.find_header`` for the header under its title rows,
``cells`` for each value, merged cells filled, totals rows checked and footers skipped — and
comes back as ``ReturnLine`` objects and ``Issue`` errors, each at its sheet, row and column,
none quoting a cell. Raw ID numbers and accounts stay in memory: ``funds.payments`` hashes them
to find the batch's rows and keeps nothing else of them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.utils.translation import gettext

from funds.importing.aliases import FIELD_LABELS, REASON_WORDS, RESULT_WORDS
from funds.importing.cells import (
    CENT,
    BadCell,
    cell_text,
    read_account,
    read_amount,
    read_id_number,
    read_pay_date,
)
from funds.importing.filesafety import DEFAULT_MAX_CELLS, DEFAULT_MAX_COLUMNS
from funds.importing.grids import DEFAULT_MAX_MERGED, Grid, fill_merged
from funds.importing.headers import Header, column_letter, find_header
from funds.importing.parsed import Issue, ParsedRoster
from funds.importing.roster import (
    DEFAULT_MAX_BYTES,
    DEFAULT_MAX_UNCOMPRESSED,
    has_digits,
    is_footer_row,
    is_total_row,
    read_grids,
)
from privacy import personal
from privacy.normalize import normalize_name

__all__ = ["FAILED", "SUCCEEDED", "ParsedReturn", "ReturnLine", "read_return", "reason_of"]

FAILED, SUCCEEDED = "failed", "succeeded"
#: The most lines a return file may have: it lists the exceptions of one batch.
DEFAULT_MAX_LINES = 200_000
NOTE_LIMIT = 200


@dataclass(slots=True)
class ReturnLine:
    """One line of a return file: whose payment, how much, what happened, when and why."""

    sheet: str
    row: int
    id_number: str  # normalised 18-digit ID, '' when the file gives only the account
    account: str  # digits, '' when none
    amount: Decimal
    outcome: str  # FAILED | SUCCEEDED
    result_date: date | None
    reason: str  # a PaymentResult.Reason value for failures, '' for successes
    note: str  # the reason's text, scrubbed of numbers and the line's names


@dataclass
class ParsedReturn:
    """What a return file holds, with every error found in it."""

    lines: list[ReturnLine] = field(default_factory=list)
    errors: list[Issue] = field(default_factory=list)
    #: Per sheet, the column labels of the fields matched on: errors found later name them.
    labels: dict[str, dict[str, str]] = field(default_factory=dict)
    file_kind: str = ""

    def ok(self) -> bool:
        return not self.errors and bool(self.lines)


def reason_of(text: str) -> str:
    """Return the reason a failure text names (a ``PaymentResult.Reason`` value)."""
    key = "".join(text.split())
    for words, reason in REASON_WORDS:
        if any(word in key for word in words):
            return reason
    return "other"


class _SheetReader:
    """Turn one grid of a return file into lines and errors."""

    def __init__(self, grid: Grid, header: Header, parsed: ParsedReturn, today: date) -> None:
        self.grid, self.header, self.parsed, self.today = grid, header, parsed, today
        self.cols = header.columns
        self.labels = {
            name: header.labels.get(col) or column_letter(col) for name, col in self.cols.items()
        }
        self.sheet_sum = self.section_sum = Decimal(0)
        self.bad_sum = False

    def label(self, name: str) -> str:
        return self.labels.get(name) or FIELD_LABELS.get(name, name)

    def error(self, row: int | None, name: str, message: str, code: str) -> None:
        self.parsed.errors.append(Issue(self.grid.name, row, self.label(name), message, code))

    def check_columns(self) -> bool:
        """Say whether the sheet has an amount and an ID or account column; name what lacks."""
        ok = True
        for name in ("id_number", "account", "amount"):
            if self.header.unsettled.get(name) == "ambiguous":
                self.error(
                    None,
                    name,
                    gettext("工作表中有多列可能是“%(field)s”，请只保留一列")
                    % {"field": self.label(name)},
                    "ambiguous_column",
                )
                ok = False
        if "amount" not in self.cols and "amount" not in self.header.unsettled:
            self.header.unsettled["amount"] = "missing"
        if self.header.unsettled.get("amount") == "missing":
            self.error(None, "amount", gettext("工作表缺少“金额”列"), "missing_column")
            ok = False
        if "id_number" not in self.cols and "account" not in self.cols:
            self.error(
                None,
                "id_number",
                gettext("工作表缺少“身份证号码”列和“账号”列，至少需要一列"),
                "missing_column",
            )
            ok = False
        return ok

    def read(self) -> None:
        rows, cols = self.grid.rows, self.cols
        keys = [cols[name] for name in ("id_number", "account") if name in cols]
        c_amount = cols["amount"]
        width = max(cols.values()) + 1
        upto = max(min(5, c_amount, *keys), 1)
        heading = {
            cell
            for row in rows[self.header.first : self.header.row + 1]
            for cell in row
            if isinstance(cell, str) and cell
        }
        for index in range(self.header.row + 1, len(rows)):
            row = rows[index]
            if len(row) < width:
                row = [*row, *([""] * (width - len(row)))]
            if not any(row):
                continue
            if is_total_row(row, upto) and not any(has_digits(row[k]) for k in keys):
                self._total(row, index + 1, upto)
                continue
            if row[c_amount] in heading:
                continue  # the header repeated on a printed page
            if not any(has_digits(row[k]) for k in keys) and is_footer_row(row):
                continue
            if all(row[k] in ("", None) for k in keys) and row[c_amount] in ("", None):
                continue
            line = self._line(row, index + 1)
            if line is not None:
                self.parsed.lines.append(line)

    def _read(self, name: str, reader: Any, row: list[object], excel_row: int) -> Any:
        col = self.cols.get(name)
        if col is None:
            return None
        try:
            return reader(row[col])
        except BadCell as problem:
            self.error(excel_row, name, problem.message, problem.code)
            return None

    def _line(self, row: list[object], excel_row: int) -> ReturnLine | None:
        before = len(self.parsed.errors)
        id_number = self._read("id_number", self._id, row, excel_row) or ""
        account = self._read("account", read_account, row, excel_row) or ""
        if not id_number and not account and len(self.parsed.errors) == before:
            name = "id_number" if "id_number" in self.cols else "account"
            self.error(excel_row, name, gettext("身份证号码和账号都为空"), "key_empty")
        amount = self._read("amount", read_amount, row, excel_row)
        if amount is None:
            self.bad_sum = True
            if "amount" in self.cols and row[self.cols["amount"]] in ("", None):
                self.error(excel_row, "amount", gettext("金额为空"), "amount_empty")
        else:
            self.sheet_sum += amount
            self.section_sum += amount
        outcome = self._outcome(row, excel_row)
        result_date = self._read("pay_date", read_pay_date, row, excel_row)
        if result_date is not None and result_date > self.today:
            self.error(excel_row, "pay_date", gettext("日期晚于今天"), "date_future")
        if len(self.parsed.errors) != before:
            return None
        reason, note = "", ""
        if outcome == FAILED:
            text = cell_text(row[self.cols["note"]]) if "note" in self.cols else ""
            reason = reason_of(text) if text else "other"
            note = self._scrubbed(text, row)
        return ReturnLine(
            self.grid.name,
            excel_row,
            id_number,
            account,
            amount or Decimal(0),
            outcome,
            result_date,
            reason,
            note,
        )

    def _id(self, value: object) -> str:
        if value in ("", None):
            return ""
        return read_id_number(value, self.today)

    def _outcome(self, row: list[object], excel_row: int) -> str:
        """Read the result column; a file without one lists failures (退票清单)."""
        col = self.cols.get("status")
        if col is None:
            return FAILED
        key = "".join(normalize_name(cell_text(row[col])).split())
        outcome = RESULT_WORDS.get(key, "")
        if not outcome:
            self.error(
                excel_row,
                "status",
                gettext("处理结果无法识别：应为成功、失败、退回或重发成功"),
                "bad_result",
            )
        return outcome

    def _scrubbed(self, text: str, row: list[object]) -> str:
        """Return a reason's text without numbers or the names on its line."""
        if not text:
            return ""
        names = {
            normalize_name(cell_text(row[self.cols[name]]))
            for name in ("name", "payee_name", "head_name")
            if name in self.cols
        }
        note = personal.mask_known_names(personal.scrub_text(text), {n for n in names if n})
        return note[:NOTE_LIMIT]

    def _total(self, row: list[object], excel_row: int, upto: int) -> None:
        """Check a totals row against the lines above it (a 小计 against its section)."""
        subtotal = any(isinstance(c, str) and "小计" in c for c in row[:upto])
        computed = (self.section_sum if subtotal else self.sheet_sum).quantize(CENT)
        self.section_sum = Decimal(0)
        cell = row[self.cols["amount"]]
        try:
            declared = read_amount(cell)
        except BadCell:
            if cell not in ("", None):
                self.error(excel_row, "amount", gettext("合计行的金额无法识别"), "total_unreadable")
            return
        if not self.bad_sum and declared != computed:
            self.error(
                excel_row,
                "amount",
                gettext("合计金额 %(declared)s 与各行金额之和 %(computed)s 不一致")
                % {"declared": declared, "computed": computed},
                "total_mismatch",
            )


def read_return(
    source: Path | bytes,
    *,
    filename: str,
    today: date | None = None,
    max_lines: int = DEFAULT_MAX_LINES,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> ParsedReturn:
    """Read and validate a bank return file; every error at its sheet, row and column."""
    parsed = ParsedReturn()
    holder = ParsedRoster()  # read_grids reports file problems and warnings on a roster
    grids = read_grids(
        source,
        filename=filename,
        kind=None,
        max_rows=max_lines,
        max_bytes=max_bytes,
        max_uncompressed=DEFAULT_MAX_UNCOMPRESSED,
        roster=holder,
        limits={
            "max_columns": DEFAULT_MAX_COLUMNS,
            "max_cells": DEFAULT_MAX_CELLS,
            "max_merged": DEFAULT_MAX_MERGED,
        },
    )
    parsed.errors += holder.errors
    if grids is None:
        return parsed
    parsed.file_kind = holder.file_kind
    today = today or date.today()
    found = False
    for grid in grids:
        fill_merged(grid)
        header = find_header(grid.rows)
        if header is None:
            continue
        found = True
        reader = _SheetReader(grid, header, parsed, today)
        if reader.check_columns():
            parsed.labels[grid.name] = {
                name: reader.label(name) for name in ("id_number", "account", "amount", "pay_date")
            }
            reader.read()
        if grid.truncated:
            parsed.errors.append(
                Issue(
                    grid.name,
                    None,
                    "",
                    gettext("文件行数超过上限（%(limit)d 行），请拆分后分批上传")
                    % {"limit": max_lines},
                    "too_many_rows",
                )
            )
    if not found:
        parsed.errors.append(
            Issue(
                "",
                None,
                "",
                gettext("没有找到回盘文件的表头：表头应包含身份证号码或账号、金额等列"),
                "no_header",
            )
        )
    elif not parsed.lines and not parsed.errors:
        parsed.errors.append(Issue("", None, "", gettext("回盘文件中没有数据行"), "no_rows"))
    return parsed
