"""Staff cannot rewrite published rows through the admin."""

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_disbursements_cannot_be_added_in_the_admin(staff_client):
    response = staff_client.get(reverse("admin:funds_disbursement_add"))
    assert response.status_code == 403


def test_disbursement_list_offers_no_delete_action(staff_client):
    response = staff_client.get(reverse("admin:funds_disbursement_changelist"))
    assert response.status_code == 200
    assert b"delete_selected" not in response.content
