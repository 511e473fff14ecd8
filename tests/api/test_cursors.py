"""Cursor pages are total orders: every row once under any ordering; a bad cursor is a 400."""

from __future__ import annotations

import base64
from datetime import date
from decimal import Decimal

import pytest
from django.core.cache import cache
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from funds.models import Batch, Disbursement
from tests.api.conftest import new_batch, pay
from tests.factories import make_household, make_program, make_village, unique_id_number

pytestmark = pytest.mark.django_db

ORDERINGS = ["id", "-id", "amount", "-amount", "period", "-period", "pay_date", "-pay_date"]


@pytest.fixture
def ties():
    """60 published rows: many share a period and an amount; a third have no pay date."""
    program = make_program("游标测试")
    village = make_village("游标村")
    batches = [
        new_batch(program, village.township, period=p, status=Batch.Status.PUBLICITY, n=i)
        for i, p in enumerate(["2026-03", "2026-04"])
    ]
    for n in range(60):
        household = make_household(village, head_name=f"户主{n}", head_id=unique_id_number(n))
        pay(
            batches[n % 2] if n < 50 else batches[0], household.head, household,
            Decimal("100.00") if n % 3 else Decimal("55.50"),
            pay_date=None if n % 3 == 0 else date(2026, 3, 1 + n % 2),
        )  # fmt: skip
    return Disbursement.objects.published()


def _walk(api, url: str, key: str = "next") -> list[int]:
    seen: list[int] = []
    for _ in range(100):  # a loop that never ends is the defect itself
        response = api.get(url)
        assert response.status_code == 200, response.content
        body = response.json()
        seen += [row["id"] for row in body["results"]]
        url = body[key]
        if not url:
            return seen
    raise AssertionError("the next links never end")


@pytest.mark.parametrize("ordering", ORDERINGS)
def test_following_next_visits_every_row_once_in_order(api, ties, ordering):
    seen = _walk(api, f"/api/v1/disbursements/?ordering={ordering}&page_size=7")
    assert len(seen) == len(set(seen)) == ties.count()
    field = ordering.lstrip("-")
    values = {d["id"]: d[field] for d in ties.values("id", field)}
    keys = [values[i] for i in seen]
    present = [k for k in keys if k is not None]
    assert present == sorted(present, reverse=ordering.startswith("-"))
    if field == "pay_date":  # rows without a date come last ascending, first descending
        nulls = [k is None for k in keys]
        assert nulls == sorted(nulls, reverse=ordering.startswith("-"))


@pytest.mark.parametrize("ordering", ["period", "-pay_date", "amount"])
def test_previous_walks_back_over_the_same_rows(api, ties, ordering):
    url = f"/api/v1/disbursements/?ordering={ordering}&page_size=9"
    forward = _walk(api, url)
    last = url
    for _ in range(100):
        body = api.get(last).json()
        if not body["next"]:
            break
        last = body["next"]
    backward_pages = []
    body = api.get(last).json()
    backward_pages.append([row["id"] for row in body["results"]])
    while body["previous"]:
        body = api.get(body["previous"]).json()
        backward_pages.append([row["id"] for row in body["results"]])
    assert [i for page in reversed(backward_pages) for i in page] == forward


@pytest.mark.parametrize(
    "cursor",
    ["abc", "cD0yMDI2LTAz", base64.urlsafe_b64encode(b"o=76&p=None").decode(), "%00", "x" * 500],
)
def test_a_forged_or_broken_cursor_is_a_400_in_json(api, ties, cursor):
    response = api.get(f"/api/v1/disbursements/?cursor={cursor}")
    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/json")
    assert "cursor" in response.json()


def test_a_cursor_edited_by_one_character_is_refused(api, ties):
    next_url = api.get("/api/v1/disbursements/?page_size=5").json()["next"]
    cursor = next_url.split("cursor=")[1].split("&")[0]
    flipped = cursor[:-3] + ("A" if cursor[-3] != "A" else "B") + cursor[-2:]
    response = api.get(f"/api/v1/disbursements/?page_size=5&cursor={flipped}")
    assert response.status_code == 400


def test_a_cursor_of_another_ordering_is_refused(api, ties):
    next_url = api.get("/api/v1/disbursements/?page_size=5&ordering=amount").json()["next"]
    cursor = next_url.split("cursor=")[1].split("&")[0]
    response = api.get(f"/api/v1/disbursements/?page_size=5&ordering=period&cursor={cursor}")
    assert response.status_code == 400


@pytest.mark.parametrize("size", ["abc", "0", "-1", "1.5"])
def test_a_bad_page_size_is_a_400(api, ties, size):
    response = api.get(f"/api/v1/disbursements/?page_size={size}")
    assert response.status_code == 400 and "page_size" in response.json()


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(ordering=st.sampled_from(ORDERINGS), size=st.integers(min_value=1, max_value=25))
def test_every_ordering_and_page_size_walks_to_the_end_once(api, ties, ordering, size):
    """Property: under any ordering and page size, following next visits each row exactly once
    and following previous from the last page comes back over the same rows."""
    cache.clear()  # the examples share one test: each starts with an empty rate limit
    url = f"/api/v1/disbursements/?ordering={ordering}&page_size={size}"
    pages, body = [], api.get(url).json()
    pages.append([row["id"] for row in body["results"]])
    while body["next"]:
        body = api.get(body["next"]).json()
        pages.append([row["id"] for row in body["results"]])
    seen = [i for page in pages for i in page]
    assert len(seen) == len(set(seen)) == ties.count()
    assert all(len(page) == size for page in pages[:-1])
    back = [[row["id"] for row in body["results"]]]
    while body["previous"]:
        body = api.get(body["previous"]).json()
        back.append([row["id"] for row in body["results"]])
    assert [i for page in reversed(back) for i in page] == seen
