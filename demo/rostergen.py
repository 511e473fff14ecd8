"""Generate realistic, messy payment rosters for tests, the demo and the benchmark (DEMO ONLY).

The rosters look like what township offices keep: a title and a unit row above the header,
header synonyms, village cells merged down (or left blank below the first row), names padded
with spaces, a 合计 row, a signature footer, notes that carry phone numbers. IDs are valid
(region, birth date, check digit) and unique across ``unique_offset`` ranges, so two
generated files share a person only when asked to. Faults can be injected on purpose; each
is reported with the sheet, Excel row and column the importer should name.
"""

from __future__ import annotations

import csv
import random
import zipfile
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from xml.sax.saxutils import escape

from privacy.idnumbers import check_character

__all__ = ["FAULTS", "Fault", "GeneratedRoster", "generate_roster", "make_id_number"]

FORMATS = ("xlsx", "csv", "csv-bom", "csv-gbk", "xls", "ods")

#: Faults that can be injected: kind -> (column field, what the importer must say).
FAULTS: dict[str, str] = {
    "check_digit": "id_number",
    "excel_number": "id_number",
    "duplicate": "id_number",
    "negative": "amount",
    "empty_amount": "amount",
    "text_amount": "amount",
    "too_many_decimals": "amount",
    "wrong_total": "amount",
    "bad_account": "account",
    "empty_name": "name",
}

_REGIONS = (
    "341122", "341124", "341181", "110101", "320581", "330102", "370283", "410105",
    "420106", "430421", "440305", "510104", "520102", "530102", "610113", "622201",
)  # fmt: skip
_FIRST_BIRTH = date(1935, 1, 1)
_DAYS = 25_000  # birth dates from 1935 to 2003
_SPACE = _DAYS * 1000  # IDs per region

_SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏"
    "魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵"
)
_COMPOUND = ("欧阳", "司马", "诸葛", "上官", "东方", "皇甫", "尉迟", "公孙", "慕容", "司徒")
_GIVEN = (
    "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂英华建国志红玉梅文斌宇浩凯鹏飞燕云峰"
    "海波辉宁俊彬晨欣怡子轩思雨佳琪梓涵德福贵永春秋生根发"
)
_VILLAGES = ("东风村", "红旗村", "新华村", "幸福村", "和平村", "光明村", "向阳村", "团结村")
_RELATIONS = ("配偶", "长子", "长女", "次子", "儿媳", "孙子", "孙女", "父亲", "母亲")
_NOTES = ("", "", "", "", "", "", "已核实", "新增", "代领", "面积变更")


def make_id_number(index: int) -> str:
    """Return the INDEX-th generated ID number: valid, and different for every index."""
    region = _REGIONS[(index // _SPACE) % len(_REGIONS)]
    # Spread consecutive indexes over birth dates and sequence numbers (7919 is prime to _SPACE).
    slot = (index * 7919) % _SPACE
    born = _FIRST_BIRTH + timedelta(days=slot // 1000)
    body = f"{region}{born:%Y%m%d}{slot % 1000:03d}"
    return body + check_character(body)


def _bad_check_digit(number: str) -> str:
    last = number[-1]
    return number[:-1] + ("0" if last != "0" else "1")


@dataclass(frozen=True)
class Fault:
    """An injected fault and where the importer must report it."""

    kind: str
    sheet: str
    row: int
    column: str  # header text as written


@dataclass
class GeneratedRoster:
    """What was written, for tests to compare with what is read."""

    path: Path
    rows: int  # data rows written (valid or not)
    total: Decimal  # sum of the amounts of the rows that are valid
    ids: list[str]  # beneficiaries' ID numbers, in order (valid rows)
    households: int = 0
    sheets: list[str] = field(default_factory=list)
    villages: list[str] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)
    totals: dict[str, Decimal] = field(default_factory=dict)  # sheet -> declared total
    columns: dict[str, str] = field(default_factory=dict)  # field -> header text used
    header_row: dict[str, int] = field(default_factory=dict)  # sheet -> Excel row of header
    village_of: dict[str, str] = field(default_factory=dict)  # ID -> village (valid rows)
    name_of: dict[str, str] = field(default_factory=dict)  # ID -> name as meant (unpadded)
    head_of: dict[str, str] = field(default_factory=dict)  # ID -> household head's ID


@dataclass
class _Sheet:
    name: str
    rows: list[list[object]] = field(default_factory=list)
    merges: list[tuple[int, int, int, int]] = field(
        default_factory=list
    )  # r0, c0, r1, c1 (0-based)


def _name(rng: random.Random) -> str:
    surname = rng.choice(_COMPOUND) if rng.random() < 0.02 else rng.choice(_SURNAMES)
    given = "".join(rng.choice(_GIVEN) for _ in range(rng.choice((1, 2, 2, 2))))
    return surname + given


def _pad(name: str, rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.05 and len(name) == 2:
        return name[0] + "\u3000" + name[1]  # 张　三, as typed to line up with 3-character names
    if roll < 0.08:
        return " " + name + "  "
    if roll < 0.10:
        return name + "\u3000"
    return name


def _account(rng: random.Random) -> str:
    return rng.choice(("6217", "6228")) + "".join(rng.choice("0123456789") for _ in range(15))


def _pick(rng: random.Random, *choices: str) -> str:
    return rng.choice(choices)


def generate_roster(
    path: Path,
    *,
    fmt: str,
    rows: int,
    seed: int,
    township: str = "城关镇",
    villages: list[str] | tuple[str, ...] = _VILLAGES[:4],
    program: str = "耕地地力保护补贴",
    period: str = "2026-03",
    per_person: bool = False,
    one_sheet_per_village: bool = False,
    title_rows: bool = True,
    merged_village: bool = True,
    totals_row: bool = True,
    footer: bool = True,
    padded_names: bool = True,
    with_quantity: bool = True,
    with_status: bool = False,
    township_column: bool | None = None,
    errors: dict[str, int] | None = None,
    unique_offset: int = 0,
) -> GeneratedRoster:
    """Write a roster of ROWS data rows to PATH in FMT and say what it holds."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
    if one_sheet_per_village and fmt.startswith("csv"):
        raise ValueError("a CSV file has one sheet: use a village column instead")
    rng = random.Random(seed)
    path = Path(path)
    year = period[:4]
    rate = Decimal(rng.choice(("95.50", "107.39", "112.00", "120.50")))
    pay_day = date(int(year), int(period[5:7]), rng.randint(5, 25))
    if township_column is None:
        township_column = not title_rows

    # Columns: the header text is chosen among real-world synonyms.
    columns: list[tuple[str, str]] = [("seq", "序号")]
    if township_column:
        columns.append(("township", _pick(rng, "乡镇", "乡（镇）")))
    if not one_sheet_per_village:
        columns.append(("village", _pick(rng, "村", "行政村", "村（社区）", "所在村")))
    columns.append(("group", _pick(rng, "组", "村民小组")))
    if per_person:
        columns += [("head_name", "户主姓名"), ("name", _pick(rng, "享受人姓名", "姓名"))]
        columns.append(("relation", "与户主关系"))
    else:
        columns.append(("name", _pick(rng, "户主姓名", "姓名", "户主")))
    columns.append(("id_number", _pick(rng, "身份证号码", "公民身份号码", "身份证\n号码")))
    columns.append(("account", _pick(rng, "一卡通账号", "银行账号", "存折账号")))
    if with_quantity:
        columns.append(("quantity", _pick(rng, "补贴面积（亩）", "计补面积\n（亩）", "面积(亩)")))
        columns.append(("rate", _pick(rng, "补贴标准（元/亩）", "标准")))
    columns.append(("amount", _pick(rng, "补贴金额（元）", "发放金额", "实发金额（元）")))
    columns.append(("pay_date", "发放日期"))
    if with_status:
        columns.append(("status", "发放状态"))
    columns.append(("note", "备注"))
    col = {name: index for index, (name, _) in enumerate(columns)}
    headers = [text for _, text in columns]
    width = len(columns)

    villages = list(villages)
    per_village = [
        rows // len(villages) + (1 if i < rows % len(villages) else 0) for i in range(len(villages))
    ]
    sheets: list[_Sheet] = []
    result = GeneratedRoster(path=path, rows=rows, total=Decimal("0.00"), ids=[])
    result.columns = {name: "".join(text.split()) for name, text in columns}
    result.villages = villages
    wanted = dict(errors or {})
    total_rows = max(rows, 1)
    # Spread the faults over the file, never on the first row (duplicates point back to it).
    fault_rows: dict[int, str] = {}
    spots = list(range(1, total_rows))
    rng_faults = random.Random(seed + 1)
    for kind, count in sorted(wanted.items()):
        if kind not in FAULTS:
            raise ValueError(f"unknown fault {kind!r}")
        if kind == "wrong_total":
            continue
        for _ in range(count):
            if not spots:
                raise ValueError("more faults than rows")
            spot = spots.pop(rng_faults.randrange(len(spots)))
            fault_rows[spot] = kind

    def new_sheet(name: str, village: str | None) -> _Sheet:
        sheet = _Sheet(name)
        if title_rows:
            place = township + (village or "")
            sheet.rows.append([f"{place}{year}年{program}发放花名册"] + [""] * (width - 1))
            sheet.merges.append((0, 0, 0, width - 1))
            sheet.rows.append(
                [f"单位：元{'、亩' if with_quantity else ''}    发放期间：{period}"]
                + [""] * (width - 1)
            )
        sheet.rows.append(list(headers))
        result.header_row[name] = len(sheet.rows)
        return sheet

    def close_sheet(sheet: _Sheet, declared: Decimal) -> None:
        if totals_row:
            total = declared
            if wanted.get("wrong_total") and not result.totals:
                total = declared + Decimal("100.00")
                result.faults.append(
                    Fault("wrong_total", sheet.name, len(sheet.rows) + 1, result.columns["amount"])
                )
            row: list[object] = [""] * width
            row[0] = "合计"
            row[col["amount"]] = float(total) if fmt in ("xlsx", "xls", "ods") else f"{total:.2f}"
            sheet.rows.append(row)
            result.totals[sheet.name] = total
        if footer:
            sheet.rows.append([""] * width)
            line = [""] * width
            line[0] = f"制表人：{_name(rng)}"
            line[min(3, width - 1)] = f"审核人：{_name(rng)}"
            line[min(6, width - 1)] = f"负责人：{_name(rng)}"
            line[width - 1] = f"日期：{year}年{int(period[5:7])}月"
            sheet.rows.append(line)
        sheets.append(sheet)

    index = 0  # data row number across the file
    seq = 0
    person = unique_offset
    first_id = ""
    # A CSV file has no sheet names: the importer names its one sheet after the file.
    sheet_name = path.stem if fmt.startswith("csv") else ("花名册" if title_rows else "Sheet1")
    single = None if one_sheet_per_village else new_sheet(sheet_name, None)
    single_sum = Decimal(0)
    numeric = fmt in ("xlsx", "xls", "ods")
    for village, count in zip(villages, per_village, strict=True):
        sheet = single or new_sheet(village, village)
        sheet_sum = Decimal(0)
        run_start = len(sheet.rows)
        written = 0
        while written < count:
            group = f"{rng.randint(1, 9)}组"
            size = rng.choice((1, 2, 3, 3, 4, 5)) if per_person else 1
            size = min(size, count - written)
            head = _name(rng)
            head_start = len(sheet.rows)
            for member in range(size):
                fault = fault_rows.get(index)
                number = make_id_number(person)
                person += 1
                name = head if member == 0 else _name(rng)
                relation = "户主" if member == 0 else rng.choice(_RELATIONS)
                if with_quantity:
                    quantity = Decimal(rng.randint(5, 300)) / Decimal(10)
                    amount = (quantity * rate).quantize(Decimal("0.01"))
                else:
                    quantity = None
                    amount = Decimal(rng.randint(5000, 200000)) / Decimal(100)
                row = [""] * width
                seq += 1
                row[0] = seq
                if "township" in col:
                    row[col["township"]] = township
                if "village" in col:
                    first_of_run = len(sheet.rows) == run_start
                    row[col["village"]] = village if (first_of_run or not merged_village) else ""
                row[col["group"]] = group
                shown = _pad(name, rng) if padded_names else name
                if per_person:
                    first_member = member == 0
                    row[col["head_name"]] = head if (first_member or not merged_village) else ""
                    row[col["relation"]] = relation
                row[col["name"]] = shown
                id_cell: object = number
                if number.endswith("X") and rng.random() < 0.3:
                    id_cell = number[:-1] + "x"
                row[col["id_number"]] = id_cell
                row[col["account"]] = _account(rng)
                if with_quantity:
                    row[col["quantity"]] = float(quantity) if numeric else str(quantity)
                    row[col["rate"]] = float(rate) if numeric else str(rate)
                amount_cell: object = float(amount) if numeric else f"{amount:.2f}"
                if rng.random() < 0.02:
                    amount_cell = f"{amount:,.2f}元"
                row[col["amount"]] = amount_cell
                row[col["pay_date"]] = (
                    pay_day if numeric else _pick(rng, f"{pay_day:%Y-%m-%d}", f"{pay_day:%Y/%m/%d}")
                )
                if with_status:
                    row[col["status"]] = rng.choice(("成功", "成功", "成功", "成功", "失败"))
                note = rng.choice(_NOTES)
                if rng.random() < 0.01:
                    note = f"代领人{_name(rng)}，电话139{rng.randint(10000000, 99999999)}"
                row[col["note"]] = note
                valid = True
                if fault:
                    valid = False
                    excel_row = len(sheet.rows) + 1
                    field_name = FAULTS[fault]
                    if fault == "check_digit":
                        row[col["id_number"]] = _bad_check_digit(number)
                    elif fault == "excel_number":
                        row[col["id_number"]] = (
                            float(number[:17] + "0")
                            if numeric
                            else f"{float(number[:17] + '0'):.5E}"
                        )
                    elif fault == "duplicate":
                        row[col["id_number"]] = first_id
                    elif fault == "negative":
                        row[col["amount"]] = -float(amount) if numeric else f"-{amount:.2f}"
                    elif fault == "empty_amount":
                        row[col["amount"]] = ""
                    elif fault == "text_amount":
                        row[col["amount"]] = "待定"
                    elif fault == "too_many_decimals":
                        row[col["amount"]] = float(amount) + 0.004 if numeric else f"{amount}4"
                    elif fault == "bad_account":
                        row[col["account"]] = "6217-ABC-0001"
                    elif fault == "empty_name":
                        row[col["name"]] = ""
                    result.faults.append(
                        Fault(fault, sheet.name, excel_row, result.columns[field_name])
                    )
                    if fault in ("bad_account", "empty_name", "check_digit", "excel_number"):
                        # The amount still counts towards the totals row.
                        sheet_sum += amount
                    if fault == "duplicate":
                        sheet_sum += amount
                if member == 0:
                    head_id = number
                if valid:
                    result.total += amount
                    result.ids.append(number)
                    result.village_of[number] = village
                    result.name_of[number] = name
                    result.head_of[number] = head_id
                    sheet_sum += amount
                    if not first_id:
                        first_id = number
                sheet.rows.append(row)
                index += 1
                written += 1
            if per_person and merged_village and size > 1:
                sheet.merges.append(
                    (head_start, col["head_name"], len(sheet.rows) - 1, col["head_name"])
                )
            result.households += 1
        if "village" in col and merged_village and len(sheet.rows) - run_start > 1:
            sheet.merges.append((run_start, col["village"], len(sheet.rows) - 1, col["village"]))
        if single is None:
            close_sheet(sheet, sheet_sum)
        else:
            single_sum += sheet_sum
    if single is not None:
        close_sheet(single, single_sum)
    result.sheets = [sheet.name for sheet in sheets]
    _WRITERS[fmt](path, sheets)
    return result


# --- Writers ---------------------------------------------------------------------------------


def _write_xlsx(path: Path, sheets: list[_Sheet]) -> None:
    from openpyxl import Workbook

    big = sum(len(sheet.rows) for sheet in sheets) > 20_000
    # write_only streams rows (fast, little memory) but cannot merge; big files leave the
    # cells under a "merge" blank instead, which the importer fills down just the same.
    book = Workbook(write_only=big)
    if not big:
        book.remove(book.active)
    for sheet in sheets:
        ws = book.create_sheet(sheet.name)
        if big:
            for row in sheet.rows:
                ws.append(row)
            continue
        for row in sheet.rows:
            ws.append(row)
        for r0, c0, r1, c1 in sheet.merges:
            ws.merge_cells(start_row=r0 + 1, start_column=c0 + 1, end_row=r1 + 1, end_column=c1 + 1)
        ws.column_dimensions["F"].width = 22
    book.save(path)


def _csv_cell(value: object) -> str:
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _write_csv(path: Path, sheets: list[_Sheet], encoding: str) -> None:
    with open(path, "w", encoding=encoding, newline="") as handle:
        writer = csv.writer(handle)
        for sheet in sheets:
            for row in sheet.rows:
                writer.writerow([_csv_cell(cell) for cell in row])


def _write_xls(path: Path, sheets: list[_Sheet]) -> None:
    import xlwt  # dev extra: only tests and the demo write .xls

    book = xlwt.Workbook(encoding="utf-8")
    date_style = xlwt.easyxf(num_format_str="YYYY-MM-DD")
    for sheet in sheets:
        if len(sheet.rows) > 65_000:
            raise ValueError("an .xls sheet holds at most 65,536 rows")
        ws = book.add_sheet(sheet.name)
        covered = set()
        for r0, c0, r1, c1 in sheet.merges:
            value = sheet.rows[r0][c0]
            ws.write_merge(r0, r1, c0, c1, value if value != "" else None)
            covered |= {(r, c) for r in range(r0, r1 + 1) for c in range(c0, c1 + 1)}
        for r, row in enumerate(sheet.rows):
            for c, value in enumerate(row):
                if (r, c) in covered or value == "":
                    continue
                if isinstance(value, date):
                    ws.write(r, c, value, date_style)
                else:
                    ws.write(r, c, value)
    book.save(str(path))


_ODS_MANIFEST = """<?xml version="1.0" encoding="UTF-8"?>
<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">
 <manifest:file-entry manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>
 <manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>
</manifest:manifest>
"""  # noqa: E501
_ODS_HEAD = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
    'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
    'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">'
    "<office:body><office:spreadsheet>"
)


def _ods_cell(value: object, span: tuple[int, int] | None) -> str:
    attrs = ""
    if span is not None:
        attrs = f' table:number-rows-spanned="{span[0]}" table:number-columns-spanned="{span[1]}"'
    if value == "" or value is None:
        return f"<table:table-cell{attrs}/>"
    if isinstance(value, bool):
        value = str(value)
    if isinstance(value, int | float):
        return (
            f'<table:table-cell{attrs} office:value-type="float" office:value="{value!r}">'
            f"<text:p>{value!r}</text:p></table:table-cell>"
        )
    if isinstance(value, date):
        return (
            f'<table:table-cell{attrs} office:value-type="date" '
            f'office:date-value="{value:%Y-%m-%d}"><text:p>{value:%Y-%m-%d}</text:p>'
            "</table:table-cell>"
        )
    return (
        f'<table:table-cell{attrs} office:value-type="string"><text:p>{escape(str(value))}</text:p>'
        "</table:table-cell>"
    )


def _write_ods(path: Path, sheets: list[_Sheet]) -> None:
    parts = [_ODS_HEAD]
    for sheet in sheets:
        spans = {(r0, c0): (r1 - r0 + 1, c1 - c0 + 1) for r0, c0, r1, c1 in sheet.merges}
        covered = {
            (r, c)
            for r0, c0, r1, c1 in sheet.merges
            for r in range(r0, r1 + 1)
            for c in range(c0, c1 + 1)
            if (r, c) != (r0, c0)
        }
        parts.append(f'<table:table table:name="{escape(sheet.name)}">')
        for r, row in enumerate(sheet.rows):
            parts.append("<table:table-row>")
            for c, value in enumerate(row):
                if (r, c) in covered:
                    parts.append("<table:covered-table-cell/>")
                else:
                    parts.append(_ods_cell(value, spans.get((r, c))))
            parts.append("</table:table-row>")
        parts.append("</table:table>")
    parts.append("</office:spreadsheet></office:body></office:document-content>")
    with zipfile.ZipFile(path, "w") as archive:
        # The mimetype comes first and uncompressed, as the ODF standard requires.
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        archive.writestr("META-INF/manifest.xml", _ODS_MANIFEST, zipfile.ZIP_DEFLATED)
        archive.writestr("content.xml", "".join(parts), zipfile.ZIP_DEFLATED)


_WRITERS = {
    "xlsx": _write_xlsx,
    "csv": lambda path, sheets: _write_csv(path, sheets, "utf-8"),
    "csv-bom": lambda path, sheets: _write_csv(path, sheets, "utf-8-sig"),
    "csv-gbk": lambda path, sheets: _write_csv(path, sheets, "gbk"),
    "xls": _write_xls,
    "ods": _write_ods,
}
