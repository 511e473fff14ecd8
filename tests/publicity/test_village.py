"""The village page: filters, pagination and a query count that does not grow with rows."""

from decimal import Decimal

import pytest
from django.urls import reverse

from funds.models import Batch
from tests.factories import id_number, make_batch, make_household, make_program, make_village

pytestmark = pytest.mark.django_db


def _names(response) -> list[str]:
    return [row["name_masked"] for row in response.context["page"].object_list]


def _village_with_rows(count: int, *, start: int = 0, name: str = "大王村"):
    village = make_village(name, "新集镇")
    program = make_program("高龄津贴测试", slug="gaoling-test")
    rows = [
        (f"王{chr(0x4E00 + start + i)}明", id_number(start + i), Decimal("100.00"))
        for i in range(count)
    ]
    return village, make_batch(program, village, rows, period="2026-02")


@pytest.fixture
def two_programs():
    village = make_village("小李村", "新集镇")
    farm = make_program("耕地补贴测试", slug="farm-test")
    aged = make_program("高龄补贴测试", slug="aged-test")
    # Households in two groups; rows in two programs, two years.
    east = make_household(village, head_name="李一明", head_id=id_number(1), group="一组")
    west = make_household(village, head_name="李二明", head_id=id_number(2), group="二组")
    make_batch(farm, village, [("李一明", id_number(1), Decimal("10.00"))], period="2025-03")
    make_batch(farm, village, [("李二明", id_number(2), Decimal("20.00"))], period="2026-03")
    make_batch(aged, village, [("李一明", id_number(1), Decimal("30.00"))], period="2026-04")
    make_batch(
        aged,
        village,
        [("李二明", id_number(2), Decimal("99.00"))],
        period="2026-05",
        status=Batch.Status.DRAFT,
    )
    return village, east, west


def _get(client, village, **params):
    return client.get(reverse("publicity:village", args=[village.pk]), params)


def test_filter_form_has_the_ids_and_fields_the_browser_tests_use(client, two_programs):
    village, *_ = two_programs
    text = _get(client, village).content.decode()
    assert 'id="filters"' in text and 'id="entries"' in text and 'id="totals"' in text
    for name in ("program", "year", "period", "group"):
        assert f'name="{name}"' in text


def test_filter_choices_come_from_published_rows(client, two_programs):
    village, *_ = two_programs
    form = _get(client, village).context["filter"].form
    assert [c[0] for c in form.fields["period"].choices] == ["", "2026-04", "2026-03", "2025-03"]
    assert [c[0] for c in form.fields["group"].choices] == ["", "一组", "二组"]
    assert [c[0] for c in form.fields["year"].choices] == ["", "2026", "2025"]


def test_filter_by_program(client, two_programs):
    village, *_ = two_programs
    response = _get(client, village, program="aged-test")
    assert response.context["totals"]["amount"] == Decimal("30.00")


def test_filter_by_year(client, two_programs):
    village, *_ = two_programs
    assert _get(client, village, year="2025").context["totals"]["amount"] == Decimal("10.00")
    assert _get(client, village, year="2026").context["totals"]["amount"] == Decimal("50.00")


def test_filter_by_period(client, two_programs):
    village, *_ = two_programs
    assert _get(client, village, period="2026-03").context["totals"]["amount"] == Decimal("20.00")


def test_filter_by_group(client, two_programs):
    village, *_ = two_programs
    response = _get(client, village, group="一组")
    assert response.context["totals"]["amount"] == Decimal("40.00")
    assert set(_names(response)) == {"李*明"}
    assert response.context["totals"]["households"] == 1


def test_filters_combine(client, two_programs):
    village, *_ = two_programs
    response = _get(client, village, group="一组", year="2026")
    assert response.context["totals"]["amount"] == Decimal("30.00")


def test_unpublished_rows_are_not_in_totals_or_choices(client, two_programs):
    village, *_ = two_programs
    response = _get(client, village)
    assert response.context["totals"]["amount"] == Decimal("60.00")
    assert "2026-05" not in response.content.decode()


@pytest.mark.parametrize(
    "params", [{"program": "no-such"}, {"year": "1999"}, {"period": "'; drop"}, {"page": "x"}]
)
def test_bad_filter_values_show_a_message_not_an_error(client, two_programs, params):
    village, *_ = two_programs
    response = _get(client, village, **params)
    assert response.status_code == 200


def test_rows_are_paginated_fifty_per_page_and_keep_the_filters(client):
    village, _batch = _village_with_rows(120)
    first = _get(client, village, year="2026")
    third = _get(client, village, year="2026", page=3)
    assert len(first.context["page"].object_list) == 50
    assert len(third.context["page"].object_list) == 20
    assert "year=2026&amp;page=2" in first.content.decode()
    assert first.context["totals"]["rows"] == 120  # totals cover every page


@pytest.mark.parametrize(
    "params",
    [{}, {"program": "gaoling-test", "year": "2026", "page": "2"}],
    ids=["all", "filtered"],
)
def test_queries_do_not_grow_with_rows(client, django_assert_max_num_queries, params):
    small, _batch = _village_with_rows(10)
    with django_assert_max_num_queries(20) as captured:
        _get(client, small, **params)
    baseline = len(captured.captured_queries)
    big, _batch = _village_with_rows(200, start=10, name="大李村")
    with django_assert_max_num_queries(baseline) as captured:
        response = _get(client, big, **params)
    assert len(captured.captured_queries) == baseline
    assert len(response.context["page"].object_list) == 50


def test_household_and_batch_pages_keep_a_constant_query_count(
    client, django_assert_max_num_queries
):
    small, batch = _village_with_rows(10)
    with django_assert_max_num_queries(100) as captured:
        client.get(reverse("publicity:batch", args=[batch.pk]))
    baseline = len(captured.captured_queries)
    rows = [(f"张{chr(0x4E00 + i)}", id_number(300 + i), Decimal("5.00")) for i in range(200)]
    big = make_batch(make_program("张补贴", slug="zhang"), small, rows, period="2026-06")
    with django_assert_max_num_queries(baseline):
        client.get(reverse("publicity:batch", args=[big.pk]))
    for name in ("batch_print", "batch_kiosk"):
        with django_assert_max_num_queries(baseline):
            client.get(reverse(f"publicity:{name}", args=[big.pk]))


def test_pages_together_list_every_row_once_in_notice_order(client):
    village, _batch = _village_with_rows(120)
    seen = []
    for number in (1, 2, 3):
        page = _get(client, village, page=number).context["page"]
        seen += [(row["household__group"], row["household_id"], row["id"]) for row in page]
    assert len(seen) == 120 and len(set(seen)) == 120
    assert seen == sorted(seen)
