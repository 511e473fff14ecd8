"""Everyone's answers count published rows (in publicity or final) unless other statuses are
asked for; every summary says what it counts; paid, failed and reversed amounts apart."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db.models import Sum

from funds.models import Batch, Disbursement
from funds.publishing import Replacement, correct_batch, publish_batch

pytestmark = pytest.mark.django_db

PUBLISHED = ["publicity", "final"]


def _total(body) -> Decimal:
    return sum((Decimal(g["total"]) for g in body["results"]), Decimal("0.00"))


def test_an_auditors_summary_counts_published_rows_unless_asked(auditor_api, world):
    body = auditor_api.get("/api/v1/summary/?by=township").json()
    published = Disbursement.objects.published().aggregate(s=Sum("amount"))["s"]
    assert _total(body) == published
    assert body["batch_status"] == PUBLISHED

    drafts = auditor_api.get("/api/v1/summary/?by=township&batch_status=draft").json()
    assert drafts["batch_status"] == ["draft"]
    draft_total = Disbursement.objects.filter(batch__status="draft").aggregate(s=Sum("amount"))
    assert _total(drafts) == draft_total["s"] and draft_total["s"] > 0


def test_an_auditor_asks_for_several_statuses_at_once(auditor_api, world):
    url = "/api/v1/summary/?by=program&batch_status=final&batch_status=draft"
    body = auditor_api.get(url).json()
    assert body["batch_status"] == ["draft", "final"]
    rows = Disbursement.objects.filter(batch__status__in=["final", "draft"])
    assert _total(body) == rows.aggregate(s=Sum("amount"))["s"]


def test_an_auditors_list_is_published_rows_by_default(auditor_api, world):
    ids = []
    url = "/api/v1/disbursements/?page_size=500"
    while url:
        body = auditor_api.get(url).json()
        ids += [row["id"] for row in body["results"]]
        url = body["next"]
    assert sorted(ids) == sorted(Disbursement.objects.published().values_list("id", flat=True))


def test_anonymous_callers_asking_for_drafts_get_nothing(api, world):
    body = api.get("/api/v1/summary/?by=program&batch_status=draft").json()
    assert body["results"] == [] and body["batch_status"] == [], "it counts nothing"


def test_reversed_amounts_are_reported_apart(auditor_api, world):
    original = world.published[0]
    first = original.disbursements.order_by("id").first()
    correction = correct_batch(
        original=original, changes={first.pk: Replacement(amount=Decimal("1.00"))},
        source_name="fix.xlsx", source_sha256="e" * 64,
    )  # fmt: skip
    publish_batch(batch=correction)
    groups = auditor_api.get(f"/api/v1/summary/?by=program&batch={correction.pk}").json()
    (group,) = groups["results"]
    assert Decimal(group["reversed_amount"]) == -first.amount
    assert Decimal(group["total"]) == Decimal("1.00") - first.amount
    assert Batch.objects.get(pk=correction.pk).status == "publicity"
