"""Conditional GET: ETags that hold while published data hold, and change when they change."""

import pytest
from django.utils import timezone
from django.utils.http import http_date

from funds.models import Batch

pytestmark = pytest.mark.django_db

URLS = [
    "/api/v1/programs/",
    "/api/v1/villages/",
    "/api/v1/households/",
    "/api/v1/persons/",
    "/api/v1/batches/",
    "/api/v1/disbursements/",
    "/api/v1/summary/?by=village",
    "/api/v1/disbursements/export.csv",
]


@pytest.mark.parametrize("url", URLS)
def test_unchanged_data_answer_304(api, world, url):
    """Repeating a GET with the ETag gets 304 and no body."""
    first = api.get(url)
    assert first.status_code == 200 and first["ETag"] and first["Last-Modified"]
    again = api.get(url, HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304 and again.content == b""
    assert again["ETag"] == first["ETag"]


def test_publishing_a_batch_changes_the_etag(api, world):
    """Publishing the draft gives a new ETag, so caches fetch the new rows."""
    before = api.get("/api/v1/disbursements/")["ETag"]
    assert api.get("/api/v1/disbursements/")["ETag"] == before
    Batch.objects.filter(pk=world.draft.pk).update(
        status=Batch.Status.PUBLICITY, published_at=timezone.now()
    )
    response = api.get("/api/v1/disbursements/", HTTP_IF_NONE_MATCH=before)
    assert response.status_code == 200 and response["ETag"] != before


def test_finalising_a_batch_changes_the_etag(api, world):
    """A status change with no new batch still changes the ETag."""
    before = api.get("/api/v1/batches/")["ETag"]
    Batch.objects.filter(pk=world.published[1].pk).update(status=Batch.Status.FINAL)
    assert api.get("/api/v1/batches/")["ETag"] != before


def test_draft_changes_leave_the_public_etag_alone(api, world):
    """Editing a draft does not disturb anonymous caches."""
    before = api.get("/api/v1/disbursements/")["ETag"]
    world.draft.title = "改过的草稿"
    world.draft.save()
    assert api.get("/api/v1/disbursements/")["ETag"] == before


def test_etag_depends_on_the_query(api, world):
    """Different filters have different ETags."""
    one = api.get("/api/v1/disbursements/?status=paid")["ETag"]
    assert one != api.get("/api/v1/disbursements/?status=failed")["ETag"]


def test_if_modified_since_answers_304(api, world):
    """A client holding a copy as new as Last-Modified gets 304."""
    first = api.get("/api/v1/programs/")
    again = api.get("/api/v1/programs/", HTTP_IF_MODIFIED_SINCE=first["Last-Modified"])
    assert again.status_code == 304


def test_auditors_and_anonymous_callers_have_different_etags(api, auditor_api, world):
    """An auditor's view (with drafts) never shares an ETag with the public one."""
    assert api.get("/api/v1/batches/")["ETag"] != auditor_api.get("/api/v1/batches/")["ETag"]
    assert "Authorization" in api.get("/api/v1/batches/")["Vary"]


def test_last_modified_is_the_latest_change_of_a_visible_batch(api, auditor_api, world):
    """Last-Modified is the newest update or publication among the batches the caller sees."""

    def latest(batches) -> str:
        stamps = [s for b in batches for s in (b.updated_at, b.published_at) if s]
        return http_date(max(stamps).timestamp())

    Batch.objects.filter(pk=world.published[0].pk).update(published_at=timezone.now())
    assert api.get("/api/v1/batches/")["Last-Modified"] == latest(Batch.objects.published())
    assert auditor_api.get("/api/v1/batches/")["Last-Modified"] == latest(Batch.objects.all())
