"""Open-data downloads: CSV (UTF-8 with BOM) and XLSX, streamed and formula-safe."""

from __future__ import annotations

import csv
import io
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime
from decimal import Decimal

from django.http import FileResponse, StreamingHttpResponse
from openpyxl import Workbook

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
    filename: str, header: Sequence[str], rows: Iterable[Sequence[Cell]]
) -> StreamingHttpResponse:
    """Stream rows as a UTF-8-with-BOM CSV download."""
    response = StreamingHttpResponse(iter_csv(header, rows), content_type=CSV_CONTENT_TYPE)
    response["Content-Disposition"] = _attachment(filename)
    return response


def xlsx_response(
    filename: str, header: Sequence[str], rows: Iterable[Sequence[Cell]], *, title: str = "data"
) -> FileResponse:
    """Write rows to a write-only workbook on disk and stream the file back."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=title[:31])
    sheet.append([neutralise(h) for h in header])
    for row in rows:
        # Amounts stay numbers; openpyxl writes Decimal as a numeric cell.
        sheet.append([neutralise(value) for value in row])
    spool = tempfile.TemporaryFile()  # noqa: SIM115 - FileResponse closes it
    workbook.save(spool)
    spool.seek(0)
    return FileResponse(
        spool, as_attachment=True, filename=filename, content_type=XLSX_CONTENT_TYPE
    )


def bytes_response(filename: str, content: bytes) -> FileResponse:
    """Send an xlsx workbook already written to CONTENT as a download."""
    return FileResponse(
        io.BytesIO(content), as_attachment=True, filename=filename, content_type=XLSX_CONTENT_TYPE
    )


def _attachment(filename: str) -> str:
    from django.utils.http import content_disposition_header

    return content_disposition_header(as_attachment=True, filename=filename)
