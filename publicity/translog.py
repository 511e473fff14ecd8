"""The transparency log's pure core: RFC 9162 Merkle trees, C2SP signed notes and checkpoints.

No Django here: the standard library and `cryptography` (Ed25519) only, so an auditor can read
it beside RFC 9162 §2.1 and https://c2sp.org/signed-note. `cryptography` is imported where a
key is made, so the tree code works without it.

Hashes are raw 32-byte SHA-256 digests; a leaf hash is SHA-256(0x00 || data), a node hash
SHA-256(0x01 || left || right), the empty tree's root SHA-256("").
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()
SIG_PREFIX = "— "  # an em dash (U+2014) and a space
ED25519 = 0x01
MAX_SIGNATURES = 100


class ProofError(ValueError):
    """An inclusion or consistency proof that does not verify."""


class NoteError(ValueError):
    """A signed note or key that is malformed, unknown or wrongly signed."""


# --- Merkle tree (RFC 9162 §2.1) --------------------------------------------------------------


def leaf_hash(data: bytes) -> bytes:
    """Return the hash of a leaf holding DATA."""
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """Return the hash of an inner node over LEFT and RIGHT."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """Return the largest power of two smaller than N (N > 1)."""
    return 1 << ((n - 1).bit_length() - 1)


def root(leaf_hashes: Sequence[bytes]) -> bytes:
    """Return the Merkle tree hash (MTH) over LEAF_HASHES."""
    if not leaf_hashes:
        return EMPTY_ROOT
    level = list(leaf_hashes)
    while len(level) > 1:
        # Pairing left to right and carrying an odd last node up gives the RFC's MTH.
        paired = [node_hash(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            paired.append(level[-1])
        level = paired
    return level[0]


def extend_frontier(
    frontier: Sequence[bytes], size: int, leaf_hashes: Iterable[bytes]
) -> list[bytes]:
    """Return the frontier of the tree of SIZE leaves with FRONTIER once LEAF_HASHES are appended.

    The frontier holds the roots of the tree's perfect subtrees, largest (leftmost) first: one
    per set bit of the size, so at most 64 hashes however many leaves came before. Appending
    needs the frontier only, not the leaves.
    """
    stack = list(frontier)
    for node in leaf_hashes:
        carry = size
        while carry & 1:
            node = node_hash(stack.pop(), node)
            carry >>= 1
        stack.append(node)
        size += 1
    return stack


def frontier_root(frontier: Sequence[bytes]) -> bytes:
    """Return the Merkle tree hash of the tree whose frontier is FRONTIER."""
    if not frontier:
        return EMPTY_ROOT
    node = frontier[-1]
    for left in reversed(frontier[:-1]):
        node = node_hash(left, node)
    return node


def inclusion_proof(index: int, leaf_hashes: Sequence[bytes]) -> list[bytes]:
    """Return the audit path PATH(index, D[n]) for the leaf at INDEX (RFC 9162 §2.1.3.1)."""
    if not 0 <= index < len(leaf_hashes):
        raise ValueError(f"index {index} outside a tree of size {len(leaf_hashes)}")
    proof: list[bytes] = []
    lo, hi = 0, len(leaf_hashes)
    while hi - lo > 1:
        k = _split(hi - lo)
        if index < lo + k:
            proof.append(root(leaf_hashes[lo + k : hi]))
            hi = lo + k
        else:
            proof.append(root(leaf_hashes[lo : lo + k]))
            lo += k
    proof.reverse()
    return proof


def consistency_proof(size1: int, leaf_hashes: Sequence[bytes]) -> list[bytes]:
    """Return PROOF(size1, D[n]) for the tree over LEAF_HASHES (RFC 9162 §2.1.4.1)."""
    if not 0 < size1 <= len(leaf_hashes):
        raise ValueError(f"size1 {size1} outside 1..{len(leaf_hashes)}")
    proof: list[bytes] = []
    lo, hi, m, whole = 0, len(leaf_hashes), size1, True
    while m != hi - lo:
        k = _split(hi - lo)
        if m <= k:
            proof.append(root(leaf_hashes[lo + k : hi]))
            hi = lo + k
        else:
            proof.append(root(leaf_hashes[lo : lo + k]))
            lo, m, whole = lo + k, m - k, False
    if not whole:
        proof.append(root(leaf_hashes[lo:hi]))
    proof.reverse()
    return proof


def _check_hashes(*hashes: Any) -> None:
    """Raise ProofError unless every one of HASHES is a 32-byte string."""
    for value in hashes:
        if not isinstance(value, bytes) or len(value) != HASH_SIZE:
            raise ProofError("a hash is not 32 bytes")


def _check_size(*sizes: Any) -> None:
    """Raise ProofError unless every one of SIZES is a non-negative int."""
    for value in sizes:
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise ProofError(f"not a tree size or index: {value!r}")


def verify_inclusion(
    index: int, size: int, leaf_hash: bytes, proof: Sequence[bytes], root: bytes
) -> None:
    """Raise ProofError unless PROOF shows LEAF_HASH at INDEX in the tree SIZE, ROOT (§2.1.3.2)."""
    _check_size(index, size)
    _check_hashes(leaf_hash, root, *proof)
    if index >= size:
        raise ProofError(f"index {index} >= tree size {size}")
    fn, sn, r = index, size - 1, leaf_hash
    for p in proof:
        if sn == 0:
            raise ProofError("proof too long")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise ProofError("proof too short")
    if r != root:
        raise ProofError("root mismatch")


def verify_consistency(
    size1: int, size2: int, root1: bytes, root2: bytes, proof: Sequence[bytes]
) -> None:
    """Raise ProofError unless PROOF shows tree SIZE1, ROOT1 is a prefix of SIZE2, ROOT2."""
    _check_size(size1, size2)
    if size1 > size2:
        raise ProofError(f"size1 {size1} > size2 {size2}")
    if size1 == size2:
        # Nothing to prove but equality (the reference vectors accept any equal roots here).
        if proof:
            raise ProofError("equal sizes need an empty proof")
        if root1 != root2 or (size1 == 0 and root1 != EMPTY_ROOT):
            raise ProofError("root mismatch")
        return
    if size1 == 0:
        raise ProofError("every tree extends the empty tree: nothing to verify")
    _check_hashes(root1, root2, *proof)
    if not proof:
        raise ProofError("empty proof")
    _chain_consistency(size1, size2, root1, root2, proof)


def _chain_consistency(
    size1: int, size2: int, root1: bytes, root2: bytes, proof: Sequence[bytes]
) -> None:
    """Run RFC 9162 §2.1.4.2 steps 2-7 for 0 < SIZE1 < SIZE2."""
    path = list(proof)
    if size1 & (size1 - 1) == 0:
        path.insert(0, root1)
    fn, sn = size1 - 1, size2 - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise ProofError("proof too long")
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            while not fn & 1 and fn:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise ProofError("proof too short")
    if fr != root1 or sr != root2:
        raise ProofError("root mismatch")


# --- Signed notes (https://c2sp.org/signed-note) ----------------------------------------------


def _valid_name(name: str) -> bool:
    """Return whether NAME may name a key: non-empty, no spaces, no plus sign."""
    return bool(name) and "+" not in name and not any(ch.isspace() for ch in name)


def _valid_text(text: str) -> bool:
    """Return whether TEXT has no control character but newline and no lone surrogate."""
    return all((ch >= " " or ch == "\n") and not "\ud800" <= ch <= "\udfff" for ch in text)


def key_id(name: str, public_key: bytes) -> bytes:
    """Return the 4-byte id of the Ed25519 PUBLIC_KEY named NAME."""
    return hashlib.sha256(name.encode() + b"\n" + bytes([ED25519]) + public_key).digest()[:4]


def _b64decode(text: str) -> bytes:
    """Return the standard (padded) base64 TEXT decoded, or raise NoteError."""
    try:
        return base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError) as error:
        raise NoteError("bad base64") from error


def _parse_key(text: str, prefix: str) -> tuple[str, bytes, bytes]:
    """Return the name, the 4-byte id and the 32-byte key of a key string after PREFIX."""
    if not text.startswith(prefix):
        raise NoteError("malformed key")
    parts = text[len(prefix) :].split("+", 2)
    if len(parts) != 3 or not _valid_name(parts[0]) or len(parts[1]) != 8:
        raise NoteError("malformed key")
    name, id_hex, data = parts
    try:
        kid = bytes.fromhex(id_hex)
    except ValueError as error:
        raise NoteError("malformed key id") from error
    raw = _b64decode(data)
    if len(raw) != 33 or raw[0] != ED25519:
        raise NoteError("not an Ed25519 key")
    return name, kid, raw[1:]


@dataclass(frozen=True)
class Verifier:
    """A named Ed25519 public key that checks note signatures."""

    name: str
    key_id: bytes
    public_key: bytes

    @classmethod
    def from_key(cls, text: str) -> Verifier:
        """Return the verifier of a '<name>+<id hex>+<base64(0x01||pubkey)>' key."""
        name, kid, public_key = _parse_key(text, "")
        if key_id(name, public_key) != kid:
            raise NoteError("key id does not match the key")
        return cls(name, kid, public_key)

    def verify(self, message: bytes, signature: bytes) -> bool:
        """Return whether SIGNATURE is this key's Ed25519 signature of MESSAGE."""
        from cryptography.exceptions import InvalidSignature
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

        try:
            Ed25519PublicKey.from_public_bytes(self.public_key).verify(signature, message)
        except InvalidSignature:
            return False
        return True

    def key(self) -> str:
        """Return this verifier as its key string."""
        data = base64.b64encode(bytes([ED25519]) + self.public_key).decode()
        return f"{self.name}+{self.key_id.hex()}+{data}"


@dataclass(frozen=True)
class Signer:
    """A named Ed25519 private key that signs notes."""

    name: str
    key_id: bytes
    seed: bytes

    @classmethod
    def from_key(cls, text: str) -> Signer:
        """Return the signer of a 'PRIVATE+KEY+<name>+<id hex>+<base64(0x01||seed)>' key."""
        name, kid, seed = _parse_key(text, "PRIVATE+KEY+")
        signer = cls(name, kid, seed)
        if key_id(name, signer.public_key()) != kid:
            raise NoteError("key id does not match the key")
        return signer

    @classmethod
    def generate(cls, name: str) -> Signer:
        """Return a new signer named NAME with a random Ed25519 key."""
        if not _valid_name(name):
            raise NoteError("a key name is non-empty, without spaces or plus signs")
        seed = os.urandom(32)
        public_key = cls(name, b"", seed).public_key()
        return cls(name, key_id(name, public_key), seed)

    def key(self) -> str:
        """Return this signer as its private key string (keep it secret)."""
        data = base64.b64encode(bytes([ED25519]) + self.seed).decode()
        return f"PRIVATE+KEY+{self.name}+{self.key_id.hex()}+{data}"

    def _private(self) -> Any:
        """Return the cryptography Ed25519 private key of this signer."""
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

        return Ed25519PrivateKey.from_private_bytes(self.seed)

    def public_key(self) -> bytes:
        """Return the raw 32-byte public key."""
        from cryptography.hazmat.primitives import serialization

        encoding = serialization.Encoding.Raw
        return self._private().public_key().public_bytes(encoding, serialization.PublicFormat.Raw)

    def sign(self, message: bytes) -> bytes:
        """Return the Ed25519 signature of MESSAGE."""
        return self._private().sign(message)

    def verifier(self) -> Verifier:
        """Return the verifier of this signer's public key."""
        return Verifier(self.name, self.key_id, self.public_key())


def sign(text: str, signers: Sequence[Signer]) -> str:
    """Return TEXT followed by a blank line and one signature line per signer."""
    if not text.endswith("\n") or not _valid_text(text):
        raise NoteError("the text must end in a newline and hold no control characters")
    if not signers:
        raise NoteError("no signer")
    lines = []
    for signer in signers:
        signature = base64.b64encode(signer.key_id + signer.sign(text.encode())).decode()
        lines.append(f"{SIG_PREFIX}{signer.name} {signature}\n")
    return text + "\n" + "".join(lines)


def _signature_lines(note: str) -> tuple[str, list[tuple[str, bytes, bytes]]]:
    """Return the text of NOTE and its (name, key id, signature) lines, or raise NoteError."""
    if not _valid_text(note):
        raise NoteError("malformed note")
    split = note.rfind("\n\n")
    block = note[split + 2 :]
    if split < 0 or not block.endswith("\n"):
        raise NoteError("malformed note: no signature block")
    found = []
    for line in block[:-1].split("\n"):
        if not line.startswith(SIG_PREFIX):
            raise NoteError("malformed signature line")
        name, _, data = line[len(SIG_PREFIX) :].partition(" ")
        raw = _b64decode(data)
        if not _valid_name(name) or not data or len(raw) < 5:
            raise NoteError("malformed signature line")
        found.append((name, raw[:4], raw[4:]))
    if len(found) > MAX_SIGNATURES:
        raise NoteError("too many signatures")
    return note[: split + 1], found


def open_note(note: str, verifiers: Sequence[Verifier]) -> str:
    """Return the text of NOTE once a known key's signature on it verifies."""
    text, signatures = _signature_lines(note)
    known = {(v.name, v.key_id): v for v in verifiers}
    verified = 0
    for name, kid, signature in signatures:
        verifier = known.get((name, kid))
        if verifier is None:
            continue  # C2SP: signatures by unknown keys are ignored
        if not verifier.verify(text.encode(), signature):
            raise NoteError(f"bad signature by {name}")
        verified += 1
    if not verified:
        raise NoteError("no signature by a known key")
    return text


# --- Checkpoints (https://c2sp.org/tlog-checkpoint) -------------------------------------------


def checkpoint_text(origin: str, size: int, root: bytes) -> str:
    """Return the checkpoint body: origin, tree size and base64 root, one a line."""
    if not origin or "\n" in origin or not _valid_text(origin):
        raise ValueError("the origin must be one non-empty line")
    _check_size(size)
    _check_hashes(root)
    return f"{origin}\n{size}\n{base64.b64encode(root).decode()}\n"


def parse_checkpoint(text: str) -> tuple[str, int, bytes]:
    """Return the origin, size and root of a checkpoint body (extension lines ignored)."""
    lines = text.split("\n")
    if len(lines) < 4 or lines[-1] or not lines[0]:
        raise NoteError("malformed checkpoint")
    origin, size, root_b64 = lines[:3]
    if not size.isascii() or not size.isdigit() or (size != "0" and size.startswith("0")):
        raise NoteError("malformed checkpoint size")
    root = _b64decode(root_b64)
    if len(root) != HASH_SIZE:
        raise NoteError("malformed checkpoint root")
    return origin, int(size), root
