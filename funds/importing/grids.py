"""Turn a checked file into grids of cells: CSV (UTF-8, GB18030, UTF-16) or workbooks via calamine.

One ``Grid`` per visible worksheet, rows and columns as Excel numbers them, merged ranges
filled with their top-left value. Nothing here knows what a column means.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from django.utils.translation import gettext

from funds.importing.filesafety import (
    DEFAULT_MAX_CELLS,
    DEFAULT_MAX_COLUMNS,
    UnsafeFile,
    decode_text,
    too_large_sheet,
)
from funds.importing.parsed import Issue, ParsedRoster
from funds.importing.sandbox import extent

#: How many rows from the top may hold titles before the header.
HEADER_WINDOW = 15
#: How many merged ranges one sheet may have (a roster has a few hundred at most).
DEFAULT_MAX_MERGED = 10_000
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


def csv_grids(
    data: bytes, filename: str, max_rows: int, roster: ParsedRoster,
    max_columns: int = DEFAULT_MAX_COLUMNS, max_cells: int = DEFAULT_MAX_CELLS,
) -> list[Grid]:  # fmt: skip
    """Decode CSV bytes strictly and split them into one grid named after the file."""
    text, roster.encoding = decode_text(data)
    delimiter = sniff_delimiter(text)
    rows: list[list[object]] = []
    truncated = False
    stem = Path(filename).stem or "CSV"
    for row in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter):
        if len(rows) >= max_rows + HEADER_WINDOW:
            truncated = True
            break
        if len(row) > max_columns:
            # Every later step walks the columns: a line of 100,000 cells is refused here.
            raise too_large_sheet(
                stem, len(rows) + 1, len(row), max_columns=max_columns, max_cells=max_cells
            )
        rows.append(row)  # type: ignore[arg-type]
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


def workbook_grids(
    data: bytes, max_rows: int, roster: ParsedRoster, *,
    max_columns: int = DEFAULT_MAX_COLUMNS, max_cells: int = DEFAULT_MAX_CELLS,
    max_merged: int = DEFAULT_MAX_MERGED,
) -> list[Grid]:  # fmt: skip
    """Read every visible worksheet with calamine, refusing sheets over the limits."""
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
            # filesafety bounded the grid before calamine built it: this is a second look.
            height, width = extent(sheet)
            if width > max_columns or width * height > max_cells:
                raise too_large_sheet(
                    meta.name, height, width, max_columns=max_columns, max_cells=max_cells
                )
            merged = sheet.merged_cell_ranges or []
            if len(merged) > max_merged:
                raise _too_many_merged(meta.name, len(merged), max_merged)
            limit = max_rows + HEADER_WINDOW
            # skip_empty_area=False keeps row and column numbers as Excel shows them.
            rows = sheet.to_python(skip_empty_area=False, nrows=limit + 1)
            truncated = len(rows) > limit
            grids.append(Grid(meta.name, rows[:limit], merged, truncated))
    return grids


def _too_many_merged(sheet: str, count: int, limit: int) -> UnsafeFile:
    return UnsafeFile(
        "too_many_merged",
        gettext(
            "工作表“%(sheet)s”的合并单元格过多（%(count)d 处，上限 %(limit)d 处），请取消合并后上传"
        )
        % {"sheet": sheet[:31], "count": count, "limit": limit},
    )


def fill_merged(grid: Grid, check: Callable[[], None] | None = None) -> None:
    """Copy the value of each merged range's top-left cell into the whole range.

    CHECK (the reader's deadline) is called for every range and every few thousand rows
    of one. Ranges that do not overlap fill at most the sheet's cells: more is refused.
    """
    rows = grid.rows
    if not grid.merged:
        return
    budget = sum(map(len, rows))
    filled = 0
    for (r0, c0), (r1, c1) in grid.merged:
        if check is not None:
            check()
        if r0 >= len(rows) or c0 >= len(rows[r0]) or r1 < r0 or c1 < c0:
            continue
        value = rows[r0][c0]
        last = min(r1, len(rows) - 1)
        filled += (last - r0 + 1) * (min(c1, len(rows[r0]) - 1) - c0 + 1)
        if filled > budget:
            raise _overlapping(grid.name)
        for r in range(r0, last + 1):
            if check is not None and not (r - r0) & 4095:
                check()
            row = rows[r]
            end = min(c1, len(row) - 1) + 1
            if end > c0:
                row[c0:end] = [value] * (end - c0)


def _overlapping(sheet: str) -> UnsafeFile:
    return UnsafeFile(
        "merged_overlap",
        gettext("工作表“%(sheet)s”的合并单元格互相重叠，无法读取，请取消合并后上传")
        % {"sheet": sheet[:31]},
    )
