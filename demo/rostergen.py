"""Generate realistic, messy payment rosters for tests, the demo and the benchmark (DEMO ONLY).

The rosters look like what township offices keep: a title and a unit row above the header,
header synonyms, village cells merged down (or left blank below the first row), names padded
with spaces, a 合计 row, a signature footer, notes that carry phone numbers. IDs are valid
(region, birth date, check digit) and unique across ``unique_offset`` ranges, so two
generated files share a person only when asked to. Faults can be injected on purpose; each
is reported with the sheet, Excel row and column the importer should name.

Shapes offices also write, each off by default (see ``generate_roster``): headers that name
the recipient's role, gross / deduction / net money under a merged two-row header or parts
beside their total, the amount in capital numerals (大写), pay dates by the month, contact
columns, headers repeated on every printed page, a disability-certificate number instead of
the ID, accounts in groups of four, and Excel's "Unicode text" (UTF-16, tab-separated).
The same seed gives the same people, places and amounts paid whatever the shape: the
shapes draw from a random source of their own, so with every shape off the file is byte for
byte what it always was (the benchmark and many tests rely on it).
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

__all__ = [
    "FAULTS",
    "FORMATS",
    "Fault",
    "GeneratedRoster",
    "amount_in_words",
    "generate_roster",
    "make_id_number",
]

FORMATS = ("xlsx", "csv", "csv-bom", "csv-gbk", "csv-utf16", "xls", "ods")
#: Formats that keep numbers and dates as such; CSV keeps text.
_WORKBOOKS = ("xlsx", "xls", "ods")
MONEY_SHAPES = ("plain", "gross_net", "parts")
PAY_DATES = ("day", "month")
ID_COLUMNS = ("id", "disability")
ACCOUNTS = ("plain", "grouped")

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

#: Headers as offices write them when ``office_headers`` is on: the recipient's role named,
#: qualifiers and units around the field word. "{program}" is the program's name.
_OFFICE_HEADERS: dict[str, tuple[str, ...]] = {
    "village": ("所在村（社区）", "行政村名称", "村（居）委会"),
    "group": ("村民小组", "所属村民小组"),
    "name": ("补贴对象", "补贴对象姓名", "享受对象姓名", "救助对象姓名"),
    "member_name": ("享受对象姓名", "救助对象姓名", "享受人"),
    "id_number": ("补贴对象身份证号", "享受对象身份证号码", "救助对象身份证号", "公民身份证号码"),
    "account": ("惠民惠农一卡通账号", "一卡通（社保卡）账号", "社会保障卡号"),
    "quantity": ("确权面积（亩）", "计税面积（亩）", "补贴面积（亩）"),
    "rate": ("补贴标准（元/亩）", "每亩补贴标准（元）"),
    "amount": ("{program}金额（元）", "本次发放金额（元）"),
    "pay_date": ("发放时间", "打卡发放日期"),
}
#: ``money="gross_net"``: a merged group header over gross, deduction and net (paid).
_MONEY_GROUPS = ("补贴金额（元）", "发放金额（元）")
_GROSS_NET = (("gross", ("应发", "应发金额")), ("deduction", ("扣款", "扣减", "扣除")),
              ("amount", ("实发", "实发金额")))  # fmt: skip
#: ``money="parts"``: two allowances beside their total, the total being what is paid.
_PARTS = (("living", ("生活补贴", "生活补贴（元）", "困难残疾人生活补贴")),
          ("care", ("护理补贴", "护理补贴（元）", "重度残疾人护理补贴")),
          ("amount", ("合计", "合计（元）", "合计金额")))  # fmt: skip
_EXTRA_HEADERS: dict[str, tuple[str, ...]] = {
    "amount_words": ("金额（大写）", "大写金额", "金额大写"),
    "month": ("发放年月", "发放月份", "发放日期"),
    "disability": ("残疾人证号", "残疾证号", "残疾证号码"),
    "phone": ("联系电话", "手机号码", "联系方式"),
    "address": ("家庭住址", "家庭地址", "住址"),
}


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


# --- Amounts in capital numerals (大写) --------------------------------------------------------

_CAPITAL_DIGITS = "零壹贰叁肆伍陆柒捌玖"
_SMALL_UNITS = ("仟", "佰", "拾", "")
_BIG_UNITS = ("", "万", "亿", "万亿")


def _capital_group(number: int) -> str:
    """Write 1..9999 in capitals: 1005 → 壹仟零伍, 1230 → 壹仟贰佰叁拾."""
    out, zero = "", False
    for digit, unit in zip(f"{number:04d}", _SMALL_UNITS, strict=True):
        if digit == "0":
            zero = zero or bool(out)
            continue
        out += ("零" if zero else "") + _CAPITAL_DIGITS[int(digit)] + unit
        zero = False
    return out


def _capital_integer(number: int) -> str:
    """Write a positive whole number in capitals, 万 and 亿 groups with 零 across gaps."""
    groups = []
    while number:
        number, group = divmod(number, 10_000)
        groups.append(group)
    out, zero = "", False
    for index in range(len(groups) - 1, -1, -1):
        group = groups[index]
        if group == 0:
            zero = zero or bool(out)
            continue
        if out and (zero or group < 1000):
            out += "零"
        out += _capital_group(group) + _BIG_UNITS[index]
        zero = False
    return out


def amount_in_words(amount: Decimal) -> str:
    """Write AMOUNT (yuan, two decimals) in capital numerals as rosters and cheques do.

    The canonical form of 《支付结算办法》: 壹仟贰佰叁拾元伍角, 叁佰元整, 壹佰元零伍分,
    壹万零伍元叁角贰分, 伍角; nothing after 角 when there are no 分, 整 when there is neither.
    """
    cents = int((Decimal(amount) * 100).to_integral_value())
    if cents < 0:
        return "负" + amount_in_words(Decimal(-cents) / 100)
    yuan, rest = divmod(cents, 100)
    jiao, fen = divmod(rest, 10)
    text = _capital_integer(yuan) + "元" if yuan else ""
    if not (jiao or fen):
        return (text or "零元") + "整"
    if jiao:
        text += _CAPITAL_DIGITS[jiao] + "角"
    elif yuan:
        text += "零"
    if fen:
        text += _CAPITAL_DIGITS[fen] + "分"
    return text


# --- What was written --------------------------------------------------------------------------


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
    total: Decimal  # sum of the amounts paid (the net, total or only amount) of the valid rows
    ids: list[str]  # beneficiaries' ID numbers, in order (valid rows)
    households: int = 0
    sheets: list[str] = field(default_factory=list)
    villages: list[str] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)
    totals: dict[str, Decimal] = field(default_factory=dict)  # sheet -> declared total
    # field -> header text used ("补贴金额（元）/实发" under a two-row header, as staff see it)
    columns: dict[str, str] = field(default_factory=dict)
    header_row: dict[str, int] = field(default_factory=dict)  # sheet -> Excel row of header
    village_of: dict[str, str] = field(default_factory=dict)  # ID -> village (valid rows)
    name_of: dict[str, str] = field(default_factory=dict)  # ID -> name as meant (unpadded)
    head_of: dict[str, str] = field(default_factory=dict)  # ID -> household head's ID
    # The shapes' figures and the personal values written, for reconciling and leak checks.
    money: dict[str, Decimal] = field(default_factory=dict)  # gross, deduction, living, care
    pay_date: date | None = None  # the day written; None when pay dates are months
    accounts: list[str] = field(default_factory=list)  # every account written, digits only
    phones: list[str] = field(default_factory=list)  # contact columns and notes' phones
    addresses: list[str] = field(default_factory=list)  # one per household, when written
    disability_numbers: list[str] = field(default_factory=list)  # 残疾人证号 written
    header_repeats: int = 0  # title and header rows written again between data rows


@dataclass
class _Sheet:
    name: str
    rows: list[list[object]] = field(default_factory=list)
    merges: list[tuple[int, int, int, int]] = field(
        default_factory=list
    )  # r0, c0, r1, c1 (0-based)
    sums: dict[str, Decimal] = field(default_factory=dict)  # money field -> sum for 合计
    since_header: int = 0  # data rows since the header was last written


@dataclass(frozen=True)
class _Spec:
    """What generate_roster was asked for (see its docstring)."""

    fmt: str
    rows: int
    seed: int
    township: str
    villages: tuple[str, ...]
    program: str
    period: str
    per_person: bool
    one_sheet_per_village: bool
    title_rows: bool
    merged_village: bool
    totals_row: bool
    footer: bool
    padded_names: bool
    with_quantity: bool
    with_status: bool
    township_column: bool
    errors: dict[str, int]
    unique_offset: int
    office_headers: bool
    money: str
    amount_words: bool
    pay_dates: str
    contact_columns: bool
    repeat_header_every: int
    id_column: str
    accounts: str
    village_span: int

    def check(self) -> None:
        if self.fmt not in FORMATS:
            raise ValueError(f"unknown format {self.fmt!r}; choose one of {', '.join(FORMATS)}")
        if self.one_sheet_per_village and self.fmt.startswith("csv"):
            raise ValueError("a CSV file has one sheet: use a village column instead")
        for name, value, allowed in (
            ("money", self.money, MONEY_SHAPES), ("pay_dates", self.pay_dates, PAY_DATES),
            ("id_column", self.id_column, ID_COLUMNS), ("accounts", self.accounts, ACCOUNTS),
        ):  # fmt: skip
            if value not in allowed:
                raise ValueError(f"unknown {name} {value!r}; choose one of {', '.join(allowed)}")
        if self.village_span < 0:
            raise ValueError("village_span counts persons: 0 (rows spread evenly) or more")
        if self.repeat_header_every < 0:
            raise ValueError("repeat_header_every counts data rows: 0 (never) or more")
        for kind in self.errors:
            if kind not in FAULTS:
                raise ValueError(f"unknown fault {kind!r}")


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
    office_headers: bool = False,
    money: str = "plain",
    amount_words: bool = False,
    pay_dates: str = "day",
    contact_columns: bool = False,
    repeat_header_every: int = 0,
    id_column: str = "id",
    accounts: str = "plain",
    village_span: int = 0,
) -> GeneratedRoster:
    """Write a roster of ROWS data rows to PATH in FMT and say what it holds.

    FMT is one of ``FORMATS``: xlsx, xls, ods, csv (UTF-8), csv-bom (UTF-8 with a byte-order
    mark), csv-gbk, or csv-utf16 (Excel's "Unicode text": UTF-16 LE with a BOM, tab-separated).

    The shapes offices write, each off by default:

    - ``office_headers``: headers that name the recipient's role and qualify the field, as
      offices write them: 补贴对象 / 享受对象姓名 / 救助对象姓名, 补贴对象身份证号,
      耕地地力保护补贴金额（元） (the program's name) / 本次发放金额（元）, 惠民惠农一卡通账号 …
    - ``money``: "plain", one amount column (the default); "gross_net", a two-row header with
      补贴金额（元） merged over 应发 / 扣款 / 实发, deductions on about a quarter of the rows,
      实发 being what is paid; "parts", 生活补贴 + 护理补贴 beside their 合计, which is paid.
      The totals row has a figure under every money column.
    - ``amount_words``: a 金额（大写） column beside the amount, in capital numerals
      (``amount_in_words``), the totals row's figure too.
    - ``pay_dates``: "day" (the default) or "month": pay dates at month precision, written
      2026年3月, 2026.03, 202603 or 2026-03 (``GeneratedRoster.pay_date`` is then None).
    - ``contact_columns``: 联系电话 and 家庭住址 filled with fake phones and addresses, which
      an importer must never store (``phones`` and ``addresses`` list them).
    - ``repeat_header_every``: N > 0 writes the title and header rows again after every N
      data rows (at a household's start), as a printed roster copied back into Excel has them.
    - ``id_column``: "id" (the default) or "disability": no ID column, a 残疾人证号 column
      instead (the 18-character ID followed by two digits, category and grade).
    - ``accounts``: "plain" (the default) or "grouped": accounts in groups of four separated
      by spaces or dashes (6217 0012 3456 7890 123).

    ``village_span``: N > 0 places person number i (counted from ``unique_offset``, as ID
    numbers are) in ``villages[(i // N) % len(villages)]``, whatever the roster: rosters that
    share people (overlapping offsets) then agree on each one's village, and so on their
    households', as real rosters of one township do. 0 (the default) spreads the rows evenly
    over the villages, in order.

    ``GeneratedRoster.total`` is always the figure paid (net, total or the one amount column)
    over the valid rows, so tests can reconcile to the cent whatever the shape.
    """
    spec = _Spec(
        fmt=fmt, rows=rows, seed=seed, township=township, villages=tuple(villages),
        program=program, period=period, per_person=per_person,
        one_sheet_per_village=one_sheet_per_village, title_rows=title_rows,
        merged_village=merged_village, totals_row=totals_row, footer=footer,
        padded_names=padded_names, with_quantity=with_quantity, with_status=with_status,
        township_column=(not title_rows) if township_column is None else township_column,
        errors=dict(errors or {}), unique_offset=unique_offset, office_headers=office_headers,
        money=money, amount_words=amount_words, pay_dates=pay_dates,
        contact_columns=contact_columns, repeat_header_every=repeat_header_every,
        id_column=id_column, accounts=accounts, village_span=village_span,
    )  # fmt: skip
    spec.check()
    builder = _Builder(Path(path), spec)
    builder.build()
    _WRITERS[fmt](builder.result.path, builder.sheets)
    return builder.result


# --- Building the sheets -----------------------------------------------------------------------


def _choose_columns(
    spec: _Spec, rng: random.Random, shape: random.Random
) -> tuple[list[tuple[str, str]], dict[str, str]]:
    """Return the columns as (field, header text) and, for a two-row header, field -> group.

    The base header texts are always drawn from RNG, whatever the shape, so that the rows
    drawn after them are the same; the shapes' texts are drawn from SHAPE.
    """

    def office(name: str, text: str) -> str:
        if not spec.office_headers:
            return text
        return shape.choice(_OFFICE_HEADERS[name]).format(program=spec.program)

    columns: list[tuple[str, str]] = [("seq", "序号")]
    if spec.township_column:
        columns.append(("township", _pick(rng, "乡镇", "乡（镇）")))
    if not spec.one_sheet_per_village:
        columns.append(
            ("village", office("village", _pick(rng, "村", "行政村", "村（社区）", "所在村")))
        )
    columns.append(("group", office("group", _pick(rng, "组", "村民小组"))))
    if spec.per_person:
        columns.append(("head_name", "户主姓名"))
        columns.append(("name", office("member_name", _pick(rng, "享受人姓名", "姓名"))))
        columns.append(("relation", "与户主关系"))
    else:
        columns.append(("name", office("name", _pick(rng, "户主姓名", "姓名", "户主"))))
    id_text = office("id_number", _pick(rng, "身份证号码", "公民身份号码", "身份证\n号码"))
    if spec.id_column == "disability":
        id_text = shape.choice(_EXTRA_HEADERS["disability"])
    columns.append(("id_number", id_text))
    columns.append(("account", office("account", _pick(rng, "一卡通账号", "银行账号", "存折账号"))))
    if spec.with_quantity:
        quantity = _pick(rng, "补贴面积（亩）", "计补面积\n（亩）", "面积(亩)")
        columns.append(("quantity", office("quantity", quantity)))
        columns.append(("rate", office("rate", _pick(rng, "补贴标准（元/亩）", "标准"))))
    amount = office("amount", _pick(rng, "补贴金额（元）", "发放金额", "实发金额（元）"))
    groups: dict[str, str] = {}
    if spec.money == "gross_net":
        group = shape.choice(_MONEY_GROUPS)
        for name, texts in _GROSS_NET:
            columns.append((name, shape.choice(texts)))
            groups[name] = group
    elif spec.money == "parts":
        columns += [(name, shape.choice(texts)) for name, texts in _PARTS]
    else:
        columns.append(("amount", amount))
    if spec.amount_words:
        columns.append(("amount_words", shape.choice(_EXTRA_HEADERS["amount_words"])))
    pay_date = "发放日期"
    if spec.pay_dates == "month":
        pay_date = shape.choice(_EXTRA_HEADERS["month"])
    columns.append(("pay_date", office("pay_date", pay_date)))
    if spec.with_status:
        columns.append(("status", "发放状态"))
    if spec.contact_columns:
        columns.append(("phone", shape.choice(_EXTRA_HEADERS["phone"])))
        columns.append(("address", shape.choice(_EXTRA_HEADERS["address"])))
    columns.append(("note", "备注"))
    return columns, groups


def _place_faults(spec: _Spec) -> dict[int, str]:
    """Spread the faults over the file, never on the first row (duplicates point back to it)."""
    fault_rows: dict[int, str] = {}
    spots = list(range(1, max(spec.rows, 1)))
    rng_faults = random.Random(spec.seed + 1)
    for kind, count in sorted(spec.errors.items()):
        if kind == "wrong_total":
            continue
        for _ in range(count):
            if not spots:
                raise ValueError("more faults than rows")
            spot = spots.pop(rng_faults.randrange(len(spots)))
            fault_rows[spot] = kind
    return fault_rows


def _grouped_account(digits: str, separator: str) -> str:
    return separator.join(digits[i : i + 4] for i in range(0, len(digits), 4))


class _Builder:
    """Lay out the sheets of one roster, row by row, and note what they hold."""

    def __init__(self, path: Path, spec: _Spec) -> None:
        self.spec = spec
        self.rng = random.Random(spec.seed)
        # The shapes' own draws: the base draws (people, amounts) stay what they were.
        self.shape = random.Random(f"rostergen-shapes-{spec.seed}")
        self.numeric = spec.fmt in _WORKBOOKS
        self.year = spec.period[:4]
        self.month = int(spec.period[5:7])
        self.rate = Decimal(self.rng.choice(("95.50", "107.39", "112.00", "120.50")))
        self.pay_day = date(int(self.year), self.month, self.rng.randint(5, 25))
        self.columns, self.groups = _choose_columns(spec, self.rng, self.shape)
        self.col = {name: index for index, (name, _) in enumerate(self.columns)}
        self.width = len(self.columns)
        self.money_checks = [
            name for name in ("gross", "deduction", "living", "care") if name in self.col
        ]
        self.fault_rows = _place_faults(spec)
        self.sheets: list[_Sheet] = []
        self.result = GeneratedRoster(path=path, rows=spec.rows, total=Decimal("0.00"), ids=[])
        self.result.columns = {name: self._label(name, text) for name, text in self.columns}
        self.result.villages = list(spec.villages)
        self.result.pay_date = None if spec.pay_dates == "month" else self.pay_day
        self.result.money = dict.fromkeys(self.money_checks, Decimal("0.00"))
        self.index = 0  # data row number across the file
        self.seq = 0
        self.person = spec.unique_offset
        self.first_id = ""

    def _label(self, name: str, text: str) -> str:
        """Return a header as the importer names it: no spaces, group/sub under two rows."""
        text = "".join(text.split())
        return f"{''.join(self.groups[name].split())}/{text}" if name in self.groups else text

    def _money_cell(self, value: Decimal) -> object:
        return float(value) if self.numeric else f"{value:.2f}"

    # Sheets: titles, headers, totals and footers.

    def _heading(self, sheet: _Sheet, village: str | None) -> None:
        """Write the title rows (if any) and the header rows, with their merges."""
        spec, width = self.spec, self.width
        if spec.title_rows:
            place = spec.township + (village or "")
            top = len(sheet.rows)
            sheet.rows.append(
                [f"{place}{self.year}年{spec.program}发放花名册"] + [""] * (width - 1)
            )
            sheet.merges.append((top, 0, top, width - 1))
            sheet.rows.append(
                [f"单位：元{'、亩' if spec.with_quantity else ''}    发放期间：{spec.period}"]
                + [""] * (width - 1)
            )
        if not self.groups:
            sheet.rows.append([text for _, text in self.columns])
            return
        # Two rows: each group's text over its sub-headers, every other header merged down.
        top, sub, at = [], [], len(sheet.rows)
        for index, (name, text) in enumerate(self.columns):
            group = self.groups.get(name)
            if group is None:
                top.append(text)
                sub.append("")
                sheet.merges.append((at, index, at + 1, index))
            else:
                first = index == 0 or self.groups.get(self.columns[index - 1][0]) != group
                top.append(group if first else "")
                sub.append(text)
        spans: dict[str, list[int]] = {}
        for name, group in self.groups.items():
            spans.setdefault(group, []).append(self.col[name])
        for cols in spans.values():
            sheet.merges.append((at, min(cols), at, max(cols)))
        sheet.rows += [top, sub]

    def _new_sheet(self, name: str, village: str | None) -> _Sheet:
        sheet = _Sheet(
            name, sums={"amount": Decimal(0), **dict.fromkeys(self.money_checks, Decimal(0))}
        )
        self._heading(sheet, village)
        self.result.header_row[name] = len(sheet.rows)
        return sheet

    def _close_sheet(self, sheet: _Sheet) -> None:
        spec, width, col, result = self.spec, self.width, self.col, self.result
        if spec.totals_row:
            declared = total = sheet.sums["amount"]
            if spec.errors.get("wrong_total") and not result.totals:
                total = declared + Decimal("100.00")
                result.faults.append(
                    Fault("wrong_total", sheet.name, len(sheet.rows) + 1, result.columns["amount"])
                )
            row: list[object] = [""] * width
            row[0] = "合计"
            row[col["amount"]] = self._money_cell(total)
            for name in self.money_checks:
                row[col[name]] = self._money_cell(sheet.sums[name])
            if "amount_words" in col:
                row[col["amount_words"]] = amount_in_words(total)
            sheet.rows.append(row)
            result.totals[sheet.name] = total
        if spec.footer:
            rng = self.rng
            sheet.rows.append([""] * width)
            line = [""] * width
            line[0] = f"制表人：{_name(rng)}"
            line[min(3, width - 1)] = f"审核人：{_name(rng)}"
            line[min(6, width - 1)] = f"负责人：{_name(rng)}"
            line[width - 1] = f"日期：{self.year}年{self.month}月"
            sheet.rows.append(line)
        self.sheets.append(sheet)

    # Rows.

    def build(self) -> None:
        spec, result = self.spec, self.result
        villages = list(spec.villages)
        per_village = [
            spec.rows // len(villages) + (1 if i < spec.rows % len(villages) else 0)
            for i in range(len(villages))
        ]
        if spec.village_span:
            villages, per_village = self._villages_by_person()
        # A CSV file has no sheet names: the importer names its one sheet after the file.
        if spec.fmt.startswith("csv"):
            sheet_name = result.path.stem
        else:
            sheet_name = "花名册" if spec.title_rows else "Sheet1"
        single = None if spec.one_sheet_per_village else self._new_sheet(sheet_name, None)
        for village, count in zip(villages, per_village, strict=True):
            sheet = single or self._new_sheet(village, village)
            self._village(sheet, village, count)
            if single is None:
                self._close_sheet(sheet)
        if single is not None:
            self._close_sheet(single)
        result.sheets = [sheet.name for sheet in self.sheets]

    def _villages_by_person(self) -> tuple[list[str], list[int]]:
        """Return the runs of the roster's persons by village, in order: villages and counts."""
        spec = self.spec
        runs: list[list] = []
        for index in range(spec.unique_offset, spec.unique_offset + spec.rows):
            village = spec.villages[(index // spec.village_span) % len(spec.villages)]
            if runs and runs[-1][0] == village:
                runs[-1][1] += 1
            else:
                runs.append([village, 1])
        return [village for village, _count in runs], [count for _village, count in runs]

    def _end_run(self, sheet: _Sheet, run_start: int) -> None:
        """Merge the village cells of the rows written since RUN_START."""
        if "village" in self.col and self.spec.merged_village and len(sheet.rows) - run_start > 1:
            c = self.col["village"]
            sheet.merges.append((run_start, c, len(sheet.rows) - 1, c))

    def _village(self, sheet: _Sheet, village: str, count: int) -> None:
        """Write COUNT rows of VILLAGE, household by household."""
        spec, rng = self.spec, self.rng
        run_start = len(sheet.rows)
        written = 0
        while written < count:
            every = spec.repeat_header_every
            if every and sheet.since_header >= every:
                self._end_run(sheet, run_start)
                self._heading(sheet, village if spec.one_sheet_per_village else None)
                self.result.header_repeats += 1
                sheet.since_header = 0
                run_start = len(sheet.rows)
            group = f"{rng.randint(1, 9)}组"
            size = rng.choice((1, 2, 3, 3, 4, 5)) if spec.per_person else 1
            size = min(size, count - written)
            head = _name(rng)
            address = self._address(village, group)
            head_start = len(sheet.rows)
            head_id = ""
            for member in range(size):
                number = make_id_number(self.person)
                self.person += 1
                if member == 0:
                    head_id = number
                first_of_run = len(sheet.rows) == run_start
                self._member(sheet, village, group, head, head_id, member, number,
                             first_of_run, address)  # fmt: skip
                written += 1
                sheet.since_header += 1
            if spec.per_person and spec.merged_village and size > 1:
                c = self.col["head_name"]
                sheet.merges.append((head_start, c, len(sheet.rows) - 1, c))
            self.result.households += 1
        self._end_run(sheet, run_start)

    def _address(self, village: str, group: str) -> str:
        if not self.spec.contact_columns:
            return ""
        house = self.shape.randint(1, 299)
        address = f"{self.spec.township}{village}{group}{house}号"
        self.result.addresses.append(address)
        return address

    def _member(
        self, sheet: _Sheet, village: str, group: str, head: str, head_id: str, member: int,
        number: str, first_of_run: bool, address: str,
    ) -> None:  # fmt: skip
        """Write one data row: the base draws first, in their historical order, then shapes."""
        spec, rng, col, result = self.spec, self.rng, self.col, self.result
        fault = self.fault_rows.get(self.index)
        name = head if member == 0 else _name(rng)
        relation = "户主" if member == 0 else rng.choice(_RELATIONS)
        if spec.with_quantity:
            quantity = Decimal(rng.randint(5, 300)) / Decimal(10)
            amount = (quantity * self.rate).quantize(Decimal("0.01"))
        else:
            quantity = None
            amount = Decimal(rng.randint(5000, 200000)) / Decimal(100)
        row: list[object] = [""] * self.width
        self.seq += 1
        row[0] = self.seq
        if "township" in col:
            row[col["township"]] = spec.township
        if "village" in col:
            row[col["village"]] = village if (first_of_run or not spec.merged_village) else ""
        row[col["group"]] = group
        shown = _pad(name, rng) if spec.padded_names else name
        if spec.per_person:
            row[col["head_name"]] = head if (member == 0 or not spec.merged_village) else ""
            row[col["relation"]] = relation
        row[col["name"]] = shown
        id_cell: object = number
        if number.endswith("X") and rng.random() < 0.3:
            id_cell = number[:-1] + "x"
        row[col["id_number"]] = id_cell
        account = _account(rng)
        row[col["account"]] = account
        if spec.with_quantity:
            row[col["quantity"]] = float(quantity) if self.numeric else str(quantity)
            row[col["rate"]] = float(self.rate) if self.numeric else str(self.rate)
        amount_cell: object = float(amount) if self.numeric else f"{amount:.2f}"
        if rng.random() < 0.02:
            amount_cell = f"{amount:,.2f}元"
        row[col["amount"]] = amount_cell
        pay_day = self.pay_day
        row[col["pay_date"]] = (
            pay_day if self.numeric else _pick(rng, f"{pay_day:%Y-%m-%d}", f"{pay_day:%Y/%m/%d}")
        )
        if spec.with_status:
            row[col["status"]] = rng.choice(("成功", "成功", "成功", "成功", "失败"))
        note = rng.choice(_NOTES)
        if rng.random() < 0.01:
            proxy = _name(rng)
            phone = f"139{rng.randint(10000000, 99999999)}"
            note = f"代领人{proxy}，电话{phone}"
            result.phones.append(phone)
        row[col["note"]] = note
        result.accounts.append(account)
        figures = self._shapes(row, amount, account, address)
        valid = fault is None
        counted = fault is None
        if fault is not None:
            self._inject(sheet, row, fault, number, amount)
            # The importer still counts a readable amount towards the totals row.
            counted = fault in ("bad_account", "empty_name", "check_digit", "excel_number",
                                "duplicate")  # fmt: skip
        if counted:
            sheet.sums["amount"] += amount
        for check in self.money_checks:
            sheet.sums[check] += figures[check]  # read whatever else is wrong with the row
        if valid:
            result.total += amount
            for check in self.money_checks:
                result.money[check] += figures[check]
            result.ids.append(number)
            result.village_of[number] = village
            result.name_of[number] = name
            result.head_of[number] = head_id
            if not self.first_id:
                self.first_id = number
        sheet.rows.append(row)
        self.index += 1

    def _shapes(self, row: list[object], amount: Decimal, account: str, address: str) -> dict:
        """Fill the shapes' cells of ROW (drawn from their own source); return money figures."""
        spec, col, shape = self.spec, self.col, self.shape
        figures: dict[str, Decimal] = {}
        if spec.money == "gross_net":
            deduction = Decimal(0)
            if shape.random() < 0.25:
                deduction = Decimal(shape.randint(1, 40) * 5)
            figures = {"gross": amount + deduction, "deduction": deduction}
        elif spec.money == "parts":
            care = Decimal(0)
            if shape.random() < 0.6:
                care = (amount * Decimal(shape.randint(30, 60)) / 100).quantize(Decimal("0.01"))
            figures = {"living": amount - care, "care": care}
        for name, value in figures.items():
            blank = not value and shape.random() < 0.5  # a nil deduction or part left empty
            row[col[name]] = "" if blank else self._money_cell(value)
        if spec.amount_words:
            row[col["amount_words"]] = amount_in_words(amount)
        if spec.pay_dates == "month":
            y, m = self.year, self.month
            written = shape.choice((f"{y}年{m}月", f"{y}.{m:02d}", f"{y}{m:02d}", f"{y}-{m:02d}"))
            # Typed into a workbook, 202603 is kept as the number it looks like.
            row[col["pay_date"]] = int(written) if written.isdigit() and self.numeric else written
        if spec.id_column == "disability":
            certificate = f"{row[col['id_number']]}{shape.randint(1, 7)}{shape.randint(1, 4)}"
            row[col["id_number"]] = certificate
            self.result.disability_numbers.append(certificate)
        if spec.accounts == "grouped" and shape.random() < 0.9:
            row[col["account"]] = _grouped_account(account, shape.choice((" ", "-")))
        if spec.contact_columns:
            phone = f"1{shape.choice('3578')}{shape.randint(0, 999_999_999):09d}"
            row[col["phone"]] = phone
            row[col["address"]] = address
            self.result.phones.append(phone)
        return figures

    def _inject(
        self, sheet: _Sheet, row: list[object], fault: str, number: str, amount: Decimal
    ) -> None:
        """Spoil ROW with FAULT and note where the importer must report it."""
        col, numeric = self.col, self.numeric
        suffix = ""
        if self.spec.id_column == "disability":
            suffix = str(row[col["id_number"]])[18:]  # category and grade stay
        if fault == "check_digit":
            row[col["id_number"]] = _bad_check_digit(number) + suffix
        elif fault == "excel_number":
            row[col["id_number"]] = (
                float(number[:17] + "0") if numeric else f"{float(number[:17] + '0'):.5E}"
            )
        elif fault == "duplicate":
            row[col["id_number"]] = self.first_id + suffix
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
        self.result.faults.append(
            Fault(fault, sheet.name, len(sheet.rows) + 1, self.result.columns[FAULTS[fault]])
        )


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


def _write_unicode_text(path: Path, sheets: list[_Sheet]) -> None:
    """Write Excel's "Unicode text": UTF-16 LE after a byte-order mark, tabs, CRLF."""
    with open(path, "w", encoding="utf-16-le", newline="") as handle:
        handle.write("\ufeff")
        writer = csv.writer(handle, delimiter="\t", lineterminator="\r\n")
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
    "csv-utf16": _write_unicode_text,
    "xls": _write_xls,
    "ods": _write_ods,
}
