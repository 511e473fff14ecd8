"""Objections during the publicity period: scrubbed, masked, rate-limited, closed afterwards."""

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from publicity.models import Objection
from tests.factories import id_number

pytestmark = pytest.mark.django_db


def _object(client, batch, **data):
    payload = {"text": "名单中有人已经去世。", "contact": "", "village": ""} | data
    return client.post(reverse("publicity:objection", args=[batch.pk]), payload)


def test_an_objection_is_stored_and_the_page_says_so(client, site):
    response = _object(client, site.published, village=str(site.village.pk))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("publicity:batch", args=[site.published.pk]))
    objection = Objection.objects.get()
    assert objection.batch == site.published and objection.village == site.village
    page = client.get(response["Location"]).content.decode()
    assert "异议已收到" in page


def test_personal_numbers_in_the_text_are_scrubbed_before_storage(client, site):
    secret_id = id_number(7)
    text = f"王五的身份证{secret_id}，卡号6217001234567890123，电话13912345678"
    _object(client, site.published, text=text)
    stored = Objection.objects.get().text
    assert secret_id not in stored
    assert "6217001234567890123" not in stored
    assert "13912345678" not in stored
    assert "王五的身份证" in stored


def test_the_contact_phone_is_stored_masked_and_hashed(client, site):
    _object(client, site.published, contact="139 1234 5678")
    objection = Objection.objects.get()
    assert objection.contact_masked == "139****5678"
    assert objection.contact_hash.startswith("v1:") and "13912345678" not in objection.contact_hash


def test_a_bad_phone_or_empty_text_is_a_form_error_and_stores_nothing(client, site):
    response = _object(client, site.published, contact="abc")
    assert response.status_code == 200
    assert response.context["objection_form"].errors["contact"]
    assert 'value="abc"' not in response.content.decode()
    response = _object(client, site.published, text="")
    assert response.context["objection_form"].errors["text"]
    assert not Objection.objects.exists()


def test_a_village_outside_the_batch_is_refused(client, site):
    response = _object(client, site.published, village=str(site.other_village.pk))
    assert response.status_code == 200 and not Objection.objects.exists()


def test_objections_after_the_publicity_period_get_a_friendly_refusal(client, site):
    site.published.publicity_end = timezone.localdate() - timedelta(days=1)
    site.published.save()
    response = _object(client, site.published)
    assert response.status_code == 403
    assert "异议通道已关闭" in response.content.decode()
    assert not Objection.objects.exists()
    page = client.get(reverse("publicity:batch", args=[site.published.pk])).content.decode()
    assert "/objections/" not in page and "公示期已结束" in page


def test_final_batches_take_no_objections(client, site):
    assert _object(client, site.final).status_code == 403
    assert not Objection.objects.exists()


def test_unpublished_batches_take_no_objections(client, site):
    assert _object(client, site.draft).status_code == 404
    assert _object(client, site.withdrawn).status_code == 404


def test_objections_are_rate_limited_per_client(client, site, settings):
    settings.SUNLIGHT_OBJECTIONS_PER_CLIENT = 2
    assert _object(client, site.published).status_code == 302
    assert _object(client, site.published).status_code == 302
    assert _object(client, site.published).status_code == 429
    assert Objection.objects.count() == 2


def test_objections_need_a_csrf_token(site):
    response = _object(Client(enforce_csrf_checks=True), site.published)
    assert response.status_code == 403 and not Objection.objects.exists()


def test_objection_url_accepts_post_only(client, site):
    response = client.get(reverse("publicity:objection", args=[site.published.pk]))
    assert response.status_code == 405


def test_a_rejected_objection_shows_its_text_back_scrubbed(client, site):
    secret_id = id_number(8)
    response = _object(client, site.published, text=f"身份证{secret_id}", contact="abc")
    assert response.status_code == 200
    text = response.content.decode()
    assert secret_id not in text
    assert "身份证" in text
