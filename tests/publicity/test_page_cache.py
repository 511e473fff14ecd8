"""Public pages and anonymous API answers are cached on the publication version: every act
that changes what the public sees bumps it, so the next request shows the change.

Each test warms the cache first (the same answer served twice), acts through funds'
functions, and reads again.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.http import http_date
from rest_framework.test import APIClient

from funds import payments, publishing
from funds.models import Batch
from publicity.models import PublicationVersion
from tests.factories import id_number, person_name

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _page_cache_on(settings):
    settings.SUNLIGHT_PAGE_CACHE_SECONDS = 3600


def village_url(site):
    return reverse("publicity:village", args=[site.village.pk])


def batch_url(batch):
    return reverse("publicity:batch", args=[batch.pk])


def api_rows(batch) -> list[dict]:
    response = APIClient().get("/api/v1/disbursements/", {"batch": batch.pk})
    assert response.status_code == 200
    return response.json()["results"]


def api_batch(batch) -> dict:
    return APIClient().get(f"/api/v1/batches/{batch.pk}/").json()


def served_from_cache(client, url) -> bytes:
    """Read URL twice; the second answer comes from the cache (no query runs for it but the
    version's and the session's)."""
    first = client.get(url)
    with CaptureQueriesContext(connection) as queries:
        second = client.get(url)
    assert len(queries) <= 2, [q["sql"] for q in queries]
    assert first.status_code == second.status_code == 200
    assert second.content == first.content
    return second.content


def test_a_page_is_served_from_the_cache_until_an_act(client, site, django_assert_max_num_queries):
    url = village_url(site)
    first = client.get(url).content
    with django_assert_max_num_queries(2):  # the version (and nothing the page would query)
        again = client.get(url)
    assert again.content == first and again["ETag"]


def test_publish_shows_on_the_next_request(client, site):
    url = village_url(site)
    before = served_from_cache(client, url).decode()
    assert person_name(20)[0] and "777.77" not in before
    assert client.get(batch_url(site.draft)).status_code == 404
    assert api_rows(site.draft) == []
    publishing.publish_batch(batch=site.draft)
    assert "777.77" in client.get(url).content.decode()
    assert client.get(batch_url(site.draft)).status_code == 200
    assert len(api_rows(site.draft)) == 2


def test_finalise_shows_on_the_next_request(client, site):
    Batch.objects.filter(pk=site.published.pk).update(
        publicity_end=timezone.localdate() - timedelta(days=1)
    )
    url = batch_url(site.published)
    assert "已定稿" not in served_from_cache(client, url).decode()
    assert api_batch(site.published)["status"] == "publicity"
    publishing.finalize_batch(batch=site.published)
    assert 'id="notice-status" class="badge final"' in client.get(url).content.decode()
    assert api_batch(site.published)["status"] == "final"


def test_withdraw_shows_on_the_next_request(client, site):
    url = village_url(site)
    row = site.published.disbursements.order_by("id").first()
    assert "1,234.50" in served_from_cache(client, url).decode()
    assert len(api_rows(site.published)) == 3
    publishing.withdraw_batch(batch=site.published, reason="名单有误")
    assert "1,234.50" not in client.get(url).content.decode()
    assert api_rows(site.published) == []
    household = reverse("publicity:household", args=[row.household_id])
    assert client.get(household).status_code in (200, 404)


def test_correct_shows_on_the_next_request(client, site):
    # The final batch's page carries no objection form, so it is cached.
    url = batch_url(site.final)
    row = site.final.disbursements.order_by("id").first()
    assert 'id="corrected-banner"' not in served_from_cache(client, url).decode()
    version = PublicationVersion.current().number
    correction = publishing.correct_batch(
        original=site.final,
        changes={row.pk: publishing.Replacement(amount=Decimal("1000.00"))},
        source_name="更正",
        source_sha256="c" * 64,
        reason="金额有误",
    )
    assert PublicationVersion.current().number > version  # the act itself bumps
    publishing.publish_batch(batch=correction)
    assert 'id="corrected-banner"' in client.get(url).content.decode()
    assert len(api_rows(correction)) == 2


def test_payment_results_show_on_the_next_request(client, site):
    row = site.published.disbursements.order_by("id").first()
    url = reverse("publicity:household", args=[row.household_id])
    assert 'class="payment-state failed"' not in served_from_cache(client, url).decode()
    assert api_rows(site.published)[0]["payment_state"] != "failed"
    line = payments.MatchedLine(
        row.pk, "failed", row.amount, date(2026, 3, 20), "account_closed", "", "Sheet1", 3
    )
    payments.record_payment_results(
        batch=site.published, lines=[line], original_name="r.xlsx", sha256="r" * 64,
        today=date(2026, 4, 30),
    )  # fmt: skip
    assert 'class="payment-state failed"' in client.get(url).content.decode()
    states = {r["id"]: r["payment_state"] for r in api_rows(site.published)}
    assert states[row.pk] == "failed"


def test_a_failed_act_bumps_nothing(site):
    version = PublicationVersion.current().number
    with pytest.raises(ValidationError):  # a draft cannot be finalised
        publishing.finalize_batch(batch=site.draft)
    assert PublicationVersion.current().number == version


def test_pages_answer_304_on_revalidation(client, site):
    url = village_url(site)
    first = client.get(url)
    etag, modified = first["ETag"], first["Last-Modified"]
    assert client.get(url, HTTP_IF_NONE_MATCH=etag).status_code == 304
    assert client.get(url, HTTP_IF_MODIFIED_SINCE=modified).status_code == 304
    publishing.publish_batch(batch=site.draft)
    fresh = client.get(url, HTTP_IF_NONE_MATCH=etag)
    assert fresh.status_code == 200 and fresh["ETag"] != etag
    stale = http_date((timezone.now() - timedelta(days=400)).timestamp())
    assert client.get(url, HTTP_IF_MODIFIED_SINCE=stale).status_code == 200


def test_the_key_holds_the_language_and_the_query(client, site):
    url = village_url(site)
    chinese = client.get(url).content.decode()
    english = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert chinese != english and 'lang="en"' in english
    filtered = client.get(url, {"period": "2026-03"}).content.decode()
    assert 'value="2026-03" selected' in filtered and 'value="2026-03" selected' not in chinese


def test_staff_are_never_served_the_anonymous_copy(client, site, admin_user):
    url = village_url(site)
    assert client.get(url)["ETag"]
    client.force_login(admin_user)
    staff = client.get(url)
    assert staff.status_code == 200 and "ETag" not in staff


def test_pages_with_a_form_or_a_message_are_not_cached(client, site):
    lookup = client.get("/lookup/")
    assert "ETag" not in lookup and "csrfmiddlewaretoken" in lookup.content.decode()
    data = {"name": person_name(0), "id_number": id_number(0), "year": ""}
    found = client.post("/lookup/", data).content.decode()
    assert "1,234.50" in found
    # The batch page in its publicity period carries the objection form and its token.
    first = client.get(batch_url(site.published))
    second = client.get(batch_url(site.published))
    token = "csrfmiddlewaretoken"
    assert token in first.content.decode() and "ETag" not in second
    # Every other page is free of a token: the language switch needs none.
    assert token not in client.get(village_url(site)).content.decode()


def test_the_language_switch_works_without_a_token(site):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    response = strict.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert response.status_code == 302


def record_failure(batch):
    row = batch.disbursements.order_by("id").first()
    line = payments.MatchedLine(
        row.pk, "failed", row.amount, date(2026, 3, 20), "account_closed", "", "Sheet1", 3
    )
    payments.record_payment_results(
        batch=batch, lines=[line], original_name="r.xlsx", sha256="s" * 64,
        today=date(2026, 4, 30),
    )  # fmt: skip


def test_api_answers_revalidate_after_payment_results(site):
    api = APIClient()
    url = f"/api/v1/disbursements/?batch={site.published.pk}"
    etag = api.get(url)["ETag"]
    assert api.get(url, HTTP_IF_NONE_MATCH=etag).status_code == 304
    record_failure(site.published)
    fresh = api.get(url, HTTP_IF_NONE_MATCH=etag)
    assert fresh.status_code == 200 and fresh["ETag"] != etag


def test_anonymous_api_answers_come_from_the_cache(site, django_assert_max_num_queries):
    api = APIClient()
    url = f"/api/v1/disbursements/?batch={site.published.pk}"
    first = api.get(url)
    with django_assert_max_num_queries(3):  # the aggregate and the version, not the rows
        again = api.get(url)
    assert again.status_code == 200 and again.content == first.content
    assert again["Content-Type"] == first["Content-Type"]


def test_a_village_renamed_in_the_admin_shows_on_the_next_request(
    client, site, django_capture_on_commit_callbacks
):
    url = village_url(site)
    assert "新名村" not in served_from_cache(client, url).decode()
    with django_capture_on_commit_callbacks(execute=True):
        site.village.name = "新名村"
        site.village.save()
    assert "新名村" in client.get(url).content.decode()
