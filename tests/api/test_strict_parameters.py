"""Strict where it should refuse: a parameter the API does not know, a repeated filter, a bad
ordering, page or page size, an amount out of range — each a 400 in JSON naming it."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("url", "parameter"),
    [
        ("/api/v1/summary/?by=village&year=2026", "year"),
        ("/api/v1/disbursements/?programme=1", "programme"),
        ("/api/v1/batches/?status=final&colour=red", "colour"),
        ("/api/v1/disbursements/export.csv?bogus=1", "bogus"),
        ("/api/v1/disbursements/?ordering=bogus", "ordering"),
        ("/api/v1/disbursements/?ordering=amount,person__name_masked", "ordering"),
        ("/api/v1/summary/?by=village&page=abc", "page"),
        ("/api/v1/summary/?by=village&page=0", "page"),
        ("/api/v1/summary/?by=village&page_size=abc", "page_size"),
        ("/api/v1/summary/?by=village&page_size=-1", "page_size"),
        ("/api/v1/programs/?page_size=0", "page_size"),
        ("/api/v1/disbursements/?program=1&program=2", "program"),
        ("/api/v1/disbursements/?amount_min=1e400", "amount_min"),
        ("/api/v1/disbursements/?amount_max=NaN", "amount_max"),
    ],
)
def test_a_parameter_the_api_cannot_honour_is_a_400_naming_it(api, world, url, parameter):
    refused(api.get(url), parameter)


def refused(response, parameter: str) -> None:
    """RESPONSE is a 400 in JSON with one message for PARAMETER."""
    assert response.status_code == 400, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert parameter in body and len(body[parameter]) == 1, body


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/summary/?by=village&page=1&page_size=10",
        "/api/v1/disbursements/?ordering=-amount&page_size=5&program=1",
        "/api/v1/programs/?page=1",
        "/api/v1/disbursements/?format=json",
    ],
)
def test_what_the_api_documents_is_still_accepted(api, world, url):
    assert api.get(url).status_code == 200


def test_auditors_get_the_same_refusals(world, auditor_key):
    from tests.api.test_access import as_token

    response = as_token(auditor_key).get("/api/v1/redflags/?kind=x")
    assert response.status_code == 400 and "kind" in response.json()


# Everything the schema (/api/schema/) excludes is refused, so that schemathesis' negative data
# check holds: an empty value, a bound passed, a number or date written another way.
OUT_OF_SCHEMA = [
    # An empty value: a question not asked is left out, not sent empty.
    ("/api/v1/disbursements/?amount_min=", "amount_min"),
    ("/api/v1/disbursements/?program=&village=1", "program"),
    ("/api/v1/disbursements/?cursor=", "cursor"),
    ("/api/v1/disbursements/?ordering=", "ordering"),
    ("/api/v1/summary/?by=", "by"),
    ("/api/v1/summary/?batch_status=", "batch_status"),
    ("/api/v1/audit/?user=", "user"),
    ("/api/v1/programs/?page=", "page"),
    ("/api/v1/log/consistency?first=&second=2", "first"),
    # Page sizes and numbers past their declared maximum.
    ("/api/v1/disbursements/?page_size=501", "page_size"),
    ("/api/v1/programs/?page_size=501", "page_size"),
    ("/api/v1/summary/?page_size=1001", "page_size"),
    ("/api/v1/redflags/paid_twice/?page_size=1001", "page_size"),
    ("/api/v1/programs/?page=1000001", "page"),
    ("/api/v1/programs/?page=%C2%B2", "page"),  # a superscript two: isdigit() says yes
    # Integers written as anything but plain ASCII digits.
    ("/api/v1/disbursements/?program=1.0", "program"),
    ("/api/v1/disbursements/?program=%201", "program"),
    ("/api/v1/disbursements/?program=%D9%A1", "program"),  # Arabic-Indic one
    ("/api/v1/disbursements/?program=9223372036854775808", "program"),
    ("/api/v1/disbursements/1/proof/?tree_size=1.0", "tree_size"),
    ("/api/v1/log/consistency?first=1.0&second=2", "first"),
    # Amounts outside the declared pattern.
    ("/api/v1/disbursements/?amount_min=1e3", "amount_min"),
    ("/api/v1/disbursements/?amount_min=%2012", "amount_min"),
    ("/api/v1/disbursements/?amount_min=12%0A", "amount_min"),
    ("/api/v1/disbursements/?amount_min=.5", "amount_min"),
    ("/api/v1/disbursements/?amount_min=%2B5", "amount_min"),
    # Periods, dates and times in any other spelling.
    ("/api/v1/disbursements/?period_after=2026-03%0A", "period_after"),
    ("/api/v1/disbursements/?period_after=%202026-03", "period_after"),
    ("/api/v1/disbursements/?pay_date_after=2026-3-1", "pay_date_after"),
    ("/api/v1/disbursements/?pay_date_after=03/01/2026", "pay_date_after"),
    ("/api/v1/disbursements/?pay_date_after=20260301", "pay_date_after"),
    ("/api/v1/disbursements/?as_of=2026-03-01", "as_of"),
    ("/api/v1/disbursements/?as_of=2026-03-01%2008:00:00Z", "as_of"),
    ("/api/v1/disbursements/?as_of=2026-03-01T08:00:00", "as_of"),
    ("/api/v1/disbursements/?as_of=2026-03-01T08:00:60Z", "as_of"),
    ("/api/v1/audit/?since=2026-03-01T08:00:00%2B24:00", "since"),
    # Orderings the schema does not list.
    ("/api/v1/disbursements/?ordering=amount,%20id", "ordering"),
    ("/api/v1/disbursements/?ordering=id,id", "ordering"),
    # Free text longer than declared.
    ("/api/v1/audit/?user=" + "a" * 151, "user"),
]


@pytest.mark.parametrize(("url", "parameter"), OUT_OF_SCHEMA)
def test_a_value_outside_the_schema_is_a_400_naming_it(auditor_api, world, url, parameter):
    refused(auditor_api.get(url), parameter)


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/programs/1/?page=2",
        "/api/v1/disbursements/1/?program=1",
        "/api/v1/batches/1/provenance/?page_size=5",
    ],
)
def test_a_single_record_takes_no_list_parameters(auditor_api, world, url):
    """A detail path documents no filters or pages, so it takes none (DRF would filter it)."""
    response = auditor_api.get(url)
    assert response.status_code == 400, response.content
    assert set(response.json()) == {url.rsplit("?", 1)[1].split("=")[0]}


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/disbursements/?page_size=500",
        "/api/v1/programs/?page_size=500&page=1000000",
        "/api/v1/summary/?page_size=1000",
        "/api/v1/disbursements/?ordering=-amount,id",
        "/api/v1/disbursements/?amount_min=-0&amount_max=999999999999.99",
        "/api/v1/disbursements/?as_of=2026-03-01t08:00:00.1234567890z",
        "/api/v1/disbursements/?as_of=2026-12-31T23:59:60Z",  # a leap second
        "/api/v1/disbursements/?as_of=2027-01-01T07:59:60%2B08:00",
        "/api/v1/disbursements/?as_of=0000-01-01T00:00:00%2B23:59",  # before any record
        "/api/v1/disbursements/?as_of=9999-12-31T23:59:59-23:59",  # after every record
        "/api/v1/disbursements/?pay_date_after=0000-01-01&pay_date_before=9999-12-31",
        "/api/v1/audit/?since=0001-01-01T00:00:00%2B14:00",
        "/api/v1/disbursements/?program=9223372036854775807",
        "/api/v1/log/consistency?first=1&second=2",  # 404 while the log is empty, not 400
    ],
)
def test_a_value_the_schema_admits_is_served(auditor_api, world, url):
    response = auditor_api.get(url)
    assert response.status_code in (200, 404), response.content
    if response.status_code == 404:
        assert "first" not in response.json()


@pytest.mark.parametrize(
    ("language", "message"),
    [
        ("zh-hans", "每页条数应为 1 到 500 之间的整数。"),
        ("en", "The page size must be a whole number from 1 to 500."),
    ],
)
def test_a_refusal_names_the_limit_in_the_callers_language(api, world, language, message):
    response = api.get("/api/v1/disbursements/?page_size=501", HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 400
    assert message in response.json()["page_size"][0]


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_an_empty_value_is_refused_in_the_callers_language(api, world, language):
    response = api.get("/api/v1/disbursements/?program=", HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 400
    text = response.json()["program"][0]
    assert ("省略" in text) if language == "zh-hans" else ("leave the parameter out" in text)
