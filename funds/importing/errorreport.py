"""Write the error report: the original rows, masked, with each row's problems beside it.

The report is written once, at staging time, while the upload still exists, and kept
after the upload is deleted; so every cell is masked before it is written: numbers that
look like ID numbers, accounts or phones are scrubbed, and the cells of name columns are
masked by the deployment's policy. Staff see where the problem is without the file
holding raw personal data at rest.
"""

from __future__ import annotations

import csv
import io
import logging
import re
from collections import defaultdict
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font, PatternFill

from funds.importing.filesafety import MASKED_REPORT_KEYWORD, MASKED_REPORT_WORDS, decode_text
from funds.importing.grids import sniff_delimiter
from funds.importing.parsed import PERSONAL
from privacy import personal
from privacy.logs import log_failure

log = logging.getLogger(__name__)

NAME_HEADERS = (
    "姓名",
    "户主",
    "收款人",
    "享受人",
    "领款人",
    "代领人",
    "领取人",
    "申请人",
    "监护人",
)
NOT_NAME_HEADERS = (
    "身份证",
    "证件",
    "关系",
    "账号",
    "帐号",
    "卡号",
    "电话",
    "手机",
    "人数",
    "号码",
)
MAX_ROWS = 200_000
#: What makes Excel (or a CSV saved from the report) read a text as a formula or a DDE call.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")
#: Excel's limit on one cell's text.
_CELL_CHARS = 32_767
#: Excel's 16,384 columns, less the one the problems are written in.
_COLUMNS = 16_383
#: Characters a sheet title may not hold.
_TITLE_BAD = re.compile(r"[\[\]:*?/\\]")


def safe_text(text: str) -> str:
    """Return TEXT as a workbook may hold it: never a formula, no control characters."""
    text = ILLEGAL_CHARACTERS_RE.sub("", text)[:_CELL_CHARS]
    # A leading apostrophe keeps Excel (and a CSV saved from it) reading the cell as text.
    return "'" + text if text.startswith(_FORMULA_START) else text


def sheet_title(name: str, fallback: str, used: set[str]) -> str:
    """Return a valid, unused sheet title for NAME: at most 31 characters, none of []:*?/\\."""
    title = _TITLE_BAD.sub("_", ILLEGAL_CHARACTERS_RE.sub("", name)).strip("' ")[:31]
    if not title or title.lower() == "history":  # Excel reserves "History"
        title = fallback
    base, number = title[:27], 1
    while title.lower() in used:  # Excel compares titles without case
        number += 1
        title = f"{base}({number})"
    used.add(title.lower())
    return title


def _read_sheets(source: Path | bytes, filename: str) -> Iterator[tuple[str, list[list[Any]]]]:
    """Yield (sheet name, rows) of the original file, as plain cell values."""
    suffix = Path(filename).suffix.lower()
    raw = source if isinstance(source, bytes) else Path(source).read_bytes()
    if suffix in (".csv", ".txt"):
        # Split as the importer did (encoding, delimiter), so that columns line up with the
        # parsed ones and name columns are masked whatever the file's separator.
        text, _encoding = decode_text(raw)
        rows = csv.reader(io.StringIO(text, newline=""), delimiter=sniff_delimiter(text))
        yield Path(filename).stem, list(rows)
        return
    from python_calamine import CalamineWorkbook

    book = CalamineWorkbook.from_filelike(io.BytesIO(raw))
    for name in book.sheet_names:
        yield name, book.get_sheet_by_name(name).to_python(skip_empty_area=False)


def _name_columns(rows: list[list[Any]]) -> tuple[int, set[int]]:
    """Return the header row index and the columns holding names (by header words)."""
    for index, row in enumerate(rows[:30]):
        cells = [str(c or "") for c in row]
        columns = {
            i
            for i, text in enumerate(cells)
            if any(w in text for w in NAME_HEADERS) and not any(w in text for w in NOT_NAME_HEADERS)
        }
        if columns:
            return index, columns
    return -1, set()


_NAME_FIELDS = ("name", "head_name", "payee_name")


def _roster_names(rows: list[list[Any]], header: int, name_cols: set[int]) -> set[str]:
    """Return the full names in the name columns: they are masked wherever else they appear."""
    return {
        text
        for row in rows[header + 1 : MAX_ROWS]
        for i in name_cols
        if i < len(row) and isinstance(row[i], str) and len(text := "".join(row[i].split())) >= 2
    }


def _masked(
    value: Any, *, is_name: bool, is_personal: bool = False, names: set[str] = frozenset()
) -> Any:
    """Return a cell value safe to keep: names masked, personal numbers scrubbed.

    A column of personal data a payment does not need (phones, addresses, …) keeps nothing;
    elsewhere the roster's own NAMES are masked wherever they stand.
    """
    if value is None or value == "":
        return value
    if is_personal:
        return "***"
    if isinstance(value, bool | date | datetime):
        return value
    if isinstance(value, int | float):
        text = str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)
        if len(text.lstrip("-").split(".")[0]) < 7:
            return value  # amounts, areas, counts
        return personal.scrub_text(text)
    text = str(value)
    if is_name and text.strip():
        return safe_text(personal.mask_name(text))
    # Cells are values, never formulas, in a file staff will open in Excel.
    return safe_text(personal.mask_known_names(personal.scrub_text(text), names))


def build(
    source: Path | bytes, *, filename: str, sheets: list[str], report: Any,
    columns: list[Any] = (),  # type: ignore[assignment]
) -> bytes:  # fmt: skip
    """Return the xlsx bytes of the error report for REPORT.

    COLUMNS (``parsed.Column``) say which columns hold names and unneeded personal data; a
    sheet they do not describe is read by its header words.
    """
    fields: dict[str, dict[int, str]] = defaultdict(dict)
    for column in columns:
        fields[column.sheet][column.index] = column.field
    problems: dict[tuple[str, int | None], list[str]] = defaultdict(list)
    for kind, items in ((_("错误"), report.errors), (_("提示"), report.warnings)):
        for item in items:
            column = f"[{item['column']}] " if item.get("column") else ""
            problems[(item.get("sheet") or "", item.get("row"))].append(
                f"{kind}：{column}{item['message']}"
            )
    book = Workbook(write_only=True)
    # Marked twice so that an edited copy sent back is recognised and refused: in the document
    # properties (kept when Excel or WPS saves it again) and in every sheet's result header
    # (kept when it is saved as CSV).
    book.properties.keywords = MASKED_REPORT_KEYWORD
    book.properties.title = _("校验结果（已脱敏，不能再次导入）")
    bold, red = Font(bold=True), PatternFill("solid", fgColor="FFE0E0")
    general = problems.pop(("", None), [])
    used: set[str] = set()
    summary = book.create_sheet(sheet_title(_("问题汇总"), "Summary", used))
    summary.append(
        [
            safe_text(
                _(
                    "本文件是校验结果，个人信息已脱敏，不能再次导入。请在原始花名册中改正后上传原始文件。"
                )
            )
        ]
    )
    summary.append([safe_text(t) for t in (_("工作表"), _("行号"), _("列"), _("说明"))])
    for kind, items in ((_("错误"), report.errors), (_("提示"), report.warnings)):
        for item in items:
            summary.append(
                [safe_text(str(item.get("sheet") or "")), item.get("row"),
                 safe_text(str(item.get("column") or "")), safe_text(f"{kind}：{item['message']}")]
            )  # fmt: skip
    del general
    try:
        originals = list(_read_sheets(source, filename))
    except Exception:  # an unreadable file still gets the summary sheet
        log.warning("error report: original rows could not be read")
        originals = []
    only_sheet = originals[0][0] if len(originals) == 1 else None
    result_label = _("校验结果（%(words)s）") % {"words": MASKED_REPORT_WORDS}
    for index, (name, rows) in enumerate(originals):
        parsed_name = sheets[index] if index < len(sheets) else name
        if columns and name not in fields and parsed_name not in fields:
            continue  # a sheet the importer did not read: nothing tells its names apart
        header, name_cols = _name_columns(rows)
        known = fields.get(name) or fields.get(parsed_name, {})
        if known:
            name_cols |= {i for i, field in known.items() if field in _NAME_FIELDS}
        personal_cols = {i for i, field in known.items() if field == PERSONAL}
        names = _roster_names(rows, header, name_cols)
        out = book.create_sheet(sheet_title(name, f"Sheet{index + 1}", used))
        for number, row in enumerate(rows[:MAX_ROWS], start=1):
            found = problems.get((parsed_name, number)) or problems.get((name, number))
            if found is None and only_sheet is not None:
                found = next(
                    (v for (s, r), v in problems.items() if r == number and s not in sheets), None
                )
            cell = WriteOnlyCell(out, value=safe_text("；".join(found)) if found else "")
            if found:
                cell.fill, cell.font = red, bold
            below = number - 1 > header
            masks = (name_cols, personal_cols) if below else (set(), set())
            values = [
                _masked(v, is_name=i in masks[0], is_personal=i in masks[1], names=names)
                for i, v in enumerate(row[:_COLUMNS])
            ]
            out.append(
                [*values, cell] if number - 1 != header else [*values, safe_text(result_label)]
            )
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def save(source: Path | bytes, *, filename: str, sha256: str, roster: Any, report: Any) -> str:
    """Write the error report to storage and return its name ('' when it cannot be built)."""
    try:
        data = build(
            source, filename=filename, sheets=list(roster.sheets), report=report,
            columns=getattr(roster, "columns", []),
        )  # fmt: skip
    except Exception:
        log_failure(log, "error report for %s could not be written", sha256[:12])
        return ""
    return default_storage.save(f"reports/{sha256[:16]}-errors.xlsx", ContentFile(data))
