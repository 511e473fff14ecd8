"""Recognise a roster's header: which column holds which field, and the places in its title.

Header texts are matched on a normal form against the aliases of ``funds.importing.aliases``;
a two-row header under a merged group header (户主信息 over 姓名) is read as one. The title rows
above the header and the sheet's name may name the township and the village.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from funds.importing.aliases import FIELD_ALIASES
from funds.importing.cells import cell_text
from funds.importing.grids import HEADER_WINDOW
from privacy.normalize import normalize_name

__all__ = ["Header", "column_letter", "find_header", "header_field", "places_in_title"]

_BRACKETS = re.compile(r"\([^()]*\)|\[[^\[\]]*\]|<[^<>]*>")
_HEADER_JUNK = str.maketrans("", "", "*:：※#")


def _header_key(text: str) -> str:
    """Return the form of a header text that aliases are matched on."""
    text = "".join(unicodedata.normalize("NFKC", text).split()).translate(_HEADER_JUNK)
    text = text.replace("【", "(").replace("】", ")").replace("〔", "(").replace("〕", ")")
    stripped = _BRACKETS.sub("", text)
    return stripped or text


def _build_alias_index() -> dict[str, str]:
    index: dict[str, str] = {}
    for name, aliases in FIELD_ALIASES.items():
        for alias in aliases:
            index.setdefault(_header_key(alias), name)
    return index


_ALIAS_INDEX = _build_alias_index()
_GROUP_SUFFIXES = ("基本信息", "信息", "情况", "基本情况", "资料")


def header_field(text: object) -> str | None:
    """Return the roster field a header cell names, or None."""
    if not isinstance(text, str) or not text.strip():
        return None
    return _ALIAS_INDEX.get(_header_key(text))


def _group_field(top: object, sub: object) -> str | None:
    """Return the field a sub-header names under a group header (户主信息 + 姓名 = 户主姓名)."""
    if not isinstance(top, str) or not isinstance(sub, str):
        return None
    prefix = _header_key(top)
    for suffix in _GROUP_SUFFIXES:
        prefix = prefix.removesuffix(suffix)
    return _ALIAS_INDEX.get(prefix + _header_key(sub)) if prefix else None


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
    return "".join(str(text).split()) if text not in (None, "") else ""


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


@dataclass
class Header:
    """Where the header is and which column holds which field."""

    row: int  # 0-based index of the (last) header row
    columns: dict[str, int]
    labels: dict[int, str]
    title: str


def _row_fields(row: list[object]) -> dict[int, str]:
    """Return column -> field for the header cells of ROW."""
    found: dict[int, str] = {}
    for col, cell in enumerate(row):
        name = header_field(cell)
        if name is not None:
            found[col] = name
    return found


def _first_columns(by_col: dict[int, str]) -> dict[str, int]:
    """Return field -> column, the leftmost column winning."""
    columns: dict[str, int] = {}
    for col in sorted(by_col):
        columns.setdefault(by_col[col], col)
    return columns


def _regroup(top: list[object], sub: list[object], by_col: dict[int, str]) -> dict[int, str]:
    """Return column -> field of SUB read under the group headers in TOP (户主信息 / 姓名)."""
    fields = dict(by_col)
    for col, cell in enumerate(sub):
        above = top[col] if col < len(top) else ""
        if isinstance(above, str) and above.strip() and above != cell:
            name = _group_field(above, cell)
            if name is not None:
                fields[col] = name
            elif col not in fields and header_field(above) is not None and cell in ("", None):
                fields[col] = header_field(above)  # type: ignore[assignment]
    return fields


def find_header(rows: list[list[object]]) -> Header | None:
    """Find the header by its content among the first rows; allow a two-row header."""
    best: tuple[int, dict[int, str]] | None = None
    for index, row in enumerate(rows[:HEADER_WINDOW]):
        found = _row_fields(row)
        names = set(found.values())
        if len(names) < 3:
            continue
        if ("name" in names or "head_name" in names) and "amount" in names:
            best = (index, found)
            break
        if best is None:
            best = (index, found)
    if best is None:
        return None
    index, by_col = best
    labels = {col: _label(cell) for col, cell in enumerate(rows[index])}
    first = last = index
    if index > 0 and any(cell_text(cell) for cell in rows[index - 1]):
        # A group header above: 户主信息 over 姓名 and 身份证号码.
        regrouped = _regroup(rows[index - 1], rows[index], by_col)
        if regrouped != by_col:
            by_col = regrouped
            first = index - 1
    if first == index and index + 1 < len(rows):
        # The row found may itself be the group header, with the sub-headers below it.
        top, below = rows[index], rows[index + 1]
        sub_fields = {
            col: name
            for col, cell in enumerate(below)
            if (name := header_field(cell)) is not None
            and (col >= len(top) or header_field(top[col]) is None or top[col] == cell)
        }
        if sub_fields and any(col not in by_col for col in sub_fields):
            by_col = _regroup(top, below, {**by_col, **sub_fields})
            last = index + 1
            labels.update({col: _label(below[col]) for col in sub_fields if below[col]})
    title = " ".join(cell_text(cell) for row in rows[:first] for cell in row if cell_text(cell))
    return Header(last, _first_columns(by_col), labels, title)
