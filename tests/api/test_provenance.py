"""Provenance per batch: who uploaded, confirmed, published, when; warnings and their
acknowledgements; objections and their answers; the correction chain both ways."""

from __future__ import annotations

from decimal import Decimal

import pytest

from funds.models import Batch, ImportJob
from funds.publishing import Replacement, correct_batch, publish_batch
from publicity.models import Objection
from tests.factories import make_batch, make_program, make_village, person_name, unique_id_number

pytestmark = pytest.mark.django_db


@pytest.fixture
def chain(staff_user):
    rows = [(person_name(n), unique_id_number(n), Decimal("100.00")) for n in range(3)]
    original = make_batch(make_program(), make_village(), rows, status=Batch.Status.DRAFT)
    ImportJob.objects.create(
        program=original.program, period=original.period,
        original_name=f"{person_name(0)}户补贴{unique_id_number(0)}.xlsx",
        sha256="a" * 64, status="imported", batch=original,
        report={"warnings": [{"code": "amount_mismatch"}, {"code": "outlier"}],
                "acknowledged": ["Sheet1:5"]},
    )  # fmt: skip
    publish_batch(batch=original, user=staff_user)
    Objection.objects.create(batch=original, text="有误", status=Objection.Status.ANSWERED)
    Objection.objects.create(batch=original, text="再看看")
    row = original.disbursements.order_by("id").first()
    correction = correct_batch(
        original=original, changes={row.pk: Replacement(Decimal("90.00"))},
        source_name="c", source_sha256="c" * 64, user=staff_user, reason="多发",
    )  # fmt: skip
    return original, correction


def test_an_auditor_reads_a_batchs_provenance(auditor_api, chain):
    original, correction = chain
    body = auditor_api.get(f"/api/v1/batches/{original.pk}/provenance/").json()
    acts = [(a["kind"], a["username"]) for a in body["acts"]]
    assert ("publish", "staff") in acts
    assert body["corrected_by"] == [correction.pk] and body["corrects"] is None
    assert body["imported"]["warnings"] == {"amount_mismatch": 1, "outlier": 1}
    assert body["imported"]["acknowledged"] == ["Sheet1:5"]
    name = body["imported"]["file"]
    assert person_name(0) not in name and unique_id_number(0) not in name and "户补贴" in name
    assert body["objections"] == {"open": 1, "answered": 1, "upheld": 0, "dismissed": 0}

    back = auditor_api.get(f"/api/v1/batches/{correction.pk}/provenance/").json()
    assert back["corrects"] == original.pk
    assert [a["reason"] for a in back["acts"] if a["kind"] == "correct"] == ["多发"]


def test_batches_filter_on_the_correction_chain_both_ways(auditor_api, chain):
    original, correction = chain
    ids = lambda url: [b["id"] for b in auditor_api.get(url).json()["results"]]  # noqa: E731
    assert ids(f"/api/v1/batches/?corrects={original.pk}") == [correction.pk]
    assert ids(f"/api/v1/batches/?corrected_by={correction.pk}") == [original.pk]


def test_provenance_is_for_auditors(api, chain):
    original, _correction = chain
    assert api.get(f"/api/v1/batches/{original.pk}/provenance/").status_code in (401, 403)
