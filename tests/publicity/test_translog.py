"""The transparency log's core passes the RFC 9162 and C2SP signed-note reference vectors."""

from __future__ import annotations

import base64
import hashlib
import importlib.util
import json
import os
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from publicity.translog import (
    EMPTY_ROOT,
    NoteError,
    ProofError,
    Signer,
    Verifier,
    checkpoint_text,
    consistency_proof,
    extend_frontier,
    frontier_root,
    inclusion_proof,
    key_id,
    leaf_hash,
    node_hash,
    open_note,
    parse_checkpoint,
    root,
    sign,
    verify_consistency,
    verify_inclusion,
)

# The vectors of ../shared/reference/ are copied into tests/fixtures/ so the suite never
# depends on a folder outside the repository; a test below keeps the copy faithful.
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
SHARED = (
    Path(os.environ.get("SUNLIGHT_SHARED_DIR", Path(__file__).resolve().parents[3] / "shared"))
    / "reference"
)
MERKLE = FIXTURES / "merkle"
TREE = json.loads((MERKLE / "tree.json").read_text(encoding="utf-8"))
NOTES = json.loads((FIXTURES / "signed-note" / "vectors.json").read_text(encoding="utf-8"))
LEAVES = [leaf_hash(bytes.fromhex(data)) for data in TREE["leaf_inputs_hex"]]

needs_cryptography = pytest.mark.skipif(
    importlib.util.find_spec("cryptography") is None, reason="cryptography is not installed"
)


def _b64(text: str) -> bytes:
    return base64.b64decode(text)


def _vectors(kind: str) -> list:
    """Return one pytest param per vector file under merkle/KIND, named by its path."""
    paths = sorted((MERKLE / kind).rglob("*.json"))
    return [
        pytest.param(json.loads(p.read_text(encoding="utf-8")), id=str(p.relative_to(MERKLE)))
        for p in paths
    ]


INCLUSION = _vectors("inclusion")
CONSISTENCY = _vectors("consistency")


def _files(folder: Path) -> dict[Path, bytes]:
    """Return every file under FOLDER by its relative path, with its bytes."""
    return {p.relative_to(folder): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


# --- The copies stay faithful ----------------------------------------------------------------


@pytest.mark.skipif(not SHARED.is_dir(), reason="no ../shared checkout beside")
@pytest.mark.parametrize(("copy", "shared"), [("merkle", "merkle"), ("signed-note", "signed-note")])
def test_vector_copies_match_the_shared_reference(copy, shared):
    assert _files(FIXTURES / copy) == _files(SHARED / shared)


def test_the_vector_sets_are_not_empty():
    assert len(INCLUSION) > 50
    assert len(CONSISTENCY) > 50
    assert NOTES["vectors"]
    assert NOTES["must_reject"]


# --- Hashing and roots -----------------------------------------------------------------------


def test_every_leaf_hash_of_tree_json_is_reproduced():
    assert [h.hex() for h in LEAVES] == TREE["leaf_hashes_hex"]


@pytest.mark.parametrize("size", range(9))
def test_every_root_of_tree_json_is_reproduced(size):
    assert root(LEAVES[:size]).hex() == TREE["root_hashes_hex_by_size"][size]


def test_the_empty_tree_and_node_hash():
    assert root([]) == EMPTY_ROOT == hashlib.sha256(b"").digest()
    assert node_hash(b"a", b"b") == hashlib.sha256(b"\x01ab").digest()
    assert leaf_hash(b"") == hashlib.sha256(b"\x00").digest()


# --- Reference proofs ------------------------------------------------------------------------


@pytest.mark.parametrize("v", INCLUSION)
def test_inclusion_vector(v):
    args = (v["leafIdx"], v["treeSize"], _b64(v["leafHash"]), [_b64(p) for p in v["proof"] or []])
    if v["wantErr"]:
        with pytest.raises(ProofError):
            verify_inclusion(*args, _b64(v["root"]))
    else:
        verify_inclusion(*args, _b64(v["root"]))


@pytest.mark.parametrize("v", CONSISTENCY)
def test_consistency_vector(v):
    args = (v["size1"], v["size2"], _b64(v["root1"]), _b64(v["root2"]))
    proof = [_b64(p) for p in v["proof"] or []]
    if v["wantErr"]:
        with pytest.raises(ProofError):
            verify_consistency(*args, proof)
    else:
        verify_consistency(*args, proof)


def test_happy_reference_proofs_are_the_ones_we_generate():
    """Every happy vector over the tree.json leaves is exactly the proof we would produce."""
    checked = 0
    for param in INCLUSION:
        v = param.values[0]
        if not v["wantErr"] and v["treeSize"] <= len(LEAVES):
            leaves = LEAVES[: v["treeSize"]]
            if _b64(v["root"]) == root(leaves):
                proof = inclusion_proof(v["leafIdx"], leaves)
                assert [base64.b64encode(p).decode() for p in proof] == (v["proof"] or [])
                checked += 1
    for param in CONSISTENCY:
        v = param.values[0]
        if not v["wantErr"] and 0 < v["size1"] < v["size2"] <= len(LEAVES):
            proof = consistency_proof(v["size1"], LEAVES[: v["size2"]])
            assert [base64.b64encode(p).decode() for p in proof] == v["proof"]
            checked += 1
    assert checked >= 5


# --- Our own proofs --------------------------------------------------------------------------

SIXTY_FOUR = [leaf_hash(i.to_bytes(2, "big")) for i in range(64)]


@pytest.mark.parametrize("size", range(1, 65))
def test_every_inclusion_proof_up_to_64_verifies(size):
    leaves = SIXTY_FOUR[:size]
    tree_root = root(leaves)
    for index in range(size):
        proof = inclusion_proof(index, leaves)
        verify_inclusion(index, size, leaves[index], proof, tree_root)
        with pytest.raises(ProofError):
            verify_inclusion(index, size, leaf_hash(b"forged"), proof, tree_root)
        if proof:
            with pytest.raises(ProofError):
                verify_inclusion(index, size, leaves[index], proof[:-1], tree_root)
        with pytest.raises(ProofError):
            verify_inclusion(index, size, leaves[index], [*proof, tree_root], tree_root)
        with pytest.raises(ProofError):
            verify_inclusion(index, size, leaves[index], proof, root([*leaves, leaf_hash(b"more")]))


@pytest.mark.parametrize("size2", range(1, 65))
def test_every_consistency_proof_up_to_64_verifies(size2):
    leaves = SIXTY_FOUR[:size2]
    root2 = root(leaves)
    for size1 in range(1, size2 + 1):
        root1 = root(leaves[:size1])
        proof = consistency_proof(size1, leaves)
        verify_consistency(size1, size2, root1, root2, proof)
        with pytest.raises(ProofError):
            verify_consistency(size1, size2, root1, root(SIXTY_FOUR[: size2 - 1]), proof)
        if size1 < size2:
            with pytest.raises(ProofError):
                verify_consistency(size1, size2, leaf_hash(b"forged"), root2, proof)
            with pytest.raises(ProofError):
                verify_consistency(size1, size2, root1, root2, proof[:-1])
            with pytest.raises(ProofError):
                verify_consistency(size1, size2, root1, root2, [*proof, root2])


def test_a_leaf_appended_behind_the_log_breaks_consistency():
    published = SIXTY_FOUR[:10]
    tampered = [*SIXTY_FOUR[:5], leaf_hash(b"inserted"), *SIXTY_FOUR[5:12]]
    with pytest.raises(ProofError):
        verify_consistency(10, 13, root(published), root(tampered), consistency_proof(10, tampered))


def test_wrong_lengths_and_types_are_refused():
    leaves = SIXTY_FOUR[:5]
    proof = inclusion_proof(2, leaves)
    for bad in ([p[:31] for p in proof], [*proof[:-1], proof[-1] + b"\x00"]):
        with pytest.raises(ProofError):
            verify_inclusion(2, 5, leaves[2], bad, root(leaves))
    for index, size in ((-1, 5), (True, 5), (2, 2), (0, 0)):
        with pytest.raises(ProofError):
            verify_inclusion(index, size, leaves[2], proof, root(leaves))
    with pytest.raises(ProofError):
        verify_consistency(3, 5, root(leaves[:3])[:16], root(leaves), consistency_proof(3, leaves))
    with pytest.raises(ValueError):
        inclusion_proof(5, leaves)
    with pytest.raises(ValueError):
        consistency_proof(0, leaves)


@given(st.lists(st.binary(max_size=8), min_size=1, max_size=200), st.data())
def test_random_trees_prove_inclusion(data, draw):
    leaves = [leaf_hash(d) for d in data]
    index = draw.draw(st.integers(0, len(leaves) - 1))
    verify_inclusion(
        index, len(leaves), leaves[index], inclusion_proof(index, leaves), root(leaves)
    )


@given(st.lists(st.binary(max_size=8), min_size=1, max_size=200), st.data())
def test_random_trees_prove_consistency(data, draw):
    leaves = [leaf_hash(d) for d in data]
    size1 = draw.draw(st.integers(1, len(leaves)))
    proof = consistency_proof(size1, leaves)
    verify_consistency(size1, len(leaves), root(leaves[:size1]), root(leaves), proof)


@given(st.lists(st.binary(min_size=32, max_size=32), max_size=12), st.integers(0, 40), st.data())
def test_random_proofs_never_verify_by_accident(proof, size, draw):
    index = draw.draw(st.integers(0, 40))
    leaf, tree_root = leaf_hash(b"x"), root(SIXTY_FOUR[:size])
    if size and index < size and proof == inclusion_proof(index, SIXTY_FOUR[:size]):
        return
    with pytest.raises(ProofError):
        verify_inclusion(index, size, leaf, proof, tree_root)


# --- Signed notes ----------------------------------------------------------------------------


@needs_cryptography
@pytest.mark.parametrize("v", NOTES["vectors"], ids=lambda v: v["name"])
def test_the_signer_reproduces_the_note_byte_for_byte(v):
    signer, verifier = Signer.from_key(v["signer_key"]), Verifier.from_key(v["verifier_key"])
    assert sign(v["text"], [signer]).encode() == v["note"].encode()
    assert open_note(v["note"], [verifier]) == v["text"]
    assert signer.verifier() == verifier
    assert verifier.key() == v["verifier_key"]


@needs_cryptography
@pytest.mark.parametrize("v", NOTES["must_reject"], ids=lambda v: v["why"])
def test_broken_notes_are_rejected(v):
    verifier = Verifier.from_key(NOTES["vectors"][0]["verifier_key"])
    with pytest.raises(NoteError):
        open_note(v["note"], [verifier])


@needs_cryptography
def test_unknown_and_forged_signatures():
    v = NOTES["vectors"][0]
    signer, verifier = Signer.from_key(v["signer_key"]), Verifier.from_key(v["verifier_key"])
    other_seed = bytes(range(32))
    other_public = Signer("Other", b"\0" * 4, other_seed).public_key()
    other = Signer("Other", key_id("Other", other_public), other_seed)
    with pytest.raises(NoteError):  # signed by a key we do not know
        open_note(sign(v["text"], [other]), [verifier])
    # An unknown key beside a known one is ignored, as C2SP says.
    assert open_note(sign(v["text"], [other, signer]), [verifier]) == v["text"]
    # A known name and id with a signature of another key is refused.
    impostor = Signer(signer.name, signer.key_id, other_seed)
    with pytest.raises(NoteError):
        open_note(sign(v["text"], [impostor]), [verifier])
    with pytest.raises(NoteError):
        open_note(sign(v["text"], [other, impostor]), [verifier, other.verifier()])


@needs_cryptography
@pytest.mark.parametrize(
    "tamper",
    [
        lambda n: n[:-1],  # no final newline
        lambda n: n.replace("\n\n", "\n\n\n"),  # an empty signature line
        lambda n: n.replace("PeterNeumann x08", "PeterNeumann  x08"),
        lambda n: n.replace("PeterNeumann x08", "Peter+Neumann x08"),
        lambda n: n.replace("=\n", "\n"),  # padding lost
        lambda n: n.replace("=\n", "=\n— PeterNeumann AAAA\n"),  # too short
        lambda n: n.replace("problem,", "problem,\t"),  # a control character
        lambda n: n + "— PeterNeumann " + "x" * 3,
    ],
)
def test_malformed_notes_are_rejected(tamper):
    v = NOTES["vectors"][0]
    with pytest.raises(NoteError):
        open_note(tamper(v["note"]), [Verifier.from_key(v["verifier_key"])])


@needs_cryptography
def test_bad_keys_and_texts_are_refused():
    v = NOTES["vectors"][0]
    name, kid, data = v["verifier_key"].split("+")
    for bad in (
        f"{name}+{kid}",
        f"{name}+00000000+{data}",
        f"{name}+{kid[:7]}+{data}",
        f"{name}+zzzzzzzz+{data}",
        f"{name}+{kid}+{data[:-2]}",
        f"{name}+{kid}+" + base64.b64encode(b"\x02" + _b64(data)[1:]).decode(),
        f"Other+{kid}+{data}",
    ):
        with pytest.raises(NoteError):
            Verifier.from_key(bad)
    with pytest.raises(NoteError):
        Signer.from_key(v["verifier_key"])
    with pytest.raises(NoteError):
        Signer.from_key(v["signer_key"].replace("PeterNeumann", "Peter"))
    signer = Signer.from_key(v["signer_key"])
    for text in ("no newline", "tab\there\n", ""):
        with pytest.raises(NoteError):
            sign(text, [signer])


# --- Checkpoints -----------------------------------------------------------------------------


def test_checkpoint_text_round_trips():
    text = checkpoint_text("sunlight.example/log", 8, root(LEAVES))
    assert text == (
        "sunlight.example/log\n8\n"
        + base64.b64encode(bytes.fromhex(TREE["root_hashes_hex_by_size"][8])).decode()
        + "\n"
    )
    assert parse_checkpoint(text) == ("sunlight.example/log", 8, root(LEAVES))
    assert parse_checkpoint(text + "extension line\n")[1] == 8


@pytest.mark.parametrize(
    "body",
    [
        "",
        "o\n8\n",
        "o\n08\nAAAA\n",
        "o\n-1\n" + "A" * 43 + "=\n",
        "\n1\n" + "A" * 43 + "=\n",
        "o\n1\nAAAA\n",
    ],
)
def test_malformed_checkpoints_are_refused(body):
    with pytest.raises(NoteError):
        parse_checkpoint(body)


def test_checkpoint_text_refuses_bad_input():
    for origin, size, tree_root in (
        ("", 1, EMPTY_ROOT),
        ("a\nb", 1, EMPTY_ROOT),
        ("o", -1, EMPTY_ROOT),
        ("o", 1, b"x"),
    ):
        with pytest.raises((ValueError, ProofError)):
            checkpoint_text(origin, size, tree_root)


@needs_cryptography
def test_a_signed_checkpoint_opens():
    v = NOTES["vectors"][0]
    signer = Signer.from_key(v["signer_key"])
    note = sign(checkpoint_text("sunlight.example/log", 8, root(LEAVES)), [signer])
    body = open_note(note, [signer.verifier()])
    assert parse_checkpoint(body) == ("sunlight.example/log", 8, root(LEAVES))


@given(st.lists(st.binary(max_size=8), max_size=70), st.data())
def test_the_frontier_grows_to_the_same_root_however_the_leaves_are_split(leaves, data):
    """Appending in any number of steps gives the root of the whole tree (and keeps popcount)."""
    hashes = [leaf_hash(leaf) for leaf in leaves]
    cut = data.draw(st.integers(0, len(hashes)))
    frontier = extend_frontier([], 0, hashes[:cut])
    assert frontier_root(frontier) == root(hashes[:cut])
    frontier = extend_frontier(frontier, cut, hashes[cut:])
    assert frontier_root(frontier) == root(hashes)
    assert len(frontier) == len(hashes).bit_count()


def test_a_generated_signer_round_trips_through_its_key_string():
    signer = Signer.generate("test-only.example")
    assert Signer.from_key(signer.key()) == signer
    note = sign("o\n1\n" + base64.b64encode(EMPTY_ROOT).decode() + "\n", [signer])
    assert open_note(note, [Verifier.from_key(signer.verifier().key())])
