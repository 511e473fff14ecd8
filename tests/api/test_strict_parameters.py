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
    response = api.get(url)
    assert response.status_code == 400, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert parameter in body and len(body[parameter]) == 1, body


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/summary/?by=village&page=1&page_size=10",
        "/api/v1/disbursements/?ordering=-amount&page_size=5&program=1",
        "/api/v1/disbursements/?amount_min=&period_after=",  # empty means no filter
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
