"""Bind the pure personal-data functions to this deployment's key and masking policy."""

from __future__ import annotations

from functools import cache

from django.conf import settings

from publicity import masking
from villages import identity


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
    return identity.hash_id_number(number18, **_key())


def hash_account(account: str) -> str:
    """Return the keyed hash of a bank account number."""
    return identity.hash_account(account, **_key())


def hash_name(name: str) -> str:
    """Return the keyed hash of a name (normalised first)."""
    return identity.hash_name(name, **_key())


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
