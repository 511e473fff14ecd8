"""The change feed: publications, corrections, withdrawals and finalisations of what is public,
read from the append-only audit record, in keyset pages, with who and when."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from urllib.parse import quote

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from funds.models import AuditEntry, Batch
from funds.publishing import (
    Replacement,
    correct_batch,
    finalize_batch,
    publish_batch,
    withdraw_batch,
)
from tests.factories import make_batch, make_program, make_village, person_name, unique_id_number

pytestmark = pytest.mark.django_db
URL = "/api/v1/changes/"
PHONE = "13812345678"


def _draft(program, village, numbers, names=None, period="2026-03") -> Batch:
    names = names or [person_name(n) for n in numbers]
    rows = [
        (x, unique_id_number(n), Decimal("100.00")) for x, n in zip(names, numbers, strict=True)
    ]
    return make_batch(program, village, rows, status=Batch.Status.DRAFT, period=period)


@pytest.fixture
def changes(townships, township_clerk, county_clerk):
    """A published in 东乡镇 and later corrected and finalised; B published in 西乡镇 and
    withdrawn; a draft withdrawn without ever being public."""
    east, west = make_village("东村", "东乡镇"), make_village("西村", "西乡镇")
    farm, elder = make_program("耕地测试"), make_program("高龄测试")
    a = _draft(farm, east, range(3))
    publish_batch(batch=a, user=township_clerk, start=date(2026, 1, 5), days=1)
    b = _draft(elder, west, range(10, 12), names=["欧阳娜娜", "司马光明"])
    publish_batch(batch=b, user=county_clerk)
    row = a.disbursements.order_by("id").first()
    c = correct_batch(
        original=a, changes={row.pk: Replacement(Decimal("1.00"))}, user=township_clerk,
        source_name="c.xlsx", source_sha256="c" * 64, reason="金额有误",
    )  # fmt: skip
    publish_batch(batch=c, user=township_clerk)
    d = _draft(farm, east, range(20, 21))
    withdraw_batch(batch=d, user=township_clerk, reason="传错了")
    withdraw_batch(batch=b, user=county_clerk, reason=f"欧阳娜娜户重复，电话 {PHONE}")
    finalize_batch(batch=a, user=county_clerk)
    return {"a": a, "b": b, "c": c, "d": d, "farm": farm, "elder": elder}


def _entries(client, query: str = "") -> list[dict]:
    response = client.get(f"{URL}?{query}")
    assert response.status_code == 200, response.content
    return response.json()["results"]


def _kinds(entries) -> list[tuple[str, int]]:
    return [(e["kind"], e["batch"]["id"]) for e in entries]


def test_public_changes_newest_first(api, changes):
    a, b, c = changes["a"], changes["b"], changes["c"]
    entries = _entries(api)
    assert _kinds(entries) == [
        ("finalisation", a.pk),
        ("withdrawal", b.pk),
        ("correction", c.pk),
        ("publication", b.pk),
        ("publication", a.pk),
    ]
    times = [e["at"] for e in entries]
    assert times == sorted(times, reverse=True)
    assert changes["d"].pk not in {e["batch"]["id"] for e in entries}, "never public"


def test_oldest_first_on_request(api, changes):
    assert [e["kind"] for e in _entries(api, "ordering=at")] == [
        "publication", "publication", "correction", "withdrawal", "finalisation",
    ]  # fmt: skip


def test_each_entry_names_its_batch_as_it_stands_now(api, changes):
    a, c = changes["a"], changes["c"]
    entries = {(e["kind"], e["batch"]["id"]): e for e in _entries(api)}
    first = entries[("publication", a.pk)]
    assert first["batch"] == {
        "id": a.pk, "title": a.title, "program": changes["farm"].pk, "period": a.period,
        "township": a.township_id, "status": "final",
    }  # fmt: skip
    assert first["corrects"] is None and first["reason"] == ""
    correction = entries[("correction", c.pk)]
    assert correction["corrects"]["id"] == a.pk and correction["corrects"]["status"] == "final"
    assert correction["reason"] == "金额有误"
    assert entries[("withdrawal", changes["b"].pk)]["batch"]["status"] == "withdrawn"


def test_a_withdrawal_gives_its_reason_scrubbed(api, changes):
    (withdrawal,) = _entries(api, "kind=withdrawal")
    assert PHONE not in withdrawal["reason"] and "欧阳娜娜" not in withdrawal["reason"]
    assert "欧阳*娜" in withdrawal["reason"] and "重复" in withdrawal["reason"]


def test_anonymous_callers_see_the_office_not_the_account(api, changes):
    entries = _entries(api)
    assert {e["batch"]["id"]: e["who"] for e in entries if e["kind"] == "publication"} == {
        changes["a"].pk: {"role": "township_staff", "office": "东乡镇"},
        changes["b"].pk: {"role": "county_staff", "office": "甲县"},
    }
    assert all("username" not in e["who"] for e in entries)
    assert "dong" not in str(entries) and "jiaxian" not in str(entries)


def test_auditors_see_the_account_too(auditor_api, changes):
    entries = _entries(auditor_api)
    assert [e["who"]["username"] for e in entries] == [
        "jiaxian",
        "jiaxian",
        "dong",
        "jiaxian",
        "dong",
    ]
    assert entries[0]["who"]["role"] == "county_staff"


def test_an_act_without_an_account_is_the_systems(api, townships):
    batch = _draft(make_program(), make_village("东村", "东乡镇"), range(30, 31))
    publish_batch(batch=batch)
    (entry,) = _entries(api)
    assert entry["who"] == {"role": "system", "office": ""}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("kind=publication", [("publication", "b"), ("publication", "a")]),
        ("kind=correction", [("correction", "c")]),
        ("kind=finalisation", [("finalisation", "a")]),
        ("batch={b}", [("withdrawal", "b"), ("publication", "b")]),
        ("township={west}", [("withdrawal", "b"), ("publication", "b")]),
        ("program={elder}", [("withdrawal", "b"), ("publication", "b")]),
        ("program={farm}&kind=publication", [("publication", "a")]),
    ],
)
def test_filters(api, changes, townships, query, expected):
    ids = {"b": changes["b"].pk, "west": townships["西乡镇"].pk}
    ids |= {"elder": changes["elder"].pk, "farm": changes["farm"].pk}
    names = {changes[k].pk: k for k in "abc"}
    found = [(kind, names[batch]) for kind, batch in _kinds(_entries(api, query.format(**ids)))]
    assert found == expected


def test_since_and_until(api, changes):
    entries = _entries(api, "ordering=at")
    third = entries[2]["at"]
    since = [e["kind"] for e in _entries(api, f"ordering=at&since={quote(third)}")]
    until = [e["kind"] for e in _entries(api, f"ordering=at&until={quote(third)}")]
    assert since == ["correction", "withdrawal", "finalisation"]
    assert until == ["publication", "publication"]
    later = quote((timezone.now() + timedelta(days=1)).isoformat())
    assert _entries(api, f"since={later}") == []


@pytest.mark.parametrize("ordering", ["at", "-at"])
def test_cursor_pages_visit_every_entry_once_both_ways(api, changes, ordering):
    everything = [e["id"] for e in _entries(api, f"ordering={ordering}")]
    seen, url, pages = [], f"{URL}?ordering={ordering}&page_size=2", []
    while url:
        body = api.get(url).json()
        seen += [e["id"] for e in body["results"]]
        pages.append(body)
        url = body["next"]
    assert seen == everything and len(pages) == 3
    back = api.get(pages[-1]["previous"]).json()
    assert [e["id"] for e in back["results"]] == everything[2:4]


def test_entries_at_the_same_moment_keep_a_total_order(api, changes):
    # Two entries recorded at one moment: the cursor breaks the tie by id.
    at = AuditEntry.objects.filter(kind="publish").order_by("id").first().at
    AuditEntry.objects.create(kind="publish", batch=changes["b"], at=at)
    AuditEntry.objects.create(kind="publish", batch=changes["c"], at=at)
    everything = [e["id"] for e in _entries(api)]
    seen, url = [], f"{URL}?page_size=1"
    while url:
        body = api.get(url).json()
        seen += [e["id"] for e in body["results"]]
        url = body["next"]
    assert seen == everything and len(seen) == len(set(seen)) == 7


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("cursor=bm90LWEtY3Vyc29y", "cursor"),
        ("kind=correct", "kind"),
        ("kind=upload", "kind"),
        ("ordering=amount", "ordering"),
        ("since=yesterday", "since"),
        ("township=abc", "township"),
        ("page_size=0", "page_size"),
        ("user=dong", "user"),
    ],
)
def test_bad_parameters_are_a_400_in_json(api, changes, query, parameter):
    response = api.get(f"{URL}?{query}")
    assert response.status_code == 400 and response["Content-Type"] == "application/json"
    assert parameter in response.json()


def test_an_edited_cursor_is_a_400(api, changes):
    link = api.get(f"{URL}?page_size=2").json()["next"]
    cursor = link.split("cursor=")[1].split("&")[0]
    response = api.get(link.replace(cursor, cursor[:-3] + "AAA"))
    assert response.status_code == 400 and "cursor" in response.json()
    other = api.get(link.replace("page_size=2", "page_size=2&ordering=at"))
    assert other.status_code == 400 and "cursor" in other.json()


def test_a_page_is_one_query_whatever_its_length(
    changes, township_clerk, django_assert_max_num_queries
):
    client = APIClient()
    for n in range(12):
        village = make_village("东村", "东乡镇")
        batch = _draft(changes["farm"], village, range(40 + n, 41 + n), period=f"2025-{n + 1:02}")
        publish_batch(batch=batch, user=township_clerk)
    # The page (entries with their batch, corrected batch, township and role) and the ETag's
    # aggregate of the batches.
    with django_assert_max_num_queries(2):
        entries = _entries(client, "page_size=100")
    assert len(entries) == 17


def test_the_index_lists_the_feed(api, db):
    names = {e["name"]: e["url"] for e in api.get("/api/v1/").json()["endpoints"]}
    assert names["changes"].endswith("/api/v1/changes/")
