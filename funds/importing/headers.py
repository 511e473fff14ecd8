"""Recognise a roster's header: which column holds which field, and the places in its title.

A header text is read for what it says, not looked up in a fixed list: ``classify`` folds it
(width, line breaks, units in brackets, numbering), tries the known aliases
(``funds.importing.aliases``, kept as data), then rules of role words around field words —
whose name (户主 / 收款人 / 享受人 … + 姓名), whose ID number, which money (实发 / 应发 / 扣款 /
合计 / 大写 + 金额 / 补贴 / 补助 / 救助 / 保障 …), and the personal data a payment does not
need (phones, addresses, certificate numbers), which is never read.

``find_header`` finds the header row by its content, reads a two-row header (a group header
merged over its sub-headers: 户主信息 over 姓名 and 身份证号码; 补贴金额 over 应发, 扣款 and
实发) as one, and ``settle`` chooses, by the documented rules below, which column is each field
when several could be; what it cannot settle is left for staff to map.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from funds.importing.aliases import FIELD_ALIASES
from funds.importing.cells import cell_text
from funds.importing.grids import HEADER_WINDOW
from funds.importing.parsed import IGNORE, PERSONAL
from privacy import personal
from privacy.normalize import normalize_name

__all__ = [
    "MONEY_CHECKS",
    "REQUIRED",
    "Guess",
    "Header",
    "classify",
    "column_letter",
    "find_header",
    "header_field",
    "header_key",
    "months_in_text",
    "places_in_sheet_name",
    "places_in_title",
    "settle",
    "signature_of",
]

#: Fields a roster cannot do without.
REQUIRED = ("name", "id_number", "amount")
#: Money columns besides the amount paid: before deductions, a deduction, a part of a total
#: column, and the amount in words (大写). Each is read only to check the amount against.
MONEY_CHECKS = ("gross", "deduction", "part", "amount_words")


@dataclass(frozen=True)
class Guess:
    """What a header says its column holds: a field, and for money columns their role."""

    field: str  # a ParsedRow field, a header-only field (gross, seq, …), IGNORE or PERSONAL
    role: str = ""  # for field "amount": net, total or plain


# --- Folding a header text -------------------------------------------------------------------

_BRACKETS = re.compile(r"[(\[<]([^()\[\]<>]*)[)\]>]")
_HEADER_JUNK = str.maketrans("", "", "*:：※#'\"“”‘’、,，.。;；")
_NUMBERING = re.compile(r"^(?:[0-9]{1,2}|[一二三四五六七八九十]{1,2})[、.)]")
_TRAILING_UNIT = re.compile(r"(?:\(?(?:单位)?[:：]?(?:元|万元|亩|人|月|户)\)?)$")


def header_key(text: object) -> str:
    """Return the folded form of a header text: NFKC, no spaces, units and numbering dropped."""
    if not isinstance(text, str):
        text = cell_text(text)
    text = "".join(unicodedata.normalize("NFKC", text).split())
    text = text.replace("【", "(").replace("】", ")").replace("〔", "(").replace("〕", ")")
    text = _NUMBERING.sub("", text).translate(_HEADER_JUNK)
    stripped = _BRACKETS.sub("", text)
    return stripped or text


def _unit(text: str) -> str:
    """Return what a header's brackets say, e.g. 元, 亩, 元/亩; '' when none."""
    folded = "".join(unicodedata.normalize("NFKC", text).split())
    folded = folded.replace("【", "(").replace("】", ")")
    return "".join(_BRACKETS.findall(folded))


def _build_alias_index() -> dict[str, str]:
    index: dict[str, str] = {}
    for name, aliases in FIELD_ALIASES.items():
        for alias in aliases:
            index.setdefault(header_key(alias), name)
    return index


_ALIAS_INDEX = _build_alias_index()

# --- Rules: word lists, checked in the order of _RULES ----------------------------------------

_HEAD = ("户主", "家长", "户代表", "承包方代表")
_PAYEE = ("收款人", "领款人", "代领人", "持卡人", "开户人", "账户名", "帐户名", "户名", "代理人")
_NOT_PERSON = ("村", "乡", "镇", "组", "社区", "银行", "项目", "单位", "险种", "类别", "类型")
_NAME_ENDS = ("姓名", "名字")
_PERSON_WORDS = (
    "享受人", "享受对象", "补贴对象", "救助对象", "保障对象", "供养对象", "补助对象", "对象",
    "申请人", "购机者", "购机人", "购机户", "受益人", "受助人", "领取人", "被补偿人", "承包户",
    "承包方", "种植户", "养殖户", "农户", "老人", "残疾人", "学生", "儿童", "成员", "人员",
)  # fmt: skip
_ID_WORDS = ("身份证", "身份号码", "证件号", "身份号", "公民身份")
_DISABILITY = ("残疾证", "残疾人证")
_SOCIAL_CARD = ("社保卡", "社会保障卡", "社保账号", "社会保障号")
_OTHER_CERTIFICATES = ("证号", "证书编号", "证编号", "户口簿", "户口本", "证件编号")
_ACCOUNT = ("账号", "帐号", "卡号", "账户", "帐户", "存折", "折号")
_BANK_DETAILS = ("开户行", "开户银行", "银行名称", "开户网点", "代发银行", "金融机构", "银行")
_CONTACT = ("电话", "手机", "联系", "住址", "地址", "户籍", "邮编", "微信", "邮箱", "QQ")
#: What an ID number already tells, and health: never needed to pay, never read.
_ATTRIBUTES = ("性别", "年龄", "出生", "民族", "残疾类别", "残疾等级", "健康状况", "婚姻")
_DATE = ("日期", "时间", "年月", "月份", "所属期")
_STATUS = ("状态", "结果", "是否成功", "是否发放")
_NOTE = ("备注", "说明", "附注", "原因")
_SEQ = ("序号", "编号", "顺序号", "No", "NO", "序")
_TOWNSHIP_WORDS = ("乡镇", "乡(镇)", "街道", "苏木")
_GROUP_WORDS = ("村民小组", "小组", "组别", "自然村", "村民组", "屯", "组")
_VILLAGE_WORDS = ("行政村", "村委会", "村居", "社区", "居委会", "嘎查", "村")
_RATE = ("标准", "单价", "每亩", "每人", "每月", "每户")
_QUANTITY = ("面积", "亩数", "数量", "人数", "月数", "头数", "台数", "人口", "户数")
_MONEY_STRONG = ("金额", "资金", "款", "工资", "津贴", "补贴金", "补助金", "救助金", "保障金",
                 "补偿金", "奖励金", "生活费", "护理费", "金")  # fmt: skip
_MONEY_ENDS = ("补贴", "补助", "补偿", "救助", "保障", "发放", "奖补", "奖励", "合计", "总计",
               "小计", "实发", "应发", "扣款", "扣除", "实付", "应付", "总额", "补贴额",
               "补助额", "救助额", "发放额")  # fmt: skip
_NET = ("实发", "实付", "实际发放", "实领", "实得", "到账", "净额", "实拨", "实补", "实际到户")
_GROSS = ("应发", "应付", "应补", "核定", "应享受", "应得")
_DEDUCTION = ("扣款", "扣除", "代扣", "扣减", "扣回", "扣缴")
_TOTAL = ("合计", "总计", "总额", "共计", "汇总", "小计")


def _has(key: str, words: tuple[str, ...]) -> bool:
    return any(word in key for word in words)


def _person(key: str) -> Guess | None:
    """Whose name a header names: the head's, the payee's or the beneficiary's."""
    if _has(key, _NOT_PERSON):
        return None
    named = key.endswith(_NAME_ENDS) or key in _HEAD or key in _PAYEE
    if not (named or key.endswith(_PERSON_WORDS)):
        return None
    if _has(key, _PAYEE):
        return Guess("payee_name")
    if _has(key, _HEAD):
        return Guess("head_name")
    return Guess("name")


def _identity(key: str) -> Guess | None:
    """Whose ID number, or which certificate, a header names."""
    if _has(key, _DISABILITY):
        return Guess("disability_number")
    if _has(key, _SOCIAL_CARD):
        return Guess("account")
    if _has(key, _ID_WORDS):
        if _has(key, _PAYEE):
            return Guess(PERSONAL)  # the payee's ID: nothing a payment needs
        return Guess("head_id" if _has(key, _HEAD) else "id_number")
    if _has(key, _OTHER_CERTIFICATES):
        return Guess(PERSONAL)
    return None


def _money(key: str, unit: str) -> Guess | None:
    """Which money column a header names, if any (rates and quantities are not money)."""
    per = "/" in unit or _has(unit, ("每",))
    if _has(key, _RATE) or (per and "元" in unit):
        return Guess("rate")
    if _has(key, _QUANTITY) or unit in ("亩", "人", "月", "户"):
        return Guess("quantity")
    if _has(key, _DEDUCTION):
        return Guess("deduction")
    if not (_has(key, _MONEY_STRONG) or key.endswith(_MONEY_ENDS) or "元" in unit):
        return None
    if _has(key, _NET):
        return Guess("amount", "net")
    if _has(key, _GROSS):
        return Guess("gross")
    return Guess("amount", "total" if _has(key, _TOTAL) else "plain")


def _simple(key: str) -> Guess | None:
    """Places, dates, statuses, notes, relations, row numbers and personal data."""
    for words, guess in ((_BANK_DETAILS, Guess(IGNORE)), (_TOWNSHIP_WORDS, Guess("township"))):
        if _has(key, words):
            return guess
    if key in ("乡", "镇"):
        return Guess("township")
    if key.endswith(_GROUP_WORDS) and not key.endswith(("村组",)):
        return Guess("group")
    if _has(key, _VILLAGE_WORDS) and not _has(key, ("村民",)):
        return Guess("village")
    for words, name in (
        (_DATE, "pay_date"), (_STATUS, "status"), (_NOTE, "note"), (("关系",), "relation"),
    ):  # fmt: skip
        if _has(key, words):
            return Guess(name)
    if key in _SEQ:
        return Guess("seq")
    return None


def classify(text: object) -> Guess | None:
    """Return what a header cell says its column holds, or None when it says nothing known."""
    raw = text if isinstance(text, str) else cell_text(text)
    key = header_key(raw)
    if not key:
        return None
    if "大写" in raw:
        return Guess("amount_words")
    alias = _ALIAS_INDEX.get(key)
    if alias == "amount":
        return _money(key, _unit(raw)) or Guess("amount", "plain")
    if alias is not None:
        return Guess(alias)
    if _has(key, _CONTACT) or _has(key, _ATTRIBUTES):
        return Guess(PERSONAL)
    found = _identity(key)
    if found is not None:
        return found
    if key.endswith(("户名", "账户名", "帐户名", "户名称")):
        return Guess("payee_name")  # the name an account is held in
    if _has(key, _ACCOUNT):
        return Guess("account")
    return _person(key) or _money(key, _unit(raw)) or _simple(key)


def header_field(text: object) -> str | None:
    """Return the roster field a header cell names, or None (the field of ``classify``)."""
    guess = classify(text)
    return None if guess is None or guess.field in (IGNORE, PERSONAL) else guess.field


def column_letter(index: int) -> str:
    """Return the Excel letter of a 0-based column index (0 → A, 26 → AA)."""
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def _label(text: object) -> str:
    """Return a header cell as staff see it, without line breaks or padding."""
    return "".join(cell_text(text).split()) if text not in (None, "") else ""


# --- Titles and places -----------------------------------------------------------------------

_YEAR_PREFIX = re.compile(r"^[0-9０-９]{2,4}\s*年度?")
_TOWNSHIP = re.compile(r"([\u4e00-\u9fff]{2,12}?)(镇|乡|街道|苏木)(?!村|镇)")
_VILLAGE = re.compile(r"([\u4e00-\u9fff]{1,10}?)(村委会|村|社区|居委会|嘎查)")
_PREFIX_ENDS = "省市县区旗年度"
_DEFAULT_SHEET = re.compile(r"^(sheet|工作表|表|页|sheet 页)?\s*[0-9]*$", re.IGNORECASE)
_VILLAGE_SUFFIXES = ("村", "社区", "居委会", "嘎查", "村委会")


def _strip_prefix(name: str, suffix_len: int) -> str:
    """Drop a county/year prefix from a township match: 某某县城关镇 → 城关镇."""
    for pos in range(len(name) - suffix_len - 2, -1, -1):
        if name[pos] in _PREFIX_ENDS:
            return name[pos + 1 :]
    return name


def places_in_title(text: str) -> tuple[str, str]:
    """Return (township, village) named in a title like 城关镇东风村2024年…花名册; '' if absent."""
    text = "".join(unicodedata.normalize("NFKC", text).split())
    text = _YEAR_PREFIX.sub("", text)
    township = village = ""
    rest = text
    if match := _TOWNSHIP.search(text):
        township = _strip_prefix(match.group(0), len(match.group(2)))
        rest = text[match.end() :]
        if found := _VILLAGE.match(rest):
            village = found.group(0)
    elif found := _VILLAGE.match(_YEAR_PREFIX.sub("", rest)):
        village = found.group(0)
    if village.endswith("村委会"):
        village = village.removesuffix("委会")
    return township, village


_MONTH_PATTERNS = (
    re.compile(r"(20[0-9]{2})年(1[0-2]|0?[1-9])月"),
    re.compile(r"(?<![0-9])(20[0-9]{2})[-._/](1[0-2]|0?[1-9])(?![0-9])"),
)


def months_in_text(text: str) -> set[str]:
    """Return the payment periods (2026-03) a title or file name names: 2026年3月, 2026-03."""
    text = "".join(unicodedata.normalize("NFKC", text).split())
    return {
        f"{int(year):04d}-{int(month):02d}"
        for pattern in _MONTH_PATTERNS
        for year, month in pattern.findall(text)
    }


def places_in_sheet_name(name: str) -> tuple[str, str]:
    """Return (township, village) a sheet name gives, if it names a village at all."""
    clean = normalize_name(name)
    if not clean or _DEFAULT_SHEET.match(clean):
        return "", ""
    township, village = places_in_title(clean)
    if village:
        return township, village
    if clean.endswith(_VILLAGE_SUFFIXES):
        return township, clean
    return township, ""


# --- Finding the header ----------------------------------------------------------------------

_GROUP_SUFFIXES = ("基本信息", "信息", "情况", "基本情况", "资料", "明细")
#: Fields that are never guessed between two columns: the wrong one would pay or name the
#: wrong person, so two candidates stop the import for staff to choose.
_ONE_ONLY = ("name", "id_number", "head_name", "head_id", "payee_name", "account")
_NOT_COUNTED = ("", IGNORE, PERSONAL, "seq")


@dataclass
class Header:
    """Where the header is, what each column holds, and what could not be settled."""

    row: int  # 0-based index of the (last) header row
    columns: dict[str, int]  # field -> column, as settled
    labels: dict[int, str]  # column -> header text as staff see it ("户主信息/姓名")
    title: str
    fields: dict[int, str] = field(default_factory=dict)  # column -> field, IGNORE or PERSONAL
    given: set[int] = field(default_factory=set)  # columns a staff mapping named
    checks: dict[str, list[int]] = field(default_factory=dict)  # MONEY_CHECKS -> columns
    unsettled: dict[str, str] = field(default_factory=dict)  # field -> "missing" | "ambiguous"
    signature: str = ""
    per_person: bool = False  # a row per household member, under a head named on each row
    id_from_disability: bool = False  # no ID column: 残疾证号 opens with the holder's ID
    amount_in_words: bool = False  # the only amount column is written in words (大写)
    first: int = 0  # 0-based index of the first header row (a group header above)


def _row_guesses(row: list[object], mapping: Mapping[str, str] | None = None) -> dict[int, Guess]:
    """Return column -> guess for ROW's cells; a MAPPING names columns by their label."""
    guesses = {}
    for col, cell in enumerate(row):
        label = _label(cell)
        guess = Guess(mapping[label]) if mapping and label in mapping else classify(cell)
        if guess is not None:
            guesses[col] = guess
    return guesses


def _counted(guesses: dict[int, Guess]) -> set[str]:
    return {g.field for g in guesses.values() if g.field not in _NOT_COUNTED}


def _grouped(top: list[object], sub: list[object]) -> tuple[dict[int, Guess], dict[int, str]]:
    """Read SUB under the group headers of TOP (户主信息/姓名 = 户主姓名): guesses, labels."""
    guesses: dict[int, Guess] = {}
    labels: dict[int, str] = {}
    for col in range(max(len(top), len(sub))):
        above = _label(top[col]) if col < len(top) else ""
        below = _label(sub[col]) if col < len(sub) else ""
        if above and below and above != below:
            prefix = header_key(above)
            for suffix in _GROUP_SUFFIXES:
                prefix = prefix.removesuffix(suffix)
            guess = classify(prefix + header_key(below)) or classify(below)
            label = f"{above}/{below}"
        else:
            guess, label = classify(below or above), below or above
        if label:
            labels[col] = label
        if guess is not None:
            guesses[col] = guess
    return guesses, labels


def _is_group_row(row: list[object]) -> bool:
    """Say whether ROW may be group headers: several short texts, not one title over all."""
    texts = {text for cell in row if (text := cell_text(cell))}
    return len(texts) >= 2 and all(len(text) <= 16 for text in texts)


def _locate(rows: list[list[object]], mapping: Mapping[str, str] | None = None) -> int | None:
    """Return the index of the row that best looks like the header, among the first rows."""
    best = None
    for index, row in enumerate(rows[:HEADER_WINDOW]):
        fields = _counted(_row_guesses(row, mapping))
        if len(fields) < 3:
            continue
        if fields & {"name", "head_name"} and fields & {"amount", "gross", "amount_words"}:
            return index
        if best is None:
            best = index
    return best


def _two_rows(rows: list[list[object]], index: int) -> tuple[int, int, dict, dict]:
    """Return (first, last) header rows, guesses and labels, reading a group header too."""
    guesses = _row_guesses(rows[index])
    labels = {col: label for col, cell in enumerate(rows[index]) if (label := _label(cell))}
    if index > 0 and _is_group_row(rows[index - 1]):
        above, above_labels = _grouped(rows[index - 1], rows[index])
        if len(_counted(above)) > len(_counted(guesses)) or (
            _counted(above) == _counted(guesses) and above != guesses
        ):
            return index - 1, index, above, above_labels
    if index + 1 < len(rows) and _is_group_row(rows[index]):
        below, below_labels = _grouped(rows[index], rows[index + 1])
        if len(_counted(below)) > len(_counted(guesses)):
            return index, index + 1, below, below_labels
    return index, index, guesses, labels


def _locate_by_template(
    rows: list[list[object]], mapping_for: Callable[[str], Mapping[str, str] | None]
) -> tuple[int | None, Mapping[str, str] | None]:
    """Find a header no rule recognises by a saved template for its signature."""
    for index, row in enumerate(rows[:HEADER_WINDOW]):
        labels = {col: label for col, cell in enumerate(row) if (label := _label(cell))}
        if len(labels) >= 3 and (found := mapping_for(signature_of(labels))):
            return index, found
    return None, None


def _masked_label(text: str) -> str:
    """Return a label of a guessed header row masked as a name would be, numbers scrubbed."""
    text = personal.scrub_text(text)
    if 2 <= len(text) <= 4 and all("\u4e00" <= ch <= "\u9fff" for ch in text):
        return personal.mask_name(text)
    return text


def _text_row(rows: list[list[object]]) -> int | None:
    """Return the first row of several short texts that has a row with digits below it."""
    window = rows[:HEADER_WINDOW]
    for index, row in enumerate(window):
        texts = [cell for cell in row if isinstance(cell, str) and cell.strip()]
        words = {text for text in texts if any(ch.isalpha() for ch in text)}
        if len(words) < 3 or any(len(text) > 16 for text in texts):
            continue
        below = rows[index + 1 : index + 4]
        if any(any(c not in ("", None) and any(ch.isdigit() for ch in cell_text(c)) for c in r)
               for r in below):  # fmt: skip
            return index
    return None


def signature_of(labels: Mapping[int, str]) -> str:
    """Return a short, stable digest of a header's labels, by which a template is found."""
    text = "\x1f".join(f"{col}:{header_key(labels[col])}" for col in sorted(labels))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def find_header(
    rows: list[list[object]], *, mapping: Mapping[str, str] | None = None,
    mapping_for: Callable[[str], Mapping[str, str] | None] | None = None,
    fallback: bool = False,
) -> Header | None:  # fmt: skip
    """Find the header by its content among the first rows and settle which column is what.

    MAPPING (header label -> field, IGNORE or PERSONAL), or else the one MAPPING_FOR returns for
    the header's signature (a saved template), overrides what the headers say. With FALLBACK, a
    row of short texts above the data stands for the header when nothing recognises one: its
    fields are all unsettled, for staff to map.
    """
    index = _locate(rows, mapping)
    if index is None and mapping is None and mapping_for is not None:
        index, mapping = _locate_by_template(rows, mapping_for)
    guessed_row = index is None and fallback
    if guessed_row:
        index = _text_row(rows)
    if index is None:
        return None
    first, last, guesses, labels = _two_rows(rows, index)
    if guessed_row:  # perhaps a data row: its texts are shown and kept only masked
        labels = {col: _masked_label(label) for col, label in labels.items()}
    title = " ".join(cell_text(cell) for row in rows[:first] for cell in row if cell_text(cell))
    header = Header(last, {}, labels, title, signature=signature_of(labels), first=first)
    given = mapping if mapping is not None else (mapping_for and mapping_for(header.signature))
    for col, label in labels.items():
        if given and label in given:
            guesses[col] = Guess(given[label], "net" if given[label] == "amount" else "")
            header.given.add(col)
    settle(header, guesses)
    return header


def settle(header: Header, guesses: dict[int, Guess]) -> None:
    """Choose the column of each field; note what cannot be chosen.

    The rules, in order: a column a staff mapping names wins. The amount paid is the net
    column (实发) when there is one, checked against gross − deductions (应发 − 扣款); else a
    total column (合计) over its parts (生活补贴 + 护理补贴), checked against their sum; else
    the one amount column; else a lone gross column with no deduction; else the amount in
    words (大写). Several candidates with no rule to choose between them leave the amount
    unsettled, as do two columns for a person's name or ID number: staff map them.
    """
    by_field: dict[str, list[int]] = {}
    for col in sorted(guesses):
        by_field.setdefault(guesses[col].field, []).append(col)
    header.fields = {col: guess.field for col, guess in guesses.items()}
    for name, cols in by_field.items():
        if name in _NOT_COUNTED or name in ("amount", *MONEY_CHECKS):
            continue
        chosen = [c for c in cols if c in header.given] or cols
        if len(chosen) > 1 and name in _ONE_ONLY:
            header.unsettled[name] = "ambiguous"
            continue
        header.columns[name] = chosen[0]
    _settle_amount(header, guesses, by_field)
    _fall_back(header)
    for name in REQUIRED:
        if name not in header.columns and name not in header.unsettled:
            header.unsettled[name] = "missing"
    order = {name: index for index, name in enumerate(REQUIRED)}
    header.unsettled = dict(sorted(header.unsettled.items(), key=lambda i: order.get(i[0], 9)))


def _fall_back(header: Header) -> None:
    """Let the head's columns stand for the beneficiary's on per-household rosters."""
    cols = header.columns
    header.per_person = "relation" in cols or (
        "head_name" in cols and "name" in cols and cols["head_name"] != cols["name"]
    )
    if "name" not in cols and "head_name" in cols and "name" not in header.unsettled:
        cols["name"] = cols["head_name"]
    if "id_number" not in cols and "id_number" not in header.unsettled:
        if "head_id" in cols:
            cols["id_number"] = cols.pop("head_id")
        elif "disability_number" in cols:
            cols["id_number"] = cols["disability_number"]
            header.id_from_disability = True
    elif "disability_number" in cols:
        header.fields[cols.pop("disability_number")] = PERSONAL  # the ID is there: not needed
    if cols.get("head_id") == cols.get("id_number"):
        cols.pop("head_id", None)


def _settle_amount(header: Header, guesses: dict[int, Guess], by_field: dict) -> None:
    """Choose the amount column by the rules of ``settle``; keep the others to check it."""
    amounts = by_field.get("amount", [])
    by_role = {
        role: [c for c in amounts if guesses[c].role == role] for role in ("net", "total", "plain")
    }
    gross, deductions = by_field.get("gross", []), by_field.get("deduction", [])
    words = by_field.get("amount_words", [])
    given = [c for c in amounts if c in header.given]
    parts: list[int] = []
    if given:
        chosen = given
    elif by_role["net"]:
        chosen = by_role["net"]
    elif by_role["total"] and by_role["plain"]:
        chosen, parts = by_role["total"], by_role["plain"]
    elif by_role["plain"] or by_role["total"]:
        chosen = by_role["plain"] or by_role["total"]
    elif len(gross) == 1 and not deductions:
        chosen, gross = gross, []
    elif len(words) == 1:
        chosen, words = words, []
        header.amount_in_words = True
    else:
        chosen = gross + words
    if len(chosen) != 1:
        header.unsettled["amount"] = "ambiguous" if chosen else "missing"
        return
    header.columns["amount"] = chosen[0]
    header.fields[chosen[0]] = "amount"
    for name, cols in (("gross", gross), ("deduction", deductions), ("part", parts),
                       ("amount_words", words)):  # fmt: skip
        if cols:
            header.checks[name] = cols
            for col in cols:
                header.fields[col] = name
