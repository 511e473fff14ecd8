"""Keyed hashes (HMAC-SHA256) of ID numbers, bank accounts and names, with a key version.

Pure functions: the key and its version come in as arguments; ``privacy.personal`` binds them
to the deployment's settings. A stored hash reads ``v{version}:{hex}`` so keys can be rotated.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable

from privacy.idnumbers import check_id_number
from privacy.normalize import normalize_account, normalize_name

__all__ = ["hash_account", "hash_id_number", "hash_name", "keyed_hash", "keyed_hmac"]


def keyed_hash(value: str, *, key: bytes, version: int) -> str:
    """Return f"v{version}:{HMAC-SHA256 hex}" of VALUE under KEY."""
    if not isinstance(key, bytes) or not key:
        raise ValueError("the hash key must be non-empty bytes")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise ValueError("the key version must be a positive integer")
    message = f"v{version}\x1f{value}".encode()
    return f"v{version}:{hmac.new(key, message, hashlib.sha256).hexdigest()}"


def hash_id_number(number18: str, *, key: bytes, version: int) -> str:
    """Return the keyed hash of a valid ID number (15-digit numbers hash as their 18-digit form)."""
    check = check_id_number(number18)
    if not check.valid:
        # Name only the code: the number itself must not end up in logs.
        raise ValueError(f"cannot hash an invalid ID number ({check.code})")
    return keyed_hash(f"id:{check.number}", key=key, version=version)


def hash_account(raw: str, *, key: bytes, version: int) -> str:
    """Return the keyed hash of a bank account number, normalised to its digits."""
    account = normalize_account(raw)
    if not account:
        raise ValueError("cannot hash an empty account number")
    return keyed_hash(f"acct:{account}", key=key, version=version)


def hash_name(name: str, *, key: bytes, version: int) -> str:
    """Return the keyed hash of a name, normalised first."""
    normalised = normalize_name(name)
    if not normalised:
        raise ValueError("cannot hash an empty name")
    return keyed_hash(f"name:{normalised}", key=key, version=version)


def keyed_hmac(key: bytes) -> Callable[[bytes], str]:
    """Return a function giving the HMAC-SHA256 hex digest of a message under KEY.

    The key's inner and outer pads are hashed once, and each message costs two copies of
    those states: with CPython's own SHA-256 that is ~1 µs, where OpenSSL 3 looks up its
    digest on every call (hmac.digest ~3–5 µs). RFC 2104, so the digest is hmac's exactly.
    """
    try:
        from _sha256 import sha256 as sha  # CPython 3.11
    except ImportError:  # pragma: no cover - 3.12+ moved it; builds may leave it out
        try:
            from _sha2 import sha256 as sha  # type: ignore[no-redef]
        except ImportError:
            return lambda message: hmac.digest(key, message, "sha256").hex()
    if len(key) > 64:  # SHA-256's block size: longer keys are hashed first
        key = hashlib.sha256(key).digest()
    key = key.ljust(64, b"\0")
    inner, outer = sha(key.translate(hmac.trans_36)), sha(key.translate(hmac.trans_5C))
    inner_copy, outer_copy = inner.copy, outer.copy

    def digest(message: bytes) -> str:
        state = inner_copy()
        state.update(message)
        final = outer_copy()
        final.update(state.digest())
        return final.hexdigest()

    return digest
