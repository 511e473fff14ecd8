"""Mask names, ID numbers, bank accounts and phones, and scrub them out of free text.

Everything here is a pure function: no Django, no settings. ``privacy.personal`` binds the
deployment's ``MaskingPolicy``.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, fields

from privacy.idnumbers import PROVINCE_CODES, check_id_number
from privacy.normalize import CJK, normalize_name, squeeze

__all__ = [
    "COMPOUND_SURNAMES",
    "DEFAULT_POLICY",
    "NAME_POLICIES",
    "MaskingPolicy",
    "account_keep",
    "contains_personal_number",
    "keep_ends",
    "mask_account",
    "mask_id_number",
    "mask_name",
    "mask_phone",
    "scrub_text",
]

NAME_POLICIES: frozenset[str] = frozenset({"keep_surname_and_last", "keep_surname", "keep_last"})

#: Two-character surnames, in simplified and (where different) traditional characters.
COMPOUND_SURNAMES: frozenset[str] = frozenset(
    {
        "欧阳",
        "司马",
        "诸葛",
        "上官",
        "东方",
        "皇甫",
        "尉迟",
        "公孙",
        "慕容",
        "长孙",
        "宇文",
        "司徒",
        "夏侯",
        "轩辕",
        "令狐",
        "钟离",
        "西门",
        "南宫",
        "独孤",
        "端木",
        "百里",
        "呼延",
        "澹台",
        "公冶",
        "太史",
        "申屠",
        "闻人",
        "东郭",
        "濮阳",
        "淳于",
        "单于",
        "赫连",
        "万俟",
        "司空",
        "第五",
        "拓跋",
        "完颜",
        "左丘",
        "公羊",
        "谷梁",
        "乐正",
        "漆雕",
        "壤驷",
        "公良",
        "宰父",
        "羊舌",
        "微生",
        "梁丘",
        "东门",
        "仲孙",
        "叔孙",
        "公西",
        "颛孙",
        "巫马",
        "段干",
        "亓官",
        "司寇",
        "子车",
        "夹谷",
        "公输",
        "南门",
        "鲜于",
        "闾丘",
        "达奚",
        "贺兰",
        "耶律",
        "呼衍",
        "歐陽",
        "司馬",
        "諸葛",
        "東方",
        "尉遲",
        "長孫",
        "軒轅",
        "鍾離",
        "西門",
        "獨孤",
        "聞人",
        "東郭",
        "單于",
        "萬俟",
        "夾谷",
        "閭丘",
        "賀蘭",
    }
)


@dataclass(frozen=True)
class MaskingPolicy:
    """How much of each kind of personal data stays visible.

    These defaults are the deployment's defaults too (``config.settings.base`` reads them). An
    ID number keeps its first 3 characters and its check character (341**************5):
    the 17th digit tells the sex and each sequence digit shown divides by ten the ID numbers
    consistent with a person, which must stay at least 1,000 (docs/privacy.md).
    """

    name: str = "keep_surname_and_last"
    id_keep_head: int = 3
    id_keep_tail: int = 1
    account_keep_head: int = 4
    account_keep_tail: int = 4
    phone_keep_head: int = 3
    phone_keep_tail: int = 4
    mask_char: str = "*"

    def __post_init__(self) -> None:
        """Reject values that would make masks meaningless."""
        if self.name not in NAME_POLICIES:
            raise ValueError(f"unknown name policy {self.name!r}")
        for field in fields(self):
            if field.name.endswith(("_head", "_tail")):
                value = getattr(self, field.name)
                if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                    raise ValueError(f"{field.name} must be a non-negative integer")
        char = self.mask_char
        if not isinstance(char, str) or len(char) != 1 or char.isalnum() or char.isspace():
            raise ValueError("mask_char must be one character that is not a letter or digit")

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> MaskingPolicy:
        """Build a policy from settings, ignoring unknown keys; raise ValueError on bad values."""
        known = {field.name for field in fields(cls)}
        return cls(**{key: value for key, value in data.items() if key in known})  # type: ignore[arg-type]


DEFAULT_POLICY = MaskingPolicy()

_DOT = "\u00b7"
_INVISIBLE = "\u200b\u200c\u200d\u2060\ufeff"
_DASH_CHARS = "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d"
_FOLD_DASHES = str.maketrans(dict.fromkeys(_DASH_CHARS, "-"))


def keep_ends(text: str, head: int, tail: int, char: str) -> str:
    """Keep HEAD and TAIL characters of TEXT and mask the rest; mask all if nothing is left over."""
    if head + tail >= len(text):
        return char * len(text)
    return text[:head] + char * (len(text) - head - tail) + text[len(text) - tail :]


def mask_name(name: str, policy: MaskingPolicy = DEFAULT_POLICY) -> str:
    """Mask a name by POLICY; compound surnames count as the surname."""
    char = policy.mask_char
    if not CJK.search(name):
        # Latin (or other) names: keep the first letter, keep word breaks.
        words = unicodedata.normalize("NFKC", name).split()
        text = " ".join(words)
        if len(text) <= 1:
            return char * len(text)
        return text[0] + "".join(c if c == " " else char for c in text[1:])
    text = normalize_name(name).strip(_DOT)
    if len(text) <= 1:
        return char * len(text)
    if _DOT in text:
        # Minority names (买买提·艾力) have no surname: keep one end, keep the dots.
        keep = len(text) - 1 if policy.name == "keep_last" else 0
        return "".join(c if c == _DOT or i == keep else char for i, c in enumerate(text))
    if policy.name == "keep_last":
        return char * (len(text) - 1) + text[-1]
    surname_len = 2 if len(text) > 2 and text[:2] in COMPOUND_SURNAMES else 1
    surname, given = text[:surname_len], text[surname_len:]
    if policy.name == "keep_surname" or len(given) == 1:
        return surname + char * len(given)
    return surname + char * (len(given) - 1) + given[-1]


def mask_id_number(number: str, policy: MaskingPolicy = DEFAULT_POLICY) -> str:
    """Mask an ID number, keeping its length: 341**************5."""
    text = squeeze(number).upper()
    return keep_ends(text, policy.id_keep_head, policy.id_keep_tail, policy.mask_char)


def mask_account(account: str, policy: MaskingPolicy = DEFAULT_POLICY) -> str:
    """Mask a bank account: first and last digits stay; short accounts keep at most the tail."""
    text = squeeze(account)
    head, tail = account_keep(len(text), policy)
    return keep_ends(text, head, tail, policy.mask_char)


def account_keep(length: int, policy: MaskingPolicy) -> tuple[int, int]:
    """Return how many leading and trailing digits of an account of LENGTH stay visible."""
    head, tail = policy.account_keep_head, policy.account_keep_tail
    if length > head + tail:
        return head, tail
    if length >= tail + 2:
        return 0, tail
    return 0, 0


_MOBILE = re.compile(r"(\+?86|0086)?(1[3-9][0-9]{9})")
# An area code in brackets or followed by a break: (0551)12345678, 0551-12345678.
_LANDLINE = re.compile(r"\((0[0-9]{2,3})\)-?([0-9]{7,8})|(0[0-9]{2,3})-([0-9]{7,8})")


def _area_code_length(digits: str) -> int:
    """Return the length of the area code that opens a landline number written without breaks."""
    return 3 if digits[1] in "12" else 4


def mask_phone(phone: str, policy: MaskingPolicy = DEFAULT_POLICY) -> str:
    """Mask a phone: mobiles 139****1234, landlines keep the area code and the last digits."""
    char = policy.mask_char
    text = " ".join(unicodedata.normalize("NFKC", phone).translate(_FOLD_DASHES).split())
    compact = text.replace(" ", "").replace("-", "")
    if match := _MOBILE.fullmatch(compact):
        prefix, mobile = match.group(1) or "", match.group(2)
        return prefix + keep_ends(mobile, policy.phone_keep_head, policy.phone_keep_tail, char)
    if match := _LANDLINE.fullmatch(re.sub(r"[- ]+", "-", text)):
        area, local = (group for group in match.groups() if group)
        return f"{area}-{keep_ends(local, 0, policy.phone_keep_tail, char)}"
    if re.fullmatch(r"0[0-9]{9,11}", compact):
        cut = _area_code_length(compact)
        if 7 <= len(compact) - cut <= 8:
            return f"{compact[:cut]}-{keep_ends(compact[cut:], 0, policy.phone_keep_tail, char)}"
    return keep_ends(compact, policy.phone_keep_head, policy.phone_keep_tail, char)


# --- Free text -------------------------------------------------------------------------------

_LINE_BREAKS = "\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029"
# Digits in groups joined by one or two spaces, a hyphen, a slash or a dot: 139 1234 5678,
# 0551-12345678, 341122/19540707/1009, 139.1234.5678.
_CHUNK = re.compile(r"[0-9]+(?:(?: {1,2}| ?[-/.] ?)[0-9]+)*")
_GROUP = re.compile(r"[0-9]+")
_PAREN_LANDLINE = re.compile(r"(?<![0-9])\(0[0-9]{2,3}\) ?([0-9]{7,8})(?![0-9])")
_MOBILE_BODY = re.compile(r"1[3-9][0-9]{9}")
_MAX_GROUPS = 6
_PHONE_GROUPINGS = ((11,), (3, 4, 4), (3, 8), (7, 4))


def _fold_char(ch: str) -> str:
    """Return the one ASCII character CH stands for in a number, or CH itself."""
    if ch.isascii():
        return " " if ch == "\t" else ch
    if ch.isdecimal():
        return str(unicodedata.decimal(ch))
    if "\uff01" <= ch <= "\uff5e":  # full-width ASCII forms
        return chr(ord(ch) - 0xFEE0)
    if ch in _DASH_CHARS:
        return "-"
    if ch in _INVISIBLE or (ch.isspace() and ch not in _LINE_BREAKS):
        return " "
    return ch


def _fold(text: str) -> str:
    """Return a copy of TEXT, character for character, with digits, dashes and spaces in ASCII."""
    return "".join(_fold_char(ch) for ch in text)


def _id_shaped(digits: str) -> bool:
    """Say whether DIGITS has an ID number's region and birth date (check digit ignored)."""
    return check_id_number(digits).code not in {
        "empty",
        "not_digits",
        "length",
        "region",
        "birth_date",
    }


def _classify(groups: list[str], policy: MaskingPolicy) -> tuple[int, int] | None:
    """Return (head, tail) digits to keep if the joined GROUPS are a personal number, else None.

    The last group may end with X (an ID check character).
    """
    digits = "".join(groups)
    n = len(digits)
    lengths = tuple(len(g) for g in groups)
    single = len(groups) == 1
    if digits.endswith("X"):
        if n == 18 and digits[:17].isdigit() and (single or check_id_number(digits).valid):
            return policy.id_keep_head, policy.id_keep_tail
        return None
    # Mobile, maybe after +86 / 0086 written together with it or as its own group.
    for prefix in ("", "86", "0086"):
        if not digits.startswith(prefix) or not _MOBILE_BODY.fullmatch(digits[len(prefix) :]):
            continue
        rest = lengths
        if prefix and not single:
            if lengths[0] != len(prefix):
                continue
            rest = lengths[1:]
        if single or rest in _PHONE_GROUPINGS:
            return len(prefix) + policy.phone_keep_head, policy.phone_keep_tail
    # Landline: 0551-12345678, or 055112345678 written together.
    if digits.startswith("0"):
        area_then_local = len(groups) == 2 and 7 <= lengths[1] <= 8
        if area_then_local and re.fullmatch(r"0[0-9]{2,3}", groups[0]):
            return lengths[0], policy.phone_keep_tail
        if single and 10 <= n <= 12:
            cut = _area_code_length(digits)
            if 7 <= n - cut <= 8:
                return cut, policy.phone_keep_tail
    # ID numbers: written together, only their shape is asked for; broken up, they must be valid.
    if n in (15, 18):
        if single and (n == 15 or _id_shaped(digits)):
            return policy.id_keep_head, policy.id_keep_tail
        if not single and check_id_number(digits).valid:
            return policy.id_keep_head, policy.id_keep_tail
        if lengths == (6, 8, 4) and _id_shaped(digits):  # region / birth date / sequence
            return policy.id_keep_head, policy.id_keep_tail
    # Bank accounts: 12 digits or more together (credit cooperatives' run from 12), or 12-19 in
    # groups of four; longer runs are masked too. Twelve digits opening with a province code
    # are an administrative division code (区划代码), which is public.
    if single and n >= 12 and not (n == 12 and digits[:2] in PROVINCE_CODES):
        return account_keep(n, policy)
    if 12 <= n <= 19 and all(k == 4 for k in lengths[:-1]) and 1 <= lengths[-1] <= 4:
        return account_keep(n, policy)
    return None


def _match_at(
    folded: str, spans: list[tuple[int, int]], i: int, policy: MaskingPolicy
) -> tuple[int, list[int], int, int] | None:
    """Return (last group, positions, head, tail) of the longest number that starts at group I."""
    for j in range(min(len(spans), i + _MAX_GROUPS) - 1, i - 1, -1):
        groups = [folded[s:e] for s, e in spans[i : j + 1]]
        positions = [pos for s, e in spans[i : j + 1] for pos in range(s, e)]
        end = spans[j][1]
        candidates = []
        if end < len(folded) and folded[end] in "Xx":  # an ID check character, tried first
            candidates.append(([*groups[:-1], groups[-1] + "X"], [*positions, end]))
        candidates.append((groups, positions))
        for candidate, candidate_positions in candidates:
            keep = _classify(candidate, policy)
            if keep is not None:
                return j, candidate_positions, keep[0], keep[1]
    return None


def _find(folded: str, policy: MaskingPolicy) -> list[tuple[list[int], int, int]]:
    """Return (digit positions, head, tail) for every personal number in FOLDED text."""
    found: list[tuple[list[int], int, int]] = []
    for match in _PAREN_LANDLINE.finditer(folded):
        found.append((list(range(match.start(1), match.end(1))), 0, policy.phone_keep_tail))
    taken = {pos for positions, _, _ in found for pos in positions}
    for chunk in _CHUNK.finditer(folded):
        if chunk.start() in taken:
            continue
        spans = [(g.start(), g.end()) for g in _GROUP.finditer(folded, chunk.start(), chunk.end())]
        i = 0
        while i < len(spans):
            hit = _match_at(folded, spans, i, policy)
            if hit is None:
                i += 1
                continue
            j, positions, head, tail = hit
            found.append((positions, head, tail))
            i = j + 1
    return found


def scrub_text(text: str, policy: MaskingPolicy = DEFAULT_POLICY) -> str:
    """Mask every ID-, phone- and account-like number in TEXT; leave everything else as it was.

    Digits are found in an NFKC-like folded copy (full-width digits count), so text glued to
    Chinese characters is caught; the masks are written into the original text, which keeps
    its length.
    """
    if not text:
        return text
    chars = list(text)
    for positions, head, tail in _find(_fold(text), policy):
        for index, pos in enumerate(positions):
            if head <= index < len(positions) - tail or head + tail >= len(positions):
                chars[pos] = policy.mask_char
    return "".join(chars)


def contains_personal_number(text: str) -> bool:
    """Say whether TEXT holds an ID-, phone- or account-like number that scrub_text would mask."""
    return bool(text) and bool(_find(_fold(text), DEFAULT_POLICY))
