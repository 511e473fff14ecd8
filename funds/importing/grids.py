"""Turn a checked file into grids of cells: CSV (UTF-8, GB18030, UTF-16) or workbooks via calamine.

One ``Grid`` per visible worksheet, rows and columns as Excel numbers them, merged ranges
filled with their top-left value. Nothing here knows what a column means.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from pathlib import Path

from django.utils.translation import gettext

from funds.importing.filesafety import decode_text
from funds.importing.parsed import Issue, ParsedRoster

#: How many rows from the top may hold titles before the header.
HEADER_WINDOW = 15
#: The delimiters a CSV may use, in the order preferred when they tie.
DELIMITERS = (",", "\t", ";")
_QUOTED = re.compile(r'"[^"]*"')


@dataclass
class Grid:
    """One sheet's cells, rows and columns as in the file (row 0 is Excel row 1)."""

    name: str
    rows: list[list[object]]
    merged: list[tuple[tuple[int, int], tuple[int, int]]]
    truncated: bool = False


def csv_grids(data: bytes, filename: str, max_rows: int, roster: ParsedRoster) -> list[Grid]:
    """Decode CSV bytes strictly and split them into one grid named after the file."""
    text, roster.encoding = decode_text(data)
    delimiter = sniff_delimiter(text)
    rows: list[list[object]] = []
    truncated = False
    for row in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter):
        if len(rows) >= max_rows + HEADER_WINDOW:
            truncated = True
            break
        rows.append(row)  # type: ignore[arg-type]
    stem = Path(filename).stem or "CSV"
    return [Grid(stem, rows, [], truncated)]


def sniff_delimiter(text: str) -> str:
    """Return the delimiter used most, outside quotes, on the first lines of a CSV text.

    The header and the rows under it carry the delimiters; title lines above them carry none
    (or a stray comma), so the first line alone says nothing. A tab an export put inside
    quoted cells to keep Excel off long numbers does not count.
    """
    lines = _QUOTED.sub("", text[:65536]).splitlines()[: HEADER_WINDOW + 5]
    counts = {mark: sum(line.count(mark) for line in lines) for mark in DELIMITERS}
    return max(DELIMITERS, key=counts.__getitem__)  # the first of equals: a comma


def workbook_grids(data: bytes, max_rows: int, roster: ParsedRoster) -> list[Grid]:
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
            grids.append(Grid(meta.name, rows[:limit], sheet.merged_cell_ranges or [], truncated))
    return grids


def fill_merged(grid: Grid) -> None:
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
