"""The English catalogue is complete, compiled, in step with the code, and used by the site."""

from __future__ import annotations

import ast
import gettext
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import translation

ROOT = Path(settings.BASE_DIR)
PO_PATH = ROOT / "locale" / "en" / "LC_MESSAGES" / "django.po"
MO_PATH = PO_PATH.with_suffix(".mo")
SOURCE_DIRS = ("api", "config", "demo", "funds", "publicity", "villages", "templates")
HAN = re.compile(r"[\u3400-\u9fff]")
# printf-style (%(name)s, %s, %d, %%) and str.format-style ({0}, {name}) placeholders
PLACEHOLDER = re.compile(r"%(?:\([^)]+\))?[-#0 +]*\d*(?:\.\d+)?[sdifr%]|\{[A-Za-z0-9_]*\}")


@dataclass
class Entry:
    msgid: str = ""
    msgid_plural: str | None = None
    msgctxt: str | None = None
    msgstr: dict[int, str] = field(default_factory=dict)
    flags: set[str] = field(default_factory=set)


def read_po(path: Path) -> list[Entry]:
    """Parse a .po file into entries, skipping obsolete ones and the header."""
    entries: list[Entry] = []
    for block in re.split(r"\n[ \t]*\n", path.read_text(encoding="utf-8")):
        entry, target = Entry(), None
        for line in block.strip().splitlines():
            if line.startswith("#,"):
                entry.flags |= {flag.strip() for flag in line[2:].split(",")}
            elif line.startswith("#"):
                continue  # comments and obsolete (#~) entries
            elif line.startswith('"'):
                _append(entry, target, ast.literal_eval(line))
            else:
                keyword, _, value = line.partition(" ")
                target = keyword
                _append(entry, target, ast.literal_eval(value), start=True)
        if entry.msgid:  # the header has none
            entries.append(entry)
    return entries


def _append(entry: Entry, target: str | None, text: str, start: bool = False) -> None:
    if target is None:
        raise ValueError(f"string continuation without a keyword: {text!r}")
    if target.startswith("msgstr"):
        index = int(target[7:-1]) if "[" in target else 0
        entry.msgstr[index] = ("" if start else entry.msgstr[index]) + text
    else:  # msgid, msgid_plural, msgctxt
        setattr(entry, target, ("" if start else getattr(entry, target)) + text)


def _label(entry: Entry) -> str:
    return f"{entry.msgctxt}|{entry.msgid}" if entry.msgctxt else entry.msgid


@pytest.fixture(scope="module")
def entries() -> list[Entry]:
    return read_po(PO_PATH)


def test_catalogue_is_not_trivially_small(entries):
    """Guard the other checks: an empty or unparsed catalogue would pass them vacuously."""
    assert len(entries) > 300
    assert any(e.msgid_plural for e in entries)


def test_every_entry_is_translated(entries):
    """Every msgid (and every plural form) has a non-empty English msgstr."""
    untranslated = [
        _label(e)
        for e in entries
        if not e.msgstr or not all(e.msgstr.get(i) for i in range(2 if e.msgid_plural else 1))
    ]
    assert untranslated == []


def test_no_entry_is_fuzzy(entries):
    """A fuzzy entry is makemessages' guess that gettext ignores: check it, then clear the flag."""
    assert [_label(e) for e in entries if "fuzzy" in e.flags] == []


def test_no_translation_is_still_chinese(entries):
    """A msgstr containing Chinese characters is a copy of the source, not a translation."""
    # Chinese data an English reader must still type or find: roster cell values, sample names
    allowed = ("成功", "失败", "退回", "停发", "张*三", "红星村")
    left = []
    for e in entries:
        for text in e.msgstr.values():
            for word in allowed:
                text = text.replace(word, "")
            if HAN.search(text):
                left.append(_label(e))
    assert left == []


def _placeholders(text: str) -> Counter[str]:
    return Counter(PLACEHOLDER.findall(text))


def test_placeholders_match(entries):
    """Each msgstr keeps exactly the placeholders of its msgid, so formatting never raises."""
    mismatched = []
    for e in entries:
        expected = _placeholders(e.msgid)
        if e.msgid_plural is not None:
            expected |= _placeholders(e.msgid_plural)
        for index, text in e.msgstr.items():
            if _placeholders(text) != expected:
                mismatched.append((_label(e), index, text))
    assert mismatched == []


def test_placeholder_check_catches_a_dropped_name():
    """The placeholder comparison itself notices a renamed or missing placeholder."""
    assert _placeholders("共 %(rows)s 笔") != _placeholders("%(row)s payments")
    assert _placeholders("%d 个文件") != _placeholders("files")
    assert _placeholders("进度（%）") == _placeholders("Progress (%)")


def test_compiled_catalogue_matches_the_po(entries):
    """The committed .mo gives every translation of the .po: a .po edit needs compilemessages."""
    with MO_PATH.open("rb") as handle:
        catalogue = gettext.GNUTranslations(handle)
    stale = []
    for e in entries:
        if e.msgid_plural is not None:
            got = {
                index: (
                    catalogue.npgettext(e.msgctxt, e.msgid, e.msgid_plural, n)
                    if e.msgctxt
                    else catalogue.ngettext(e.msgid, e.msgid_plural, n)
                )
                for index, n in ((0, 1), (1, 2))
            }
        else:
            single = catalogue.pgettext(e.msgctxt, e.msgid) if e.msgctxt else None
            got = {0: single if single is not None else catalogue.gettext(e.msgid)}
        if got != e.msgstr:
            stale.append(_label(e))
    assert stale == []


# Literal gettext calls whose first argument is a single, possibly escaped, string literal.
PY_CALL = re.compile(
    r"""\b(?:_|gettext|gettext_lazy|gettext_noop|ngettext|ngettext_lazy)\(\s*"""
    r"""(?P<q>["'])(?P<text>(?:\\.|(?!(?P=q)).)*?)(?P=q)\s*[,)]"""
)
TEMPLATE_TAG = re.compile(r"""\{%\s*(?:translate|trans)\s+(?P<q>["'])(?P<text>.*?)(?P=q)[^%]*%\}""")
BLOCK_TAG = re.compile(
    r"\{%\s*(?:blocktranslate|blocktrans)(?P<args>[^%]*)%\}(?P<body>.*?)"
    r"\{%\s*(?:endblocktranslate|endblocktrans|plural)\s*%\}",
    re.DOTALL,
)
VARIABLE = re.compile(r"\{\{\s*(\w+)\s*\}\}")


def source_msgids() -> dict[str, str]:
    """Find Chinese msgids used by literal gettext calls and translate tags, with their files."""
    found: dict[str, str] = {}
    for folder in SOURCE_DIRS:
        for path in sorted((ROOT / folder).rglob("*")):
            if path.suffix not in (".py", ".html", ".txt") or "migrations" in path.parts:
                continue
            text = path.read_text(encoding="utf-8")
            where = str(path.relative_to(ROOT))
            for match in PY_CALL.finditer(text):
                literal = match["q"] + match["text"] + match["q"]
                found.setdefault(ast.literal_eval(literal), where)
            if path.suffix == ".py":
                continue
            for match in TEMPLATE_TAG.finditer(text):
                if "context" not in match.group(0):
                    found.setdefault(match["text"], where)
            for match in BLOCK_TAG.finditer(text):
                args, body = match["args"], match["body"]
                if "context" in args or "trimmed" in args or "{%" in body:
                    continue
                msgid = VARIABLE.sub(r"%(\1)s", body.replace("%", "%%"))
                found.setdefault(msgid, where)
    return {msgid: where for msgid, where in found.items() if HAN.search(msgid)}


def test_source_scan_finds_strings():
    """The scan sees Python calls, translate tags and blocktranslate bodies alike."""
    found = source_msgids()
    assert len(found) > 300
    assert "阳光公示" in found  # {% translate %} in templates/base.html
    assert "页码，从 1 开始。" in found  # _() in api/pagination.py
    assert "%(year)s 年发放合计" in found  # {% blocktranslate %} in templates/publicity/home.html


def test_catalogue_has_every_string_in_the_code(entries):
    """Every Chinese literal passed to gettext or a translate tag is in the .po: run makemessages.

    The scan is a regex, not xgettext (CI may lack GNU gettext): it misses strings built by
    concatenation, pgettext contexts and {% blocktranslate trimmed %} bodies.
    """
    known = {e.msgid for e in entries}
    missing = {msgid: where for msgid, where in source_msgids().items() if msgid not in known}
    assert missing == {}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("url_name", "english", "chinese"),
    [
        ("publicity:home", "Public Notice of Welfare and Farm Subsidy", "惠民惠农资金公示"),
        ("publicity:home", "Townships and villages", "乡镇和村"),
        ("publicity:lookup", "Personal subsidy lookup", "个人补贴查询"),
        ("publicity:lookup", "ID number", "身份证号码"),
        ("publicity:township_index", "Skip to main content", "跳到正文"),
    ],
)
def test_pages_render_in_english_when_asked(client, url_name, english, chinese):
    """A visitor whose browser asks for English gets English text and not the Chinese source."""
    response = client.get(reverse(url_name), HTTP_ACCEPT_LANGUAGE="en")
    text = response.content.decode()
    assert response.status_code == 200
    assert english in text
    assert chinese not in text


@pytest.mark.django_db
def test_pages_stay_chinese_by_default(client):
    """Without a language choice the site speaks its source language, Chinese."""
    text = client.get(reverse("publicity:lookup")).content.decode()
    assert "个人补贴查询" in text
    assert "Personal subsidy lookup" not in text


@pytest.mark.django_db
def test_language_selector_switches_to_english(client):
    """Choosing English in the selector sets the language cookie, and the next page is English."""
    response = client.post(
        reverse("set_language"), {"language": "en", "next": reverse("publicity:lookup")}
    )
    assert response.status_code == 302
    assert client.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"
    text = client.get(reverse("publicity:lookup")).content.decode()
    assert "Personal subsidy lookup" in text
    assert "个人补贴查询" not in text


def test_lazy_strings_and_plurals_translate_under_override():
    """Model labels and plural forms come out in English inside translation.override('en')."""
    from funds.models import Batch

    villages = "%(counter)s 个村"
    with translation.override("en"):
        assert str(Batch.Status.FINAL.label) == "Finalized"
        assert translation.ngettext(villages, villages, 1) == "%(counter)s village"
        assert translation.ngettext(villages, villages, 3) == "%(counter)s villages"
    with translation.override("zh-hans"):
        assert str(Batch.Status.FINAL.label) == "已定稿"
