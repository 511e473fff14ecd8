"""The audit record through the API: auditors (token) and holders of funds.view_auditentry
read it, filtered by township, batch, user, kind and time, newest first, in cursor pages."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from api.models import AuditorToken
from funds import audit
from funds.models import AuditEntry

pytestmark = pytest.mark.django_db
URL = "/api/v1/audit/"


@pytest.fixture
def entries(townships, staff_user, township_clerk):
    east, west = townships["东乡镇"], townships["西乡镇"]
    made = [
        audit.record(audit.Kind.UPLOAD, user=township_clerk, township=east),
        audit.record(audit.Kind.PUBLISH, user=township_clerk, township=east, reason="按期公示"),
        audit.record(audit.Kind.WITHDRAW, user=staff_user, township=west, reason="重复"),
        audit.record(audit.Kind.TOKEN_ISSUE, user=staff_user, prefix="abcd1234"),
    ]
    return made


@pytest.fixture
def auditor_api(auditor):
    _token, key = AuditorToken.objects.issue(user=auditor, days=1)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def ids(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


def test_anonymous_and_staff_without_the_permission_are_refused(entries, township_clerk):
    assert APIClient().get(URL).status_code in (401, 403)
    client = APIClient()
    client.force_authenticate(township_clerk)
    assert client.get(URL).status_code == 403


def test_an_auditor_reads_the_record_newest_first(auditor_api, entries):
    response = auditor_api.get(URL)
    assert ids(response) == [e.pk for e in reversed(entries)]
    first = response.json()["results"][0]
    assert first["kind"] == "token_issue" and first["username"] == "staff"
    assert first["details"] == {"prefix": "abcd1234"}


def test_staff_with_the_permission_read_it_too(client, staff_user, entries):
    client.force_login(staff_user)
    assert client.get(URL).status_code == 200


def test_filters_by_township_user_kind_and_time(auditor_api, entries, townships):
    east = townships["东乡镇"]
    assert ids(auditor_api.get(URL, {"township": east.pk})) == [entries[1].pk, entries[0].pk]
    assert ids(auditor_api.get(URL, {"user": "staff"})) == [entries[3].pk, entries[2].pk]
    assert ids(auditor_api.get(URL, {"kind": "withdraw"})) == [entries[2].pk]
    future = (timezone.now() + timedelta(hours=1)).isoformat()
    assert ids(auditor_api.get(URL, {"since": future})) == []
    assert len(ids(auditor_api.get(URL, {"until": future}))) == 4
    assert auditor_api.get(URL, {"kind": "nonsense"}).status_code == 400
    assert auditor_api.get(URL, {"since": "yesterday"}).status_code == 400


def test_filters_by_batch(auditor_api, staff_user):
    from tests.funds.test_audit import batch_in

    batch = batch_in()
    mine = audit.record(audit.Kind.FINALISE, user=staff_user, batch=batch)
    audit.record(audit.Kind.FINALISE, user=staff_user)
    assert ids(auditor_api.get(URL, {"batch": batch.pk})) == [mine.pk]


def test_pages_follow_a_cursor(auditor_api, entries):
    page = auditor_api.get(URL, {"page_size": 3}).json()
    assert len(page["results"]) == 3 and page["next"]
    rest = auditor_api.get(page["next"]).json()
    assert [r["id"] for r in rest["results"]] == [entries[0].pk]


def test_the_api_cannot_write(auditor_api, entries):
    assert auditor_api.post(URL, {"kind": "publish"}).status_code == 405
    assert auditor_api.delete(f"{URL}{entries[0].pk}/").status_code == 405
    assert AuditEntry.objects.count() == 4


@pytest.mark.parametrize("params", [{"user": "a\x00b"}, {"township": "0"}])
def test_filter_values_out_of_range_are_a_400_not_an_error(auditor_api, params):
    assert auditor_api.get(URL, params).status_code == 400


@pytest.mark.parametrize(
    "params",
    [{"since": "0001-01-01T00:00:00+14:00"}, {"until": "9999-12-31T23:59:59-14:00"}],
)
def test_a_time_beyond_what_python_holds_is_the_earliest_or_latest(auditor_api, entries, params):
    """A valid RFC 3339 time before year 1 or after 9999 in UTC (the schema admits it) is
    served: before or after every record."""
    response = auditor_api.get(URL, params)
    assert response.status_code == 200
    assert len(ids(response)) == 4


def test_a_time_with_an_offset_postgresql_does_not_know_is_read_in_utc(auditor_api, entries):
    """Python accepts offsets up to ±24 hours; PostgreSQL refuses those past ±16."""
    response = auditor_api.get(URL, {"since": "2000-02-23T11:04:49-17:57"})
    assert len(ids(response)) == 4
