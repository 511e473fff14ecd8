"""Acts with a second look: publish, withdraw and finalise are confirmed on a page of their own;
withdrawing and overriding ask why; a withdrawn batch's public page stays, saying so."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse

from funds.models import AuditEntry, Batch
from funds.publishing import publish_batch, withdraw_batch
from tests.factories import make_batch, make_program, make_village, person_name, unique_id_number

pytestmark = pytest.mark.django_db


def _rows(numbers):
    return [(person_name(n), unique_id_number(n), Decimal("100.00")) for n in numbers]


@pytest.fixture
def draft():
    return make_batch(make_program(), make_village(), _rows(range(3)), status=Batch.Status.DRAFT)


def _confirm_url(batch, action):
    return reverse("funds:batch_confirm", args=[batch.pk, action])


def test_the_batch_page_links_each_act_to_its_confirmation_page(staff_client, draft):
    page = staff_client.get(reverse("funds:batch_detail", args=[draft.pk])).content.decode()
    assert _confirm_url(draft, "publish") in page and _confirm_url(draft, "withdraw") in page
    assert 'name="action" value="publish"' not in page, "no one-click publication"


def test_the_confirmation_page_says_what_will_happen(staff_client, draft):
    page = staff_client.get(_confirm_url(draft, "publish")).content.decode()
    assert "确认发布" in page and "3" in page and 'name="confirmed"' in page
    assert "工作日" in page  # the period it opens, in working days


def test_an_unconfirmed_post_changes_nothing(staff_client, draft):
    response = staff_client.post(
        reverse("funds:batch_action", args=[draft.pk]), {"action": "publish"}
    )
    assert response.status_code == 302 and response["Location"] == _confirm_url(draft, "publish")
    assert Batch.objects.get(pk=draft.pk).status == Batch.Status.DRAFT
    assert not AuditEntry.objects.exists()


def test_a_confirmed_publication_is_made(staff_client, draft):
    staff_client.post(
        reverse("funds:batch_action", args=[draft.pk]), {"action": "publish", "confirmed": "yes"}
    )
    assert Batch.objects.get(pk=draft.pk).status == Batch.Status.PUBLICITY


def test_a_repeated_roster_asks_for_a_reason_before_publishing(staff_client, draft):
    program, village = draft.program, make_village()
    published = make_batch(program, village, _rows(range(3)), status=Batch.Status.PUBLICITY)
    page = staff_client.get(_confirm_url(draft, "publish")).content.decode()
    assert (
        "可能重复发放" in page and f"#{published.pk}" in page and 'name="override_reason"' in page
    )
    url = reverse("funds:batch_action", args=[draft.pk])
    refused = staff_client.post(url, {"action": "publish", "confirmed": "yes"}, follow=True)
    assert Batch.objects.get(pk=draft.pk).status == Batch.Status.DRAFT
    assert "可能重复发放" in refused.content.decode()
    staff_client.post(
        url, {"action": "publish", "confirmed": "yes", "override_reason": "补发，经局长批准"}
    )
    assert Batch.objects.get(pk=draft.pk).status == Batch.Status.PUBLICITY
    assert AuditEntry.objects.get(kind="override").reason == "补发，经局长批准"


def test_withdrawing_needs_a_reason_on_its_confirmation(staff_client, draft):
    page = staff_client.get(_confirm_url(draft, "withdraw")).content.decode()
    assert 'name="reason"' in page and "required" in page
    url = reverse("funds:batch_action", args=[draft.pk])
    staff_client.post(url, {"action": "withdraw", "confirmed": "yes"})
    assert Batch.objects.get(pk=draft.pk).status == Batch.Status.DRAFT
    staff_client.post(url, {"action": "withdraw", "confirmed": "yes", "reason": "重复导入"})
    assert Batch.objects.get(pk=draft.pk).status == Batch.Status.WITHDRAWN


def test_an_unknown_act_has_no_confirmation_page(staff_client, draft):
    assert staff_client.get(_confirm_url(draft, "delete")).status_code == 404


def test_another_townships_clerk_gets_no_confirmation_page(client, township_clerk, draft):
    client.force_login(township_clerk)
    assert client.get(_confirm_url(draft, "publish")).status_code == 404


# --- the withdrawn batch's public page --------------------------------------------------------


def test_a_withdrawn_batch_keeps_its_public_page_saying_when_and_why(client, draft):
    publish_batch(batch=draft, start=date(2026, 3, 2))
    url = reverse("publicity:batch", args=[draft.pk])
    row_name = draft.disbursements.select_related("person").first().person.name_masked
    assert row_name in client.get(url).content.decode()
    withdraw_batch(batch=draft, reason="名单重复，已撤回重新核对")
    response = client.get(url)
    page = response.content.decode()
    assert response.status_code == 200
    assert "已撤回" in page and "名单重复，已撤回重新核对" in page
    assert row_name not in page, "a withdrawn batch shows no rows"
    assert "/objections/" not in page


def test_a_draft_that_was_never_published_is_still_not_found(client, draft):
    withdraw_batch(batch=draft, reason="导错了")
    assert client.get(reverse("publicity:batch", args=[draft.pk])).status_code == 404
