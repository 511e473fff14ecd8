"""Bind the pure personal-data functions to this deployment's key and masking policy."""

from __future__ import annotations

import logging
import sys
import traceback
from functools import cache
from pathlib import Path

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


def log_failure(logger: logging.Logger, message: str, *args: object) -> None:
    """Log the exception being handled by its type and where it was raised, not its text.

    An exception's text may quote a roster's cell (``int('3411…')``, a reader's message), so
    the traceback ``logger.exception`` would write could carry a raw ID number or name.
    """
    error = sys.exc_info()[1]
    frames = traceback.extract_tb(error.__traceback__) if error is not None else []
    where = " < ".join(f"{Path(f.filename).name}:{f.lineno} {f.name}" for f in reversed(frames))
    logger.error(f"{message} (%s at %s)", *args, type(error).__name__, where or "?")
