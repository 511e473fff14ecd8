"""Open-data downloads: CSV (UTF-8 with BOM) and XLSX, streamed and formula-safe."""

from __future__ import annotations

import csv
import io
import tempfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import BinaryIO

from django.http import FileResponse, StreamingHttpResponse
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

# A cell starting with one of these is read as a formula by Excel, LibreOffice or WPS.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
CSV_CONTENT_TYPE = "text/csv; charset=utf-8"
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

Cell = str | int | Decimal | date | datetime | None


def neutralise(value: Cell) -> Cell:
    """Prefix a text cell that a spreadsheet would run as a formula; leave numbers alone."""
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


def csv_cell(value: Cell) -> str:
    """Render one CSV cell: numbers with two places (or more where they have them: an area of
    2.3456 mu), text neutralised."""
    if value is None:
        return ""
    if isinstance(value, Decimal):
        places = -value.normalize().as_tuple().exponent
        return f"{value:.{max(2, places)}f}"
    if isinstance(value, date | datetime):
        return value.isoformat()
    return str(neutralise(value))


class _Echo:
    def write(self, value: str) -> str:
        return value


def iter_csv(header: Sequence[str], rows: Iterable[Sequence[Cell]]) -> Iterator[str]:
    """Yield CSV text chunk by chunk, beginning with a BOM so Excel reads UTF-8."""
    writer = csv.writer(_Echo())
    yield "\ufeff" + writer.writerow([csv_cell(h) for h in header])
    for row in rows:
        yield writer.writerow([csv_cell(value) for value in row])


def csv_response(
    filename: str,
    header: Sequence[str],
    rows: Iterable[Sequence[Cell]],
    *,
    headers: Mapping[str, str] | None = None,
) -> StreamingHttpResponse:
    """Stream rows as a UTF-8-with-BOM CSV download, with extra response HEADERS if given."""
    response = StreamingHttpResponse(iter_csv(header, rows), content_type=CSV_CONTENT_TYPE)
    response["Content-Disposition"] = _attachment(filename)
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def write_xlsx(
    file: BinaryIO,
    header: Sequence[str],
    rows: Iterable[Sequence[Cell]],
    *,
    title: str = "data",
    number_formats: Mapping[int, str] | None = None,
    notes: Iterable[Sequence[Cell]] | None = None,
) -> None:
    """Write rows to FILE as a workbook, through openpyxl's write-only mode.

    NUMBER_FORMATS maps a column's index to an Excel number format; NOTES, if given, are the
    rows of a second sheet 说明 (what the data is: when it was taken, with which filters).
    """
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=title[:31])
    sheet.append([neutralise(h) for h in header])
    formats = number_formats or {}
    for row in rows:
        sheet.append([_xlsx_cell(sheet, value, formats.get(i)) for i, value in enumerate(row)])
    if notes is not None:
        note_sheet = workbook.create_sheet(title=_("说明"))
        for row in notes:
            note_sheet.append([neutralise(value) for value in row])
    workbook.save(file)


def write_csv(file: BinaryIO, header: Sequence[str], rows: Iterable[Sequence[Cell]]) -> None:
    """Write rows to FILE as the CSV that ``csv_response`` streams, byte for byte."""
    for text in iter_csv(header, rows):
        file.write(text.encode())


def xlsx_response(
    filename: str,
    header: Sequence[str],
    rows: Iterable[Sequence[Cell]],
    *,
    title: str = "data",
    number_formats: Mapping[int, str] | None = None,
    notes: Iterable[Sequence[Cell]] | None = None,
    headers: Mapping[str, str] | None = None,
) -> FileResponse:
    """Write rows to a write-only workbook on disk (``write_xlsx``) and stream the file back."""
    spool = tempfile.TemporaryFile()  # noqa: SIM115 - FileResponse closes it
    write_xlsx(spool, header, rows, title=title, number_formats=number_formats, notes=notes)
    spool.seek(0)
    response = FileResponse(
        spool, as_attachment=True, filename=filename, content_type=XLSX_CONTENT_TYPE
    )
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def _xlsx_cell(
    sheet: WriteOnlyWorksheet, value: Cell, number_format: str | None
) -> WriteOnlyCell | Cell:
    """Return VALUE for a sheet: a Decimal as an exact numeric cell, text neutralised."""
    if not isinstance(value, Decimal):
        if number_format is None or not isinstance(value, int):
            return neutralise(value)
        cell = WriteOnlyCell(sheet, value=value)
    else:
        cell = WriteOnlyCell(sheet, value=value)
        # openpyxl writes numbers through "%.16g", a float: 968742861036.07 would come out
        # as 968742861036.0699. Its writer puts a text value of a numeric cell into <v> as
        # is, so the cell keeps the Decimal's own digits.
        cell._value = format(value, "f")
    if number_format is not None:
        cell.number_format = number_format
    return cell


def bytes_response(filename: str, content: bytes) -> FileResponse:
    """Send an xlsx workbook already written to CONTENT as a download."""
    return FileResponse(
        io.BytesIO(content), as_attachment=True, filename=filename, content_type=XLSX_CONTENT_TYPE
    )


def _attachment(filename: str) -> str:
    from django.utils.http import content_disposition_header

    return content_disposition_header(as_attachment=True, filename=filename)
