"""Read-only endpoints: what anonymous callers and auditors see, and at what query cost."""

from decimal import Decimal

import pytest

from funds.models import Batch, Disbursement
from tests.api.conftest import pay
from tests.factories import unique_id_number
from villages.models import Person

pytestmark = pytest.mark.django_db

LISTS = ["programs", "townships", "villages", "households", "persons", "batches", "disbursements"]


def ids(response) -> set[int]:
    return {item["id"] for item in response.json()["results"]}


@pytest.mark.parametrize("name", LISTS)
def test_every_list_item_has_an_id(api, world, name):
    """Every list answers 200 and every item carries its id."""
    response = api.get(f"/api/v1/{name}/")
    assert response.status_code == 200
    results = response.json()["results"]
    assert results and all(isinstance(item["id"], int) for item in results)


@pytest.mark.parametrize("name", ["programs", "townships", "villages"])
def test_places_and_programs_have_names(api, world, name):
    """Programs, townships and villages are listed with their names."""
    results = api.get(f"/api/v1/{name}/").json()["results"]
    assert all(item["name"] for item in results)


def test_anonymous_callers_see_published_batches_only(api, world):
    """A draft batch, its rows, and households and persons paid only in it stay hidden."""
    assert world.draft.pk not in ids(api.get("/api/v1/batches/"))
    assert api.get(f"/api/v1/batches/{world.draft.pk}/").status_code == 404
    assert world.draft_row.pk not in ids(api.get("/api/v1/disbursements/?page_size=500"))
    assert api.get(f"/api/v1/disbursements/{world.draft_row.pk}/").status_code == 404
    hidden = world.households[-1]
    assert hidden.pk not in ids(api.get("/api/v1/households/?page_size=500"))
    assert hidden.head_id not in ids(api.get("/api/v1/persons/?page_size=500"))
    summary = api.get(f"/api/v1/summary/?by=program&batch={world.draft.pk}").json()
    assert summary["results"] == []


def test_a_member_named_only_by_a_draft_is_hidden_though_the_household_is_public(
    api, auditor_api, world
):
    """Persons are public when a published roster names them, not because their household is."""
    household = world.households[0]
    member = Person.objects.identify(
        name="韩未公",
        id_number=unique_id_number(9200),
        relation_to_head="长子",
        household=household,
    )
    pay(world.draft, member, household, "12.00")
    assert household.pk in ids(api.get("/api/v1/households/?page_size=500"))
    assert member.pk not in ids(api.get("/api/v1/persons/?page_size=500"))
    assert api.get(f"/api/v1/persons/{member.pk}/").status_code == 404
    assert member.pk in ids(auditor_api.get("/api/v1/persons/?page_size=500"))


def test_auditors_also_see_drafts(auditor_api, world):
    """Auditors see draft batches, and their rows when they ask for drafts."""
    assert world.draft.pk in ids(auditor_api.get("/api/v1/batches/"))
    url = f"/api/v1/disbursements/?batch={world.draft.pk}"
    assert auditor_api.get(url).json()["results"] == [], "published rows only, unless asked"
    rows = auditor_api.get(f"{url}&batch_status=draft").json()["results"]
    assert {row["id"] for row in rows} >= {world.draft_row.pk}


def test_person_shows_masked_values_only(api, world):
    """A person carries masked name and ID, relation and household only."""
    person = api.get("/api/v1/persons/").json()["results"][0]
    assert set(person) == {"id", "name_masked", "id_masked", "relation", "household"}
    assert "*" in person["name_masked"] and "*" in person["id_masked"]


def test_disbursement_amount_is_a_two_place_string(api, world):
    """Amounts are strings with two decimals, never floats."""
    first = world.published[0].disbursements.order_by("id").first()
    row = api.get(f"/api/v1/disbursements/{first.pk}/").json()
    assert row["amount"] == f"{first.amount:.2f}" and isinstance(row["amount"], str)
    assert {"program", "batch", "village", "household", "person", "account_masked"} <= set(row)
    assert "account_hash" not in row and "note" not in row


def test_batch_shows_source_hash_totals_and_publicity(api, world):
    """A batch shows the source file's SHA-256, its row count, total and status."""
    batch = world.published[0]
    row = api.get(f"/api/v1/batches/{batch.pk}/").json()
    assert row["source_sha256"] == batch.source_sha256
    assert row["row_count"] == batch.row_count
    assert Decimal(row["total_amount"]) == batch.total_amount
    assert row["status"] == "final" and "publicity_start" in row


@pytest.mark.parametrize(
    "url", ["/api/v1/batches/abc/", "/api/v1/disbursements/99999999999999999999999/"]
)
def test_malformed_or_unknown_ids_are_json_404s(api, world, url):
    """A malformed or out-of-range id answers a JSON 404, not a server error."""
    response = api.get(url)
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json")


@pytest.mark.parametrize("name", LISTS)
def test_lists_run_a_fixed_number_of_queries(api, world, name, django_assert_max_num_queries):
    """A list page costs the same few queries however many rows it shows."""
    batch = world.published[0]
    household = world.households[0]
    for n in range(30):  # 30 more disbursement rows of one person: a per-row query shows
        pay(
            batch,
            household.head,
            household,
            "1.00",
            is_reversal=True,
            corrects=batch.disbursements.first(),
            note=str(n),
        )
    # At most 5: the page, its persons or names, and the payment results of the page (a
    # batch's paid/failed/re-sent amounts take two).
    with django_assert_max_num_queries(5):
        response = api.get(f"/api/v1/{name}/?page_size=500")
    assert response.status_code == 200


def test_disbursement_list_never_counts_the_table(api, world):
    """The disbursement list pages by cursor and runs no COUNT(*)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        response = api.get("/api/v1/disbursements/?page_size=2")
    body = response.json()
    assert "count" not in body and body["next"]
    listing = [q["sql"] for q in queries.captured_queries if "funds_disbursement" in q["sql"]]
    assert listing and not any("COUNT(" in sql.upper() for sql in listing)


def test_cursor_pages_walk_every_published_row_once(api, world):
    """Following next links visits each published row exactly once, in order."""
    seen, url = [], "/api/v1/disbursements/?page_size=3&ordering=-amount"
    while url:
        body = api.get(url).json()
        seen += [row["id"] for row in body["results"]]
        url = body["next"]
    published = Disbursement.objects.published()
    assert sorted(seen) == sorted(published.values_list("id", flat=True))
    assert len(seen) == len(set(seen))


def test_a_page_holds_at_most_500_rows_and_a_larger_size_is_refused(api, world):
    """A page never holds more than 500 rows: page_size=500 gives 500, a larger size is a 400
    naming the limit (the schema's maximum), not silently capped."""
    batch = world.published[0]
    household = world.households[0]
    orig = batch.disbursements.first()
    Disbursement.objects.bulk_create(
        Disbursement(
            batch=batch,
            program=batch.program,
            period=batch.period,
            village=household.village,
            household=household,
            person=household.head,
            amount=Decimal("-1.00"),
            is_reversal=True,
            corrects=orig,
            origin_row=orig.pk,
        )
        for _ in range(520)
    )
    body = api.get("/api/v1/disbursements/?page_size=500").json()
    assert len(body["results"]) == 500 and body["next"]
    refused = api.get("/api/v1/disbursements/?page_size=100000")
    assert refused.status_code == 400 and "500" in refused.json()["page_size"][0]


def test_draft_batches_never_leak_through_status_filter(api, world):
    """Asking for draft rows anonymously returns nothing."""
    response = api.get("/api/v1/disbursements/?batch_status=draft")
    assert response.status_code == 200 and response.json()["results"] == []
    assert Batch.objects.filter(status="draft").exists()


def test_the_api_root_is_an_index_of_the_endpoints(api):
    """/api/v1/ answers JSON naming every endpoint with its URL and the docs, not an HTML 404."""
    response = api.get("/api/v1/")
    assert response.status_code == 200 and response["Content-Type"].startswith("application/json")
    body = response.json()
    names = {entry["name"] for entry in body["endpoints"]}
    assert {"disbursements", "summary", "batches", "redflags", "audit", "log-checkpoint"} <= names
    for entry in body["endpoints"]:
        assert entry["url"].startswith("http://testserver/api/v1/") and entry["description"]
    assert body["docs"].endswith("/api/docs/") and body["schema"].endswith("/api/schema/")


@pytest.mark.parametrize(
    "url", ["/api/v1/programs/999999/", "/api/v1/nope/", "/api/v1/batches/999999/provenance/"]
)
@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_not_found_is_json_in_one_language(auditor_api, world, url, language):
    """A 404 is JSON, and its message is the API's own in the caller's language, not Django's
    English "No Program matches the given query." nor the site's HTML page."""
    response = auditor_api.get(url, HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json")
    detail = response.json()["detail"]
    assert detail == ("未找到。" if language == "zh-hans" else "Not found.")


def test_a_path_missing_its_slash_still_reaches_its_endpoint(api, world):
    response = api.get("/api/v1/programs")
    assert response.status_code == 301 and response["Location"].endswith("/api/v1/programs/")
