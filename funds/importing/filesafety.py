"""Check an uploaded roster before any parser touches it.

Pure module: no ORM, no settings (the caller passes the limits). What it defends against:

- size: the file itself (``max_bytes``) and, for zip-based files (xlsx, ods), the declared AND
  the actual uncompressed size (``max_uncompressed``): every member is stream-decompressed
  with a running cap, so a member that lies about its size is caught too;
- zip bombs: the number of entries (``max_entries``) and each entry's compression ratio
  (``max_ratio``, for entries above ``RATIO_FLOOR`` bytes: small entries may compress well);
- XML entity tricks: an XML member carrying ``<!DOCTYPE`` or ``<!ENTITY`` is rejected. Office
  files never need a DTD; calamine does not expand entities anyway, so this is belt and braces;
- giant sheets: a few kilobytes can declare a cell at XFD1048576, and calamine builds a dense
  grid over the whole range (17 billion cells: the process aborts). Each worksheet's XML is
  scanned while it is drained: when every cell and row names a plain reference (``r="K123"``,
  as Excel, WPS and openpyxl write them) the sheet is at most ``_FAST_COLUMNS`` columns by the
  rows its digits allow, which ``max_cells`` covers. Any other sheet (wider, deeper, cells
  without a reference, a prefixed namespace), every .ods (LibreOffice declares a million
  repeated empty rows in every file) and every .xls is measured by ``sandbox.probe`` in a child
  process with a memory and CPU limit; every workbook is at least opened there, since calamine
  also pre-allocates from counts the file declares (a shared-strings count of 4 billion
  aborts it). A sheet wider than ``max_columns`` or larger than ``max_cells`` is refused,
  naming it; so is a file whose child dies or runs out of time;
- disguised files: content is sniffed by magic bytes, the name's extension is not trusted
  (a PNG named .xlsx is "不是电子表格文件"); CSV must decode strictly as UTF-8 (with or without
  BOM) or GB18030 and contain no NUL bytes, or as UTF-16 behind its byte-order mark (Excel's
  "Unicode text", half NUL bytes by nature) with no control characters once decoded.

Parsing time and memory are then bounded downstream, in ``funds.importing.roster.read_roster``:
calamine holds at most ``max_uncompressed`` bytes of sheet XML and a grid of ``max_cells``, the
reader stops at ``max_rows`` rows, refuses too many merged ranges and checks a wall-clock
deadline every few hundred rows and while it fills merged ranges.
"""

from __future__ import annotations

import functools
import html
import io
import posixpath
import re
import zipfile
import zlib
from enum import StrEnum
from pathlib import Path

from django.utils.translation import gettext

from funds.importing import sandbox

__all__ = [
    "DEFAULT_MAX_CELLS",
    "DEFAULT_MAX_COLUMNS",
    "DEFAULT_MAX_ENTRIES",
    "DEFAULT_MAX_RATIO",
    "DEFAULT_PROBE_MEMORY",
    "DEFAULT_PROBE_SECONDS",
    "RATIO_FLOOR",
    "FileKind",
    "UnsafeFile",
    "check_upload",
    "decode_text",
    "sniff_kind",
    "too_large_sheet",
]

DEFAULT_MAX_ENTRIES = 1_000
#: The widest sheet read: a roster has a few dozen columns.
DEFAULT_MAX_COLUMNS = 200
#: The most cells (rows × columns of a sheet's range) read: about 1 GB in calamine's grid.
DEFAULT_MAX_CELLS = 30_000_000
#: What a probing child may allocate beyond the parent's size, and its CPU and wall time.
DEFAULT_PROBE_MEMORY = 2 * 1024 * 1024 * 1024
DEFAULT_PROBE_SECONDS = 60.0
DEFAULT_MAX_RATIO = 200
#: Entries smaller than this (uncompressed) are not held to the ratio limit.
RATIO_FLOOR = 1024 * 1024
_CHUNK = 256 * 1024

_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06")
_ODS_MIMETYPE = b"application/vnd.oasis.opendocument.spreadsheet"
_NOT_SHEETS = (
    b"\x89PNG",
    b"\xff\xd8\xff",  # JPEG
    b"%PDF",
    b"7z\xbc\xaf\x27\x1c",
    b"Rar!",
    b"\x1f\x8b",  # gzip
    b"\x7fELF",
)
_BINARY_NAMES = (".xlsx", ".xlsm", ".xls", ".ods", ".et")
_XML_TRAPS = (b"<!DOCTYPE", b"<!ENTITY", b"<!doctype", b"<!entity")
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
#: Characters no text table holds (tab, line and page breaks aside): binary behind a UTF-16 BOM.
_CONTROLS = re.compile("[\x00-\x08\x0e-\x1f\x7f]")
#: The columns a sheet whose references all have one letter can reach.
_FAST_COLUMNS = 26
#: Bytes of one chunk looked at again with the next: no tag the scan needs is longer.
_SCAN_TAIL = 32
#: A prefixed cell or row tag (<x:c r="…">): calamine reads it as a cell, whatever the prefix
#: is bound to, and the scan's pattern would not see it. (Text that looks so costs a probe.)
_PREFIXED = re.compile(rb":(?:c|row)[\s>/]")
_ATTRIBUTE = re.compile(r"""([\w:.-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')""")


class FileKind(StrEnum):
    """What a file really is, judged by its content."""

    XLSX = "xlsx"
    XLS = "xls"
    ODS = "ods"
    CSV = "csv"


#: The keyword Sunlight's masked error reports carry in their document properties, and the words
#: their result column's header holds: an upload carrying either is refused, not read.
MASKED_REPORT_KEYWORD = "sunlight-masked-error-report"
MASKED_REPORT_WORDS = "已脱敏，不能再次导入"


def masked_report() -> UnsafeFile:
    return UnsafeFile(
        "masked_report",
        gettext(
            "这是阳光系统生成的校验结果文件（已脱敏），不能再次导入：请在原始花名册中改正问题后上传原始文件"
        ),
    )


class UnsafeFile(Exception):
    """A file refused before parsing; ``code`` is stable, ``message`` is for staff."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _read_all(source: Path | bytes, max_bytes: int) -> bytes:
    """Return the bytes of SOURCE, refusing anything over MAX_BYTES without reading it all."""
    if isinstance(source, bytes | bytearray | memoryview):
        size = len(source)
        data = bytes(source) if size <= max_bytes else b""
    else:
        size = Path(source).stat().st_size
        data = b""
        if size <= max_bytes:
            with open(source, "rb") as handle:
                # Read one byte past the limit: the file may have grown since stat().
                data = handle.read(max_bytes + 1)
            size = len(data)
    if size > max_bytes:
        raise UnsafeFile(
            "too_large",
            gettext("文件太大（%(size)s），上限是 %(limit)s")
            % {"size": _human(size), "limit": _human(max_bytes)},
        )
    if size == 0:
        raise UnsafeFile("empty", gettext("文件是空的"))
    return data


def _human(size: int) -> str:
    """Return SIZE in bytes as a short human figure (KB/MB)."""
    if size >= 1024 * 1024:
        return f"{size / 1024 / 1024:.1f} MB"
    if size >= 1024:
        return f"{size / 1024:.0f} KB"
    return f"{size} B"


def _not_a_sheet() -> UnsafeFile:
    return UnsafeFile(
        "not_spreadsheet",
        gettext("不是电子表格文件：请上传 xlsx、xls、ods 或 csv 格式的花名册"),
    )


def sniff_kind(head: bytes) -> FileKind | None:
    """Guess the kind of file from its first bytes; None when it may be text (CSV)."""
    if head.startswith(_ZIP_MAGICS):
        return FileKind.XLSX  # or ODS; the zip check tells them apart
    if head.startswith(_OLE2):
        return FileKind.XLS
    return None


def decode_text(data: bytes) -> tuple[str, str]:
    """Decode CSV bytes strictly: UTF-16 by its BOM, else UTF-8 (BOM or not), else GB18030.

    Return (text, encoding). UTF-16 without a byte-order mark is not guessed at: Excel's
    "Unicode text" always has one. Raise UnsafeFile('bad_encoding') naming the line and byte
    offset of the first bad byte.
    """
    if data.startswith(_UTF16_BOMS):
        try:
            return data.decode("utf-16"), "utf-16"  # the BOM says which byte order
        except UnicodeDecodeError as error:
            before = data[: error.start].decode("utf-16", "replace")
            raise _bad_encoding(before.count("\n") + 1, error.start) from None
    try:
        return data.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError as error:
        utf8_offset = error.start
    try:
        # GB18030 is a superset of GBK and GB2312, so it reads all three.
        return data.decode("gb18030"), "gb18030"
    except UnicodeDecodeError as error:
        # Chinese text before the first bad UTF-8 byte means the file is UTF-8 with a bad
        # byte there; GB18030 would read such text as gibberish and fail somewhere else.
        offset = error.start if data[:utf8_offset].isascii() else utf8_offset
        raise _bad_encoding(data.count(b"\n", 0, offset) + 1, offset) from None


def _bad_encoding(line: int, offset: int) -> UnsafeFile:
    return UnsafeFile(
        "bad_encoding",
        gettext(
            "文件第 %(line)d 行（第 %(offset)d 字节）有无法识别的字符：CSV 文件应使用 "
            "UTF-8、GBK/GB18030 或 UTF-16 编码，请在 Excel 中另存为 xlsx 后重新上传"
        )
        % {"line": line, "offset": offset},
    )


def _check_text(data: bytes, filename: str) -> FileKind:
    """Accept DATA as CSV only if it is text in a supported encoding."""
    utf16 = data.startswith(_UTF16_BOMS)
    if b"\x00" in data and not utf16:
        raise _not_a_sheet()  # only UTF-16 text has NUL bytes
    text, _ = decode_text(data)
    if utf16 and _CONTROLS.search(text):
        raise _not_a_sheet()  # binary that happened to start like a UTF-16 BOM
    start = text[:512].lstrip().lower()
    if start.startswith(("<html", "<!doctype html", "<table", "<?xml", "<meta")):
        # Many web systems export an HTML table named .xls.
        raise UnsafeFile(
            "html",
            gettext(
                "这是网页（HTML）格式的文件，不是电子表格：请用 Excel 打开后另存为 xlsx 再上传"
            ),
        )
    if filename.lower().endswith(_BINARY_NAMES):
        # Text dressed up as a workbook: say so rather than guess at its columns.
        raise _not_a_sheet()
    return FileKind.CSV


def _check_ole2(data: bytes) -> FileKind:
    """Accept an OLE2 compound file only if it holds an Excel workbook stream."""
    if "EncryptionInfo".encode("utf-16-le") in data:
        # An encrypted xlsx is stored inside an OLE2 container.
        raise UnsafeFile("encrypted", gettext("文件设置了密码，请取消密码后重新上传"))
    if "Workbook".encode("utf-16-le") not in data and "Book".encode("utf-16-le") not in data:
        raise _not_a_sheet()
    return FileKind.XLS


def _check_zip(
    data: bytes, *, max_uncompressed: int, max_entries: int, max_ratio: float, max_cells: int
) -> tuple[FileKind, list[str] | None]:
    """Check a zip container's entries, sizes and XML; say whether it is xlsx or ods.

    Return the kind and the sheets the byte scan could not bound (None: every sheet).
    """
    too_big = UnsafeFile(
        "too_big_uncompressed",
        gettext("文件解压后超过 %(limit)s，已拒绝（可能是压缩炸弹）")
        % {"limit": _human(max_uncompressed)},
    )
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError):
        raise _corrupt() from None
    with archive:
        infos = archive.infolist()
        if len({info.filename for info in infos}) != len(infos):
            # Two members of one name: the scan might look at one and the reader at the other.
            raise _corrupt()
        if len(infos) > max_entries:
            raise UnsafeFile(
                "too_many_entries",
                gettext("压缩包内文件过多（%(count)d 个，上限 %(limit)d 个），已拒绝")
                % {"count": len(infos), "limit": max_entries},
            )
        if sum(info.file_size for info in infos) > max_uncompressed:
            raise too_big
        for info in infos:
            if info.flag_bits & 0x1:
                raise UnsafeFile("encrypted", gettext("文件设置了密码，请取消密码后重新上传"))
            if info.file_size > RATIO_FLOOR and info.file_size > max_ratio * max(
                info.compress_size, 1
            ):
                raise _bomb()
        kind = _zip_kind(archive, infos)
        if kind is FileKind.XLSX and MASKED_REPORT_KEYWORD in _small_member(
            archive, "docProps/core.xml"
        ):
            raise masked_report()
        pattern = _unusual_tag(_fast_digits(max_cells))
        scans: dict[str, _SheetScan] = {}
        total = 0
        for info in infos:
            scan = None
            if kind is FileKind.XLSX and info.filename.lower().endswith(".xml"):
                scan = scans[info.filename] = _SheetScan(pattern)
            total = _drain(archive, info, total, max_uncompressed, max_ratio, too_big, scan)
        if kind is FileKind.ODS:
            return kind, None  # LibreOffice repeats empty rows a million times: measure them
        members = _sheet_members(archive)
    if not members:
        return kind, None
    return kind, [
        name for path, name in members.items() if path not in scans or scans[path].unbounded
    ]


def _corrupt() -> UnsafeFile:
    return UnsafeFile("corrupt", gettext("文件已损坏（压缩包不完整或格式错误），请重新导出后上传"))


def _bomb() -> UnsafeFile:
    return UnsafeFile("zip_bomb", gettext("文件压缩比异常（可能是压缩炸弹），已拒绝"))


def _zip_kind(archive: zipfile.ZipFile, infos: list[zipfile.ZipInfo]) -> FileKind:
    """Tell xlsx from ods from any other zip (docx, plain archives)."""
    names = {info.filename for info in infos}
    if "xl/workbook.xml" in names:
        return FileKind.XLSX
    if "mimetype" in names:
        try:
            with archive.open("mimetype") as member:
                mimetype = member.read(len(_ODS_MIMETYPE) + 1).strip()
        except (zipfile.BadZipFile, OSError, EOFError, zlib.error, ValueError):
            raise _corrupt() from None
        if mimetype == _ODS_MIMETYPE:
            return FileKind.ODS
    raise _not_a_sheet()


def _drain(
    archive: zipfile.ZipFile,
    info: zipfile.ZipInfo,
    total: int,
    max_uncompressed: int,
    max_ratio: float,
    too_big: UnsafeFile,
    scan: _SheetScan | None = None,
) -> int:
    """Decompress one member with a cap; scan XML for DTDs (and SCAN it); return the total."""
    is_xml = info.filename.lower().endswith((".xml", ".rels", ".vml"))
    size = 0
    tail = b""
    try:
        with archive.open(info) as member:
            while chunk := member.read(_CHUNK):
                size += len(chunk)
                total += len(chunk)
                if total > max_uncompressed:
                    raise too_big
                if size > RATIO_FLOOR and size > max_ratio * max(info.compress_size, 1):
                    raise _bomb()
                if is_xml:
                    if size == len(chunk) and chunk.startswith((b"\xff\xfe", b"\xfe\xff")):
                        # UTF-16 XML could hide a DOCTYPE from a byte scan; Office never writes it.
                        raise _xml_trap()
                    window = tail + chunk
                    # One pass for "<!" (rare in Office XML) before looking for each trap.
                    if b"<!" in window and any(trap in window for trap in _XML_TRAPS):
                        raise _xml_trap()
                    tail = chunk[-16:]
                    if scan is not None:
                        scan.feed(chunk)
    except (zipfile.BadZipFile, OSError, EOFError, zlib.error, ValueError, NotImplementedError):
        # Bad CRC, truncated data, an unsupported compression method …
        raise _corrupt() from None
    if size != info.file_size:
        raise _corrupt()
    if scan is not None:
        scan.close()
    return total


def _fast_digits(max_cells: int) -> int:
    """Return how many row digits a one-letter-column sheet may have within MAX_CELLS."""
    return max(1, len(str(max_cells // _FAST_COLUMNS + 1)) - 1)


@functools.lru_cache(maxsize=8)
def _unusual_tag(digits: int) -> re.Pattern[bytes]:
    """Return the pattern of a cell or row tag without a plain reference of up to DIGITS."""
    return re.compile(
        rb'<(?:c[\s>/](?!r="[A-Z][0-9]{1,%d}")|row[\s>/](?!r="[0-9]{1,%d}"))' % (digits, digits)
    )


class _SheetScan:
    """Say whether a worksheet's XML, scanned chunk by chunk, keeps to plain references.

    The common sheet costs one regex search per chunk: no match means every cell is within
    ``_FAST_COLUMNS`` columns and the rows the pattern's digits allow.
    """

    def __init__(self, pattern: re.Pattern[bytes]) -> None:
        self.pattern = pattern
        self.tail = b""
        self.started = False
        self.unbounded = False

    def feed(self, chunk: bytes) -> None:
        if self.unbounded:
            return
        if not self.started:
            self.started = True
            # XML in another encoding would hide its tags from a byte scan.
            if not chunk.removeprefix(b"\xef\xbb\xbf").lstrip().startswith(b"<"):
                self.unbounded = True
                return
        window = self.tail + chunk
        found = self.pattern.search(window)
        # A tag cut by the chunk's end is matched again, whole, with the next chunk.
        if (found and found.start() < len(window) - _SCAN_TAIL) or _PREFIXED.search(window):
            self.unbounded = True
        self.tail = window[-_SCAN_TAIL:]

    def close(self) -> None:
        if not self.unbounded and self.pattern.search(self.tail):
            self.unbounded = True


def _small_member(archive: zipfile.ZipFile, name: str) -> str:
    """Return a small XML member as text ('' when absent or unreadable)."""
    try:
        with archive.open(name) as member:
            return member.read(4 * 1024 * 1024).decode("utf-8", "replace")
    except (KeyError, zipfile.BadZipFile, OSError, EOFError, zlib.error, ValueError):
        return ""


def _attributes(tag: str) -> dict[str, str]:
    return {m[1]: html.unescape(m[2] or m[3]) for m in _ATTRIBUTE.finditer(tag)}


def _sheet_members(archive: zipfile.ZipFile) -> dict[str, str]:
    """Map each worksheet's member path to its sheet name, as calamine finds them."""
    targets = {}
    for tag in re.findall(r"<(?:\w+:)?Relationship\b[^>]*>", _small_member(
        archive, "xl/_rels/workbook.xml.rels"
    )):  # fmt: skip
        attributes = _attributes(tag)
        if attributes.get("Type", "").endswith("/worksheet") and "Id" in attributes:
            target = attributes.get("Target", "")
            targets[attributes["Id"]] = (
                target.lstrip("/")
                if target.startswith("/")
                else posixpath.normpath(posixpath.join("xl", target))
            )
    members = {}
    for tag in re.findall(r"<(?:\w+:)?sheet\b[^>]*>", _small_member(archive, "xl/workbook.xml")):
        attributes = _attributes(tag)
        rel = next((v for k, v in attributes.items() if k.endswith(":id")), "")
        if rel in targets and "name" in attributes:
            members[targets[rel]] = attributes["name"]
    return members


def too_large_sheet(
    sheet: str, rows: int, columns: int, *, max_columns: int, max_cells: int
) -> UnsafeFile:
    """Return the refusal of a sheet whose range is over the limits."""
    values = {"sheet": sheet[:31], "rows": rows, "columns": columns,
              "max_columns": max_columns, "max_cells": max_cells}  # fmt: skip
    if columns > max_columns:
        message = gettext(
            "工作表“%(sheet)s”的范围太大（%(rows)d 行 × %(columns)d 列），最多 %(max_columns)d "
            "列：请删除多余的列（或其中的格式、内容）后重新上传"
        )
    else:
        message = gettext(
            "工作表“%(sheet)s”的范围太大（%(rows)d 行 × %(columns)d 列），最多 %(max_cells)d "
            "个单元格：请删除多余的行和列，或拆分后分批上传"
        )
    return UnsafeFile("too_large_sheet", message % values)


def _measure(
    data: bytes, names: list[str] | None, *, max_columns: int, max_cells: int,
    probe_memory: int, probe_seconds: float,
) -> None:  # fmt: skip
    """Open the workbook in a limited child, measure the sheets NAMES (None: all), refuse giants."""
    result = sandbox.probe(data, names, memory=probe_memory, seconds=probe_seconds)
    if result.timed_out:
        raise UnsafeFile(
            "timeout",
            gettext("文件解析超时（超过 %(seconds)d 秒），请拆分后分批上传")
            % {"seconds": probe_seconds},
        )
    if result.crashed and result.loading is not None:
        raise UnsafeFile(
            "too_large_sheet",
            gettext("工作表“%(sheet)s”超出了读取时的内存或时间限制（可能有极大的空白区域），已拒绝")
            % {"sheet": result.loading[:31]},
        )
    if result.crashed:
        raise UnsafeFile(
            "too_large",
            gettext("文件超出了读取时的内存或时间限制（可能已损坏或是特意构造的文件），已拒绝"),
        )
    if result.error == "PasswordError":
        raise UnsafeFile("encrypted", gettext("文件设置了密码，请取消密码后重新上传"))
    if result.error:
        # Under the child's limits a reader may fail where, unlimited, it would abort: refuse.
        raise UnsafeFile(
            "unreadable",
            gettext("文件无法读取（可能已损坏，或不是 Excel/WPS 保存的表格），请重新导出后上传"),
        )
    for name, (height, width) in result.sheets.items():
        if width > max_columns or height * width > max_cells:
            raise too_large_sheet(name, height, width, max_columns=max_columns, max_cells=max_cells)


def _xml_trap() -> UnsafeFile:
    return UnsafeFile("xml_dtd", gettext("文件中含有不允许的 XML 声明（DOCTYPE/ENTITY），已拒绝"))


def check_upload(
    data_or_path: Path | str | bytes,
    *,
    filename: str,
    max_bytes: int,
    max_uncompressed: int,
    max_entries: int = DEFAULT_MAX_ENTRIES,
    max_ratio: float = DEFAULT_MAX_RATIO,
    max_columns: int = DEFAULT_MAX_COLUMNS,
    max_cells: int = DEFAULT_MAX_CELLS,
    probe_memory: int = DEFAULT_PROBE_MEMORY,
    probe_seconds: float = DEFAULT_PROBE_SECONDS,
) -> FileKind:
    """Say what kind of spreadsheet the upload is; raise UnsafeFile if it must not be parsed.

    A workbook is opened in a limited child process (``sandbox``) before it is returned as
    safe: its sheets are at most MAX_COLUMNS wide and MAX_CELLS large.
    """
    source = Path(data_or_path) if isinstance(data_or_path, str) else data_or_path
    data = _read_all(source, max_bytes)
    head = data[:16]
    limits = {"max_columns": max_columns, "max_cells": max_cells,
              "probe_memory": probe_memory, "probe_seconds": probe_seconds}  # fmt: skip
    if head.startswith(_ZIP_MAGICS):
        kind, unbounded = _check_zip(
            data, max_uncompressed=max_uncompressed, max_entries=max_entries,
            max_ratio=max_ratio, max_cells=max_cells,
        )  # fmt: skip
        _measure(data, unbounded, **limits)
        return kind
    if head.startswith(_OLE2):
        kind = _check_ole2(data)
        _measure(data, None, **limits)  # a BIFF sheet's extent is only known once read
        return kind
    if head.startswith(_NOT_SHEETS):
        raise _not_a_sheet()
    return _check_text(data, filename)
