"""Uploads are refused before parsing when they are not spreadsheets or could hurt the server."""

import codecs
import io
import struct
import zipfile

import pytest

from demo.rostergen import generate_roster
from funds.importing.filesafety import FileKind, UnsafeFile, check_upload, decode_text
from funds.importing.roster import read_roster

MB = 1024 * 1024
LIMITS = {"max_bytes": 5 * MB, "max_uncompressed": 20 * MB}


def check(data, filename="roster.xlsx", **limits):
    return check_upload(data, filename=filename, **{**LIMITS, **limits})


def refused(data, filename="roster.xlsx", **limits) -> UnsafeFile:
    with pytest.raises(UnsafeFile) as caught:
        check(data, filename, **limits)
    return caught.value


def zip_bytes(members: dict[str, bytes], compression=zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def small_xlsx(tmp_path_factory) -> bytes:
    path = tmp_path_factory.mktemp("safe") / "roster.xlsx"
    generate_roster(path, fmt="xlsx", rows=20, seed=7)
    return path.read_bytes()


@pytest.mark.parametrize(
    ("fmt", "filename", "kind"),
    [
        ("xlsx", "r.xlsx", FileKind.XLSX),
        ("xls", "r.xls", FileKind.XLS),
        ("ods", "r.ods", FileKind.ODS),
        ("csv", "r.csv", FileKind.CSV),
        ("csv-bom", "r.csv", FileKind.CSV),
        ("csv-gbk", "r.csv", FileKind.CSV),
    ],
)
def test_real_spreadsheets_are_recognised_by_content(tmp_path, fmt, filename, kind):
    """Every supported format passes the checks and is told apart by content."""
    path = tmp_path / filename
    generate_roster(path, fmt=fmt, rows=15, seed=1)
    assert check(path, filename) is kind
    assert check(path.read_bytes(), filename) is kind


def test_an_xlsx_named_csv_is_still_read_as_xlsx(small_xlsx):
    """The extension is not trusted: the content says what the file is."""
    assert check(small_xlsx, "roster.csv") is FileKind.XLSX


def test_png_renamed_xlsx_is_not_a_spreadsheet():
    """A picture with a spreadsheet's name is refused as not a spreadsheet."""
    png = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(64)
    error = refused(png, "roster.xlsx")
    assert error.code == "not_spreadsheet"
    assert "不是电子表格文件" in error.message


def test_text_renamed_xlsx_is_not_a_spreadsheet():
    """Plain text dressed up as .xlsx is refused rather than guessed at."""
    assert refused("姓名,金额\n张三,1\n".encode(), "roster.xlsx").code == "not_spreadsheet"


def test_binary_with_nul_bytes_is_not_csv():
    assert refused(b"abc\x00def" * 10, "roster.csv").code == "not_spreadsheet"


UNICODE_TEXT = (
    "城关镇花名册\r\n户主姓名\t身份证号码\t金额\r\n张三\t341122193501010001\t1,234.50\r\n"
)


@pytest.mark.parametrize("filename", ["roster.csv", "roster.txt"])
@pytest.mark.parametrize(
    ("bom", "encoding"),
    [(codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be")],
    ids=["le", "be"],
)
def test_excel_unicode_text_is_csv_despite_its_nul_bytes(bom, encoding, filename):
    """Excel's "Unicode text" is UTF-16 with a byte-order mark: half its bytes are NUL."""
    data = bom + UNICODE_TEXT.encode(encoding)
    assert b"\x00" in data
    assert check(data, filename) is FileKind.CSV
    assert decode_text(data) == (UNICODE_TEXT, "utf-16")


def test_unicode_text_named_like_a_workbook_is_not_a_spreadsheet():
    data = codecs.BOM_UTF16_LE + UNICODE_TEXT.encode("utf-16-le")
    assert refused(data, "roster.xlsx").code == "not_spreadsheet"


@pytest.mark.parametrize(
    "data",
    [
        codecs.BOM_UTF16_LE + b"a\x00b\x00\x00\x00\x01\x00\x02\x00" * 20,  # NULs and controls
        codecs.BOM_UTF32_LE + "姓名,金额\n".encode("utf-32-le"),  # UTF-32 is not Unicode text
        codecs.BOM_UTF16_LE + bytes(range(256)) * 8,
    ],
    ids=["controls", "utf32", "junk"],
)
def test_binary_behind_a_utf16_byte_order_mark_is_still_refused(data):
    assert refused(data, "roster.csv").code in ("not_spreadsheet", "bad_encoding")
    assert refused(data, "roster.txt").code in ("not_spreadsheet", "bad_encoding")


def test_truncated_unicode_text_is_a_bad_encoding_naming_the_line():
    data = codecs.BOM_UTF16_LE + UNICODE_TEXT.encode("utf-16-le") + b"\x41"
    error = refused(data, "roster.txt")
    assert error.code == "bad_encoding"
    assert "第 4 行" in error.message
    assert "UTF-16" in error.message


def test_html_table_exported_as_xls_is_refused_with_a_hint():
    """Web systems export HTML named .xls; staff are told to save it as xlsx."""
    error = refused("<html><table><tr><td>姓名</td></tr></table></html>".encode(), "r.xls")
    assert error.code == "html"
    assert "另存为 xlsx" in error.message


def test_other_zip_files_are_not_spreadsheets():
    """A Word document or a plain archive is a zip but not a workbook."""
    docx = zip_bytes({"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<w/>"})
    assert refused(docx, "roster.xlsx").code == "not_spreadsheet"


def test_oversized_file_is_refused_from_bytes_and_from_disk(tmp_path):
    data = b"a,b,c\n" * (MB // 6 + 10)
    assert refused(data, "r.csv", max_bytes=MB).code == "too_large"
    path = tmp_path / "big.csv"
    path.write_bytes(data)
    error = refused(path, "big.csv", max_bytes=MB)
    assert error.code == "too_large"
    assert "1.0 MB" in error.message


def test_empty_file_is_refused():
    assert refused(b"", "r.csv").code == "empty"


def test_zip_bomb_is_refused_by_compression_ratio():
    """A member that inflates a thousandfold is a bomb, whatever the total."""
    bomb = zip_bytes({"xl/workbook.xml": b"<workbook/>", "xl/worksheets/sheet1.xml": bytes(8 * MB)})
    assert refused(bomb, max_uncompressed=100 * MB).code == "zip_bomb"


def test_declared_uncompressed_size_over_the_limit_is_refused():
    big = zip_bytes(
        {"xl/workbook.xml": b"<workbook/>", "xl/sharedStrings.xml": bytes(3 * MB)},
        zipfile.ZIP_STORED,
    )
    assert refused(big, max_bytes=10 * MB, max_uncompressed=2 * MB).code == "too_big_uncompressed"


def test_member_that_lies_about_its_size_is_refused():
    """The actual size is measured: a member bigger than it says is not trusted."""
    honest = zip_bytes({"xl/workbook.xml": b"<workbook/>", "xl/styles.xml": b"<s/>" * 50_000})
    # Rewrite the uncompressed size of the second entry in the central directory to 10 bytes.
    data = bytearray(honest)
    entry = data.rfind(b"PK\x01\x02")
    struct.pack_into("<I", data, entry + 24, 10)
    error = refused(bytes(data))
    assert error.code in {"corrupt", "too_big_uncompressed"}


def test_too_many_entries_are_refused():
    members = {"xl/workbook.xml": b"<workbook/>"} | {f"xl/m{i}.xml": b"<a/>" for i in range(60)}
    error = refused(zip_bytes(members), max_entries=50)
    assert error.code == "too_many_entries"


@pytest.mark.parametrize(
    "trap",
    [
        b'<!DOCTYPE x [<!ENTITY a "aaaaaaaaaa">]>',
        b'<!ENTITY lol "lol">',
        b'<!DOCTYPE foo SYSTEM "file:///etc/passwd">',
    ],
)
def test_xml_with_doctype_or_entity_is_refused(small_xlsx, trap):
    """Billion-laughs and external entities never reach the parser."""
    source = zipfile.ZipFile(io.BytesIO(small_xlsx))
    members = {info.filename: source.read(info) for info in source.infolist()}
    sheet = next(name for name in members if name.startswith("xl/worksheets/"))
    xml = members[sheet]
    members[sheet] = xml.replace(b"?>", b"?>" + trap, 1) if xml.startswith(b"<?xml") else trap + xml
    assert trap in members[sheet]
    error = refused(zip_bytes(members))
    assert error.code == "xml_dtd"
    # The reader says the same, as an error rather than an exception.
    roster = read_roster(zip_bytes(members), filename="roster.xlsx")
    assert not roster.ok()
    assert [e.code for e in roster.errors] == ["xml_dtd"]


def test_truncated_zip_is_refused_as_corrupt(small_xlsx):
    error = refused(small_xlsx[: len(small_xlsx) // 2])
    assert error.code == "corrupt"
    assert "损坏" in error.message


def test_encrypted_workbook_is_refused():
    """Password-protected xlsx files are OLE2 containers with an EncryptionInfo stream."""
    data = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(512) + "EncryptionInfo".encode("utf-16-le")
    assert refused(data).code == "encrypted"


def test_ole2_file_without_a_workbook_is_not_a_spreadsheet():
    data = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(512) + "WordDocument".encode("utf-16-le")
    assert refused(data, "r.xls").code == "not_spreadsheet"


def test_csv_with_undecodable_bytes_names_line_and_offset():
    """Bytes that are neither UTF-8 nor GB18030 are reported where they are, never dropped."""
    good = "姓名,金额\n张三,1\n".encode()
    error = refused(good + b"\x80\xff\xfe,2\n", "r.csv")
    assert error.code == "bad_encoding"
    assert "第 3 行" in error.message
    assert f"第 {len(good)} 字节" in error.message
