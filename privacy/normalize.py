"""Normalise what people write for ID numbers, bank accounts and names.

Pure functions: the one place where full-width digits, dashes, spaces, invisible characters and
the many middle dots of minority names are folded, so that masks, hashes and checks agree.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["normalize_account", "normalize_id_number", "normalize_name", "squeeze"]

# Characters removed from ID numbers and accounts besides whitespace.
_DASHES = "-\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d"
_INVISIBLE = "\u200b\u200c\u200d\u2060\ufeff"
_STRIP_TABLE = str.maketrans("", "", _DASHES + _INVISIBLE)
_INVISIBLE_TABLE = str.maketrans("", "", _INVISIBLE)
# Separators people put between the parts of a minority name, unified to U+00B7.
_NAME_DOTS = "\u00b7\u0387\u2022\u2027\u2219\u22c5\u30fb\uff65\u318d"
_NAME_DOT_TABLE = str.maketrans(dict.fromkeys(_NAME_DOTS, "\u00b7"))
CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f]")


def squeeze(raw: str) -> str:
    """Apply NFKC and drop every whitespace, dash and invisible character."""
    text = unicodedata.normalize("NFKC", raw)
    return "".join(text.split()).translate(_STRIP_TABLE)


def normalize_id_number(raw: str) -> str:
    """Normalise an ID number: NFKC, no whitespace or hyphens, upper-case X."""
    text = squeeze(raw).upper()
    # A leading apostrophe is how spreadsheet users force a cell to text.
    return text.removeprefix("'")


def normalize_account(raw: str) -> str:
    """Normalise a bank account number to its digits; raise ValueError if anything else is left."""
    text = squeeze(raw)
    if not text.isascii() or not text.isdigit():
        raise ValueError("an account number may contain only digits, spaces and hyphens")
    return text


def normalize_name(raw: str) -> str:
    """Normalise a name: NFKC, no whitespace anywhere, one kind of middle dot (·)."""
    text = "".join(unicodedata.normalize("NFKC", raw).split())
    text = text.translate(_INVISIBLE_TABLE)
    if CJK.search(text):
        # 买买提.艾力 and 买买提•艾力 are the same person as 买买提·艾力.
        text = text.replace(".", "\u00b7")
    return text.translate(_NAME_DOT_TABLE)
