"""Staff cannot rewrite published rows through the admin."""

from decimal import Decimal

import pytest
from django.urls import reverse

from funds.models import Batch
from tests.factories import make_batch, make_program, make_village, person_name, unique_id_number

pytestmark = pytest.mark.django_db


def test_disbursements_cannot_be_added_in_the_admin(staff_client):
    response = staff_client.get(reverse("admin:funds_disbursement_add"))
    assert response.status_code == 403


def test_disbursement_list_offers_no_delete_action(staff_client):
    response = staff_client.get(reverse("admin:funds_disbursement_changelist"))
    assert response.status_code == 200
    assert b"delete_selected" not in response.content


@pytest.fixture
def published() -> Batch:
    rows = [(person_name(1), unique_id_number(1), Decimal("100.00"))]
    return make_batch(make_program(), make_village(), rows)


def test_a_batch_cannot_be_added_or_moved_past_the_publishing_rules_in_the_admin(
    staff_client, published
):
    assert staff_client.get(reverse("admin:funds_batch_add")).status_code == 403
    url = reverse("admin:funds_batch_change", args=[published.pk])
    page = staff_client.get(url).content.decode()
    assert 'name="title"' in page and 'name="status"' not in page and 'name="period"' not in page
    staff_client.post(url, {"title": "新标题", "status": Batch.Status.DRAFT, "period": "2020-01"})
    published.refresh_from_db()
    assert published.title == "新标题"
    assert (published.status, published.period) != (Batch.Status.DRAFT, "2020-01")


def test_only_a_draft_batch_may_be_deleted_in_the_admin(staff_client, published):
    url = reverse("admin:funds_batch_delete", args=[published.pk])
    assert staff_client.get(url).status_code == 403
    draft = make_batch(make_program(), make_village(), [], status=Batch.Status.DRAFT)
    assert staff_client.get(reverse("admin:funds_batch_delete", args=[draft.pk])).status_code == 200
