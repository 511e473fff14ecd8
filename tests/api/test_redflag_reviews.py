"""Red flags an auditor can work: a stable case id per case, reviews with a note (scrubbed,
recorded, append-only), and the rows saying whether and when their case was reviewed."""

from __future__ import annotations

import hashlib
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.db import DatabaseError, transaction
from rest_framework.test import APIClient

from api.models import AUDITORS_GROUP, AuditorToken, RedFlagReview
from api.redflags import RED_FLAGS, case_id
from funds.models import AuditEntry, Batch
from tests.api.conftest import new_batch, pay

pytestmark = pytest.mark.django_db
PHONE = "13812345678"


def flagged(client, kind: str, query: str = "") -> list[dict]:
    response = client.get(f"/api/v1/redflags/{kind}/?page_size=1000&{query}")
    assert response.status_code == 200, response.content
    return response.json()["results"]


def every_case(client) -> dict[tuple[str, int], str]:
    return {(kind, r["id"]): r["case"] for kind in RED_FLAGS for r in flagged(client, kind)}


def reviews_url(kind: str, case: str) -> str:
    return f"/api/v1/redflags/{kind}/{case}/reviews/"


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


# --- Case ids ---------------------------------------------------------------------------------


def test_a_case_id_is_a_short_sha256_of_the_kind_and_the_ids_that_make_the_case(auditor_api, world):
    (mismatch,) = flagged(auditor_api, "amount_mismatch")
    assert mismatch["case"] == sha(f"amount_mismatch:{mismatch['id']}")
    for row in flagged(auditor_api, "paid_twice"):
        assert row["case"] == sha(f"paid_twice:{row['person']}/{row['program']}/{row['period']}")
    for row in flagged(auditor_api, "person_in_two_households"):
        assert row["case"] == sha(f"person_in_two_households:{row['person']}")
    for row in flagged(auditor_api, "above_rate_or_cap"):
        assert row["case"] == sha(f"above_rate_or_cap:{row['id']}")
    (young,) = flagged(auditor_api, "age_rule")
    assert young["case"] == sha(f"age_rule:{young['person']}/{young['program']}")
    assert case_id("age_rule", f"{young['person']}/{young['program']}") == young["case"]
    # A shared account's case is keyed by the account's keyed hash, which is never served.
    shared = flagged(auditor_api, "shared_account")
    assert len({r["case"] for r in shared}) == 1 and len(shared) == 3


def test_case_ids_are_stable_across_requests_and_later_unrelated_imports(auditor_api, world):
    before = every_case(auditor_api)
    assert before == every_case(auditor_api)
    # A later roster with problems of its own: new cases, and the old ones keep their ids.
    later = new_batch(
        world.programs["farm"], world.villages["north"].township, period="2026-06",
        status=Batch.Status.PUBLICITY, n=40,
    )  # fmt: skip
    household = world.households[7]
    pay(later, household.head, household, "999.00", quantity=Decimal("1"), rate=Decimal("1.00"))
    after = every_case(auditor_api)
    assert len(after) > len(before)
    assert {key: after[key] for key in before} == before


def test_a_cases_rows_are_adjacent_and_every_row_has_a_16_hex_case(auditor_api, world):
    for kind in RED_FLAGS:
        cases = [r["case"] for r in flagged(auditor_api, kind)]
        assert all(len(c) == 16 and set(c) <= set("0123456789abcdef") for c in cases)
        assert cases == sorted(cases, key=cases.index)


def test_age_rule_names_the_rule_the_bound_and_the_gap(auditor_api, world):
    (young,) = flagged(auditor_api, "age_rule")
    assert (young["rule"], young["expected"], young["gap"]) == ("min_age", "80", "-4")
    assert young["reviewed"] is False


# --- Reviewing --------------------------------------------------------------------------------


def _review(client, kind: str, case: str, note: str = "已核实，属实"):
    return client.post(reviews_url(kind, case), {"note": note}, format="json")


def test_an_auditor_marks_a_case_reviewed_with_a_note(auditor_api, world):
    (young,) = flagged(auditor_api, "age_rule")
    response = _review(auditor_api, "age_rule", young["case"], "已到民政所核对户籍")
    assert response.status_code == 201, response.content
    review = response.json()
    assert review["kind"] == "age_rule" and review["case"] == young["case"]
    assert review["username"] == "auditor" and review["note"] == "已到民政所核对户籍"
    (row,) = flagged(auditor_api, "age_rule")
    assert row["reviewed"] is True
    assert row["last_review_by"] == "auditor" and row["last_review_at"] == review["at"]
    others = [r for r in flagged(auditor_api, "paid_twice")]
    assert all(r["reviewed"] is False and r["last_review_at"] is None for r in others)


def test_a_new_review_supersedes_and_both_are_listed_newest_first(auditor_api, world):
    case = flagged(auditor_api, "amount_mismatch")[0]["case"]
    first = _review(auditor_api, "amount_mismatch", case, "待查").json()
    second = _review(auditor_api, "amount_mismatch", case, "已更正").json()
    listed = auditor_api.get(reviews_url("amount_mismatch", case))
    assert listed.status_code == 200
    assert [r["id"] for r in listed.json()["results"]] == [second["id"], first["id"]]
    (row,) = flagged(auditor_api, "amount_mismatch")
    assert row["last_review_at"] == second["at"]


def test_the_note_is_scrubbed_of_numbers_and_known_names(auditor_api, world):
    case = flagged(auditor_api, "shared_account")[0]["case"]
    note = f"欧阳娜娜本人说明，电话 {PHONE}，账号 6217001234567890123"
    review = _review(auditor_api, "shared_account", case, note).json()
    assert "欧阳*娜" in review["note"]
    for raw in ("欧阳娜娜", PHONE, "6217001234567890123"):
        assert raw not in review["note"]
        assert not RedFlagReview.objects.filter(note__contains=raw).exists()
        assert not AuditEntry.objects.filter(reason__contains=raw).exists()


def test_each_review_is_in_the_audit_record(auditor_api, world):
    case = flagged(auditor_api, "paid_twice")[0]["case"]
    review = _review(auditor_api, "paid_twice", case, "重复发放已追回").json()
    entry = AuditEntry.objects.get(kind="redflag_review")
    assert entry.username == "auditor" and entry.reason == "重复发放已追回"
    assert entry.details == {"flag": "paid_twice", "case": case}
    assert (entry.object_type, entry.object_id) == ("api.RedFlagReview", str(review["id"]))
    listed = auditor_api.get("/api/v1/audit/?kind=redflag_review").json()["results"]
    assert [e["id"] for e in listed] == [entry.pk]
    assert listed[0]["kind"] == "redflag_review" and listed[0]["kind_display"] == "复核红旗"


def test_rows_filter_on_reviewed(auditor_api, world):
    cases = {r["case"] for r in flagged(auditor_api, "paid_twice")}
    shared = flagged(auditor_api, "shared_account")[0]["case"]
    _review(auditor_api, "shared_account", shared)
    assert {r["case"] for r in flagged(auditor_api, "shared_account", "reviewed=true")} == {shared}
    assert flagged(auditor_api, "shared_account", "reviewed=false") == []
    assert {r["case"] for r in flagged(auditor_api, "paid_twice", "reviewed=false")} == cases
    assert flagged(auditor_api, "paid_twice", "reviewed=true") == []
    bad = auditor_api.get("/api/v1/redflags/paid_twice/?reviewed=maybe")
    assert bad.status_code == 400 and "reviewed" in bad.json()


# --- Refusals ---------------------------------------------------------------------------------


def test_anonymous_callers_are_401(api, auditor_api, world):
    case = flagged(auditor_api, "age_rule")[0]["case"]
    assert _review(api, "age_rule", case).status_code == 401
    assert api.get(reviews_url("age_rule", case)).status_code == 401
    assert not RedFlagReview.objects.exists()


def test_users_who_are_not_auditors_are_403(auditor_api, world, township_clerk, django_user_model):
    case = flagged(auditor_api, "age_rule")[0]["case"]
    villager = django_user_model.objects.create_user(username="villager", password="x-pass-12345")
    for user in (villager, township_clerk):  # staff read red flags, but do not close cases
        client = APIClient()
        client.force_authenticate(user)
        response = _review(client, "age_rule", case)
        assert response.status_code == 403 and "detail" in response.json()
    assert not RedFlagReview.objects.exists() and not AuditEntry.objects.exists()


def test_an_auditor_account_without_a_token_may_review(auditor_api, world, django_user_model):
    case = flagged(auditor_api, "age_rule")[0]["case"]
    member = django_user_model.objects.create_user(username="shen", password="x-pass-12345")
    member.groups.add(Group.objects.get_or_create(name=AUDITORS_GROUP)[0])
    client = APIClient()
    client.force_authenticate(member)
    assert _review(client, "age_rule", case).status_code == 201


@pytest.mark.parametrize("note", ["", "   ", None, "x" * 1001])
def test_a_missing_empty_or_overlong_note_is_a_400(auditor_api, world, note):
    case = flagged(auditor_api, "age_rule")[0]["case"]
    body = {} if note is None else {"note": note}
    response = auditor_api.post(reviews_url("age_rule", case), body, format="json")
    assert response.status_code == 400 and "note" in response.json()
    assert not RedFlagReview.objects.exists() and not AuditEntry.objects.exists()


@pytest.mark.parametrize(
    ("kind", "case"),
    [
        ("nonsense", "0123456789abcdef"),
        ("age_rule", "0123456789abcdef"),  # well formed, no such case
        ("age_rule", "not-a-case"),
        ("age_rule", "0123456789ABCDEF"),
    ],
)
def test_an_unknown_kind_or_case_is_a_json_404(auditor_api, world, kind, case):
    for response in (_review(auditor_api, kind, case), auditor_api.get(reviews_url(kind, case))):
        assert response.status_code == 404 and "detail" in response.json()
    assert not RedFlagReview.objects.exists()


def test_a_case_reviewed_then_resolved_keeps_its_reviews(auditor_api, world):
    (mismatch,) = flagged(auditor_api, "amount_mismatch")
    _review(auditor_api, "amount_mismatch", mismatch["case"], "金额有误，已更正")
    Batch.objects.filter(pk=mismatch["batch"]).update(status=Batch.Status.WITHDRAWN)
    assert flagged(auditor_api, "amount_mismatch") == []
    listed = auditor_api.get(reviews_url("amount_mismatch", mismatch["case"]))
    assert listed.status_code == 200 and len(listed.json()["results"]) == 1
    # No new review of a case that no longer stands.
    assert _review(auditor_api, "amount_mismatch", mismatch["case"]).status_code == 404


def test_reviews_are_append_only_in_the_database(auditor_api, world):
    case = flagged(auditor_api, "age_rule")[0]["case"]
    _review(auditor_api, "age_rule", case)
    with pytest.raises(DatabaseError), transaction.atomic():
        RedFlagReview.objects.update(note="改写")
    with pytest.raises(DatabaseError), transaction.atomic():
        RedFlagReview.objects.all().delete()
    assert RedFlagReview.objects.get().note == "已核实，属实"


def test_a_review_changes_the_red_flag_pages_etag(auditor_api, world):
    first = auditor_api.get("/api/v1/redflags/age_rule/")
    _review(auditor_api, "age_rule", first.json()["results"][0]["case"])
    again = auditor_api.get("/api/v1/redflags/age_rule/", HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 200 and again.json()["results"][0]["reviewed"] is True


def test_an_expired_token_cannot_review(auditor_api, world):
    case = flagged(auditor_api, "age_rule")[0]["case"]
    token = AuditorToken.objects.get()
    token.revoke()
    assert _review(auditor_api, "age_rule", case).status_code == 401


@pytest.mark.parametrize("query", ["as_of=2026-03-01T00:00:00Z", "as_of_tree_size=1"])
@pytest.mark.parametrize("url", ["/api/v1/redflags/", "/api/v1/redflags/age_rule/"])
def test_red_flags_refuse_a_moment_rather_than_ignore_it(auditor_api, world, url, query):
    """Red flags judge the rows as they stand now: a moment asked for is refused, not ignored."""
    response = auditor_api.get(f"{url}?{query}")
    assert response.status_code == 400 and query.split("=")[0] in response.json()
