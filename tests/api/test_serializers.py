"""The hand-written disbursement representation matches its declared fields."""

from datetime import date

import pytest
from rest_framework import serializers

from api.selectors import with_payment_results, with_persons
from api.serializers import DISBURSEMENT_VALUES, DisbursementSerializer
from funds.models import Disbursement
from funds.payments import MatchedLine, record_payment_results

pytestmark = pytest.mark.django_db


def test_fast_representation_equals_the_generic_one(world):
    """Every row renders exactly as DRF's own field machinery would render it."""
    failed = world.published[0].disbursements.first()
    line = MatchedLine(failed.pk, "failed", failed.amount, date(2026, 3, 20), "other", "", "S", 3)
    record_payment_results(batch=world.published[0], lines=[line], original_name="r", sha256="r")
    rows = Disbursement.objects.select_related("person").order_by("id")
    page = with_persons(rows=list(Disbursement.objects.values(*DISBURSEMENT_VALUES)))
    values = {row["id"]: row for row in with_payment_results(rows=page)}
    generic = DisbursementSerializer()
    assert rows and len(values) == len(rows)
    assert values[failed.pk]["payment_state"] == "failed"
    for row in rows:
        row.payment_state = values[row.id]["payment_state"]
        row.payment_history = values[row.id]["payment_history"]
        expected = serializers.ModelSerializer.to_representation(generic, row)
        assert generic.to_representation(values[row.id]) == dict(expected)
