"""Bind the pure personal-data functions to this deployment's key and masking policy.

The one module that reads the personal-data settings (``SUNLIGHT_HASH_KEY``,
``SUNLIGHT_HASH_KEY_VERSION``, ``SUNLIGHT_MASKING``): everything else masks, hashes and scrubs
through it, so a deployment's policy holds everywhere. ``Shortcuts`` gives the same results
at bulk speed for the import pipeline.
"""

from __future__ import annotations

import re
from functools import cache

from django.conf import settings

from privacy import hashing, masking
from privacy.normalize import normalize_name


@cache
def masking_policy() -> masking.MaskingPolicy:
    """Return the masking policy chosen in settings."""
    return masking.MaskingPolicy.from_dict(settings.SUNLIGHT_MASKING)


def key_version() -> int:
    """Return the version of the key the hashes are made with."""
    return settings.SUNLIGHT_HASH_KEY_VERSION


def _key() -> dict:
    return {"key": settings.SUNLIGHT_HASH_KEY, "version": settings.SUNLIGHT_HASH_KEY_VERSION}


def hash_id_number(number18: str) -> str:
    """Return the keyed hash of a validated, normalised ID number."""
    return hashing.hash_id_number(number18, **_key())


def hash_account(account: str) -> str:
    """Return the keyed hash of a bank account number."""
    return hashing.hash_account(account, **_key())


def hash_name(name: str) -> str:
    """Return the keyed hash of a name (normalised first)."""
    return hashing.hash_name(name, **_key())


def mask_name(name: str) -> str:
    """Mask a name by the deployment's policy."""
    return masking.mask_name(name, masking_policy())


def mask_id_number(number: str) -> str:
    """Mask an ID number by the deployment's policy."""
    return masking.mask_id_number(number, masking_policy())


def mask_account(account: str) -> str:
    """Mask a bank account number by the deployment's policy."""
    return masking.mask_account(account, masking_policy())


def mask_phone(phone: str) -> str:
    """Mask a phone number by the deployment's policy."""
    return masking.mask_phone(phone, masking_policy())


def scrub_text(text: str) -> str:
    """Mask every ID-, phone- and account-like number inside free text."""
    return masking.scrub_text(text, masking_policy())


_CJK_RUNS = re.compile(r"[\u4e00-\u9fff]{2,}")


def mask_known_names(text: str, names: set[str] | frozenset[str]) -> str:
    """Mask in TEXT every one of NAMES (full names, 2-4 characters) it holds.

    Free text written by an office names people ("代领人张三"): a roster's own names are known
    when it is read, so they are masked wherever they stand.
    """
    found = {
        run[i : i + size]
        for run in _CJK_RUNS.findall(text)
        for size in (4, 3, 2)
        for i in range(len(run) - size + 1)
        if run[i : i + size] in names
    }
    for name in sorted(found, key=len, reverse=True):
        text = text.replace(name, mask_name(name))
    return text


def name_candidates(text: str) -> set[str]:
    """Return every 2–4 character run of Chinese characters in TEXT: the names it may hold."""
    return {
        run[i : i + size]
        for run in _CJK_RUNS.findall(text)
        for size in (4, 3, 2)
        for i in range(len(run) - size + 1)
    }


_ID18 = re.compile(r"[1-9][0-9]{16}[0-9X]")
_PLAIN_CJK_NAME = re.compile(r"[\u4e00-\u9fff]{2,6}")
_PLAIN_CJK_NAME_ANY = re.compile(r"[\u4e00-\u9fff]+")


class Shortcuts:
    """Keyed hashes and masks of values the parser has already normalised, at ~1 µs each.

    Each method returns exactly what the matching function of this module returns (a test
    compares them on thousands of values); they skip the normalising and re-validating those
    functions repeat, and fall back to them for anything unusual.
    """

    def __init__(self) -> None:
        version = key_version()
        self.prefix = f"v{version}:"
        self.message_prefix = f"v{version}\x1f"
        self.key = settings.SUNLIGHT_HASH_KEY
        self.policy = masking_policy()
        self.char = self.policy.mask_char
        self.hmac = hashing.keyed_hmac(self.key)

    def keyed(self, value: str) -> str:
        return self.prefix + self.hmac((self.message_prefix + value).encode())

    def keyed_id(self, number18: str) -> str:
        """The keyed hash of an 18-character number already known to be well formed."""
        return self.keyed("id:" + number18)

    def keep_id(self, number18: str) -> str:
        """The mask of an 18-character number already known to be well formed."""
        p = self.policy
        return masking.keep_ends(number18, p.id_keep_head, p.id_keep_tail, self.char)

    def hash_id(self, number18: str) -> str:
        if _ID18.fullmatch(number18):
            return self.keyed_id(number18)
        return hash_id_number(number18)

    def normalize_name(self, name: str) -> str:
        # Plain CJK ideographs (U+4E00–U+9FFF) are their own NFKC form, with no space, dot or
        # invisible character to remove: the parser's names are mostly that already.
        if _PLAIN_CJK_NAME_ANY.fullmatch(name):
            return name
        return normalize_name(name)

    def hash_name(self, name: str) -> str:
        normalised = self.normalize_name(name)
        return self.keyed("name:" + normalised) if normalised else ""

    def hash_account(self, account: str) -> str:
        if account.isascii() and account.isdigit():
            return self.keyed("acct:" + account)
        return hash_account(account)

    def mask_id(self, number18: str) -> str:
        if _ID18.fullmatch(number18):
            return self.keep_id(number18)
        return mask_id_number(number18)

    def mask_account(self, account: str) -> str:
        if account.isascii() and account.isdigit():
            head, tail = masking.account_keep(len(account), self.policy)
            return masking.keep_ends(account, head, tail, self.char)
        return mask_account(account)

    def mask_name(self, name: str) -> str:
        text = self.normalize_name(name)
        if self.policy.name == "keep_surname_and_last" and _PLAIN_CJK_NAME.fullmatch(text):
            surname = 2 if len(text) > 2 and text[:2] in masking.COMPOUND_SURNAMES else 1
            given = len(text) - surname
            if given == 1:
                return text[:surname] + self.char
            return text[:surname] + self.char * (given - 1) + text[-1]
        return mask_name(name)
