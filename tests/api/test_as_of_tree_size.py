"""As of a tree size of the transparency log: what was public when the log reached N leaves,
reproduced to the cent after later publications, corrections and withdrawals."""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from urllib.parse import quote

import pytest

from funds.models import Batch
from funds.publishing import Replacement, correct_batch, publish_batch, withdraw_batch
from publicity.models import Checkpoint
from tests.factories import make_batch, make_program, make_village, person_name, unique_id_number

pytestmark = pytest.mark.django_db


def _publish(program, numbers, amount: str, period: str) -> Batch:
    rows = [(person_name(n), unique_id_number(n), Decimal(amount)) for n in numbers]
    batch = make_batch(program, make_village(), rows, status=Batch.Status.DRAFT, period=period)
    publish_batch(batch=batch)
    return Batch.objects.get(pk=batch.pk)


def _size() -> int:
    return Checkpoint.objects.order_by("-tree_size").first().tree_size


def _total(client, query: str) -> Decimal:
    response = client.get(f"/api/v1/summary/?by=program&{query}")
    assert response.status_code == 200, response.content
    return sum((Decimal(g["total"]) for g in response.json()["results"]), Decimal("0.00"))


@pytest.fixture
def history():
    """A published (3 rows, 300.00); the tree size noted; B published, A withdrawn, B corrected."""
    program = make_program()
    a = _publish(program, range(3), "100.00", "2026-01")
    after_a = _size()
    b = _publish(program, range(10, 12), "250.25", "2026-02")
    after_b = _size()
    withdraw_batch(batch=a, reason="重复")
    row = b.disbursements.order_by("id").first()
    correction = correct_batch(
        original=b, changes={row.pk: Replacement(Decimal("1.00"))},
        source_name="c.xlsx", source_sha256="c" * 64,
    )  # fmt: skip
    publish_batch(batch=correction)
    return {"a": a, "b": b, "after_a": after_a, "after_b": after_b, "now": _size()}


def test_a_tree_size_reproduces_what_was_public_then_to_the_cent(auditor_api, history):
    assert history["after_a"] == 3 and history["after_b"] == 5
    assert _total(auditor_api, "") == Decimal("500.50") - Decimal("249.25")
    assert _total(auditor_api, f"as_of_tree_size={history['after_a']}") == Decimal("300.00")
    assert _total(auditor_api, f"as_of_tree_size={history['after_b']}") == Decimal("800.50")
    # The rows agree with the batch totals (a filter that forces the row path).
    every_row = "amount_min=-999999999999.99"
    assert _total(auditor_api, f"as_of_tree_size=3&{every_row}") == Decimal("300.00")
    rows = auditor_api.get("/api/v1/disbursements/?as_of_tree_size=3&page_size=500").json()
    assert sorted(r["batch"] for r in rows["results"]) == [history["a"].pk] * 3


def test_a_size_inside_one_publication_is_that_publication(api, history):
    # The log had 4 leaves only while B's leaves were being appended: B counts whole.
    assert _total(api, "as_of_tree_size=4") == Decimal("800.50")


def test_every_answer_says_the_moment_and_the_tree_size(api, history):
    signed = Checkpoint.objects.get(tree_size=3)
    body = api.get("/api/v1/summary/?by=program&as_of_tree_size=3").json()
    assert body["as_of_tree_size"] == 3
    assert body["as_of"] == signed.created_at.isoformat()
    plain = api.get("/api/v1/summary/?by=program").json()
    assert plain["as_of_tree_size"] is None and plain["as_of"]

    listed = api.get("/api/v1/disbursements/?as_of_tree_size=3")
    assert listed["X-Sunlight-As-Of"] == signed.created_at.isoformat()
    assert listed["X-Sunlight-As-Of-Tree-Size"] == "3"
    assert "X-Sunlight-As-Of-Tree-Size" not in api.get("/api/v1/disbursements/")
    assert api.get("/api/v1/disbursements/")["X-Sunlight-As-Of"]

    exported = api.get("/api/v1/disbursements/export.csv?as_of_tree_size=3")
    assert exported["X-Sunlight-As-Of"] == signed.created_at.isoformat()
    assert exported["X-Sunlight-As-Of-Tree-Size"] == "3"
    text = b"".join(exported.streaming_content).decode("utf-8-sig")
    assert len(list(csv.reader(io.StringIO(text)))) == 1 + 3


def test_the_moment_of_a_tree_size_is_where_as_of_would_answer_the_same(api, history):
    moment = quote(Checkpoint.objects.get(tree_size=3).created_at.isoformat())
    assert _total(api, f"as_of={moment}") == _total(api, "as_of_tree_size=3")


@pytest.mark.parametrize("size", ["0", "-1", "abc", "1.5", "99999999999999999999999"])
def test_a_malformed_tree_size_is_a_400(api, history, size):
    for url in ("/api/v1/summary/?by=program&", "/api/v1/disbursements/?",
                "/api/v1/disbursements/export.csv?"):  # fmt: skip
        response = api.get(f"{url}as_of_tree_size={size}")
        assert response.status_code == 400, (url, response.content)
        assert "as_of_tree_size" in response.json()


def test_a_tree_size_beyond_the_log_is_a_400(api, history):
    response = api.get(f"/api/v1/summary/?by=program&as_of_tree_size={history['now'] + 1}")
    assert response.status_code == 400 and "as_of_tree_size" in response.json()
    assert (
        api.get(f"/api/v1/summary/?by=program&as_of_tree_size={history['now']}").status_code == 200
    )


def test_an_empty_log_has_no_tree_size_to_ask_about(api, db):
    response = api.get("/api/v1/disbursements/?as_of_tree_size=1")
    assert response.status_code == 400 and "as_of_tree_size" in response.json()


def test_a_moment_and_a_tree_size_together_are_a_400(api, history):
    response = api.get("/api/v1/summary/?by=program&as_of_tree_size=3&as_of=2026-03-01T00:00:00Z")
    assert response.status_code == 400 and "as_of_tree_size" in response.json()
