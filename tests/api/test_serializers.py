"""The hand-written disbursement representation matches its declared fields."""

import pytest
from rest_framework import serializers

from api.selectors import with_persons
from api.serializers import DISBURSEMENT_VALUES, DisbursementSerializer
from funds.models import Disbursement

pytestmark = pytest.mark.django_db


def test_fast_representation_equals_the_generic_one(world):
    """Every row renders exactly as DRF's own field machinery would render it."""
    rows = Disbursement.objects.select_related("person").order_by("id")
    page = with_persons(rows=list(Disbursement.objects.values(*DISBURSEMENT_VALUES)))
    values = {row["id"]: row for row in page}
    generic = DisbursementSerializer()
    assert rows and len(values) == len(rows)
    for row in rows:
        expected = serializers.ModelSerializer.to_representation(generic, row)
        assert generic.to_representation(values[row.id]) == dict(expected)
