"""The transparency log's endpoints: the signed checkpoint, the key, inclusion and consistency
proofs that verify with the log's own verifier, and JSON errors for bad questions."""

from __future__ import annotations

import base64
from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from funds.publishing import publish_batch
from publicity import translog, transparency
from tests.factories import make_batch, make_program, make_village, person_name, unique_id_number

pytestmark = pytest.mark.django_db


def draft(n: int, *, first: int = 0, period: str = "2026-03"):
    rows = [
        (person_name(k), unique_id_number(k), Decimal("50.00")) for k in range(first, first + n)
    ]
    return make_batch(make_program(), make_village(), rows, period=period, status="draft")


@pytest.fixture
def api():
    return APIClient()


@pytest.fixture
def logged():
    """Two publications: sizes 3 and 5."""
    first = publish_batch(batch=draft(3))
    second = publish_batch(batch=draft(2, first=10, period="2026-04"))
    return first, second


def b64(text: str) -> bytes:
    return base64.b64decode(text)


def test_the_checkpoint_is_the_latest_signed_note_and_verifies_with_the_published_key(api, logged):
    answer = api.get("/api/v1/log/checkpoint")
    assert answer.status_code == 200 and answer["Content-Type"].startswith("text/plain")
    key = api.get("/api/v1/log/key")
    assert key.status_code == 200 and key["Content-Type"].startswith("text/plain")
    verifier = translog.Verifier.from_key(key.content.decode().strip())
    body = translog.open_note(answer.content.decode(), [verifier])
    origin, size, root = translog.parse_checkpoint(body)
    assert size == 5 and origin == transparency.log_origin()
    assert root == bytes(transparency.latest_checkpoint().root_hash)


def test_an_empty_log_has_no_checkpoint(api):
    answer = api.get("/api/v1/log/checkpoint")
    assert answer.status_code == 404 and "detail" in answer.json()


def test_a_published_rows_proof_verifies_now_and_against_an_older_checkpoint(api, logged):
    row = logged[0].disbursements.order_by("id").first()
    for query, size in (("", 5), ("?tree_size=3", 3)):
        answer = api.get(f"/api/v1/disbursements/{row.pk}/proof/{query}")
        assert answer.status_code == 200
        data = answer.json()
        assert data["tree_size"] == size and data["leaf_index"] == 0
        assert f'"id":{row.pk},' in data["leaf"]
        digest = translog.leaf_hash(data["leaf"].encode())
        assert digest == b64(data["leaf_hash"])
        proof = [b64(h) for h in data["proof"]]
        translog.verify_inclusion(0, size, digest, proof, b64(data["root"]))


@pytest.mark.parametrize(
    ("query", "status"),
    [("?tree_size=4", 404), ("?tree_size=x", 400), ("?tree_size=0", 400)],
)
def test_a_proof_against_a_size_never_signed_or_malformed_is_refused(api, logged, query, status):
    row = logged[0].disbursements.first()
    answer = api.get(f"/api/v1/disbursements/{row.pk}/proof/{query}")
    assert answer.status_code == status and answer["Content-Type"] == "application/json"


def test_a_row_added_after_a_checkpoint_cannot_be_proved_against_it(api, logged):
    row = logged[1].disbursements.first()
    assert api.get(f"/api/v1/disbursements/{row.pk}/proof/?tree_size=3").status_code == 400


def test_rows_not_published_or_not_in_the_log_have_no_proof(api, logged):
    unpublished = draft(1, first=30, period="2026-05").disbursements.get()
    sneaked = make_batch(
        make_program(), make_village(), [(person_name(40), unique_id_number(40), Decimal("1"))]
    ).disbursements.get()  # published without the log: a factory shortcut
    for pk in (unpublished.pk, sneaked.pk, 10**9, "abc"):
        answer = api.get(f"/api/v1/disbursements/{pk}/proof/")
        assert answer.status_code == 404 and answer["Content-Type"] == "application/json"


def test_the_consistency_proof_between_two_checkpoints_verifies(api, logged):
    answer = api.get("/api/v1/log/consistency?first=3&second=5")
    assert answer.status_code == 200
    data = answer.json()
    assert (data["first"], data["second"]) == (3, 5)
    proof = [b64(h) for h in data["proof"]]
    translog.verify_consistency(3, 5, b64(data["first_root"]), b64(data["second_root"]), proof)


@pytest.mark.parametrize(
    "query", ["", "?first=3", "?first=a&second=5", "?first=5&second=3", "?first=0&second=5"]
)
def test_bad_consistency_questions_get_400_json(api, logged, query):
    answer = api.get(f"/api/v1/log/consistency{query}")
    assert answer.status_code == 400 and answer["Content-Type"] == "application/json"


@pytest.mark.parametrize("query", ["?first=2&second=5", "?first=3&second=6"])
def test_consistency_with_a_size_never_signed_is_not_found(api, logged, query):
    answer = api.get(f"/api/v1/log/consistency{query}")
    assert answer.status_code == 404 and answer["Content-Type"] == "application/json"
