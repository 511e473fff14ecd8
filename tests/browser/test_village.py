"""The village page in a browser: published rows only, 50 a page, filters change rows and totals."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ROWS = "#entries tbody tr"


def _digits(text: str) -> str:
    """Drop thousands separators so 8,370.00 and 8370.00 compare equal."""
    return re.sub(r"(?<=\d)[,，](?=\d)", "", text)


def _apply_filters(page) -> None:
    """Submit the filter form, whether it submits itself on change or has a button."""
    if "program=" in page.url:
        return
    with page.expect_navigation():
        page.locator("#filters").evaluate("f => f.requestSubmit ? f.requestSubmit() : f.submit()")


def test_village_page_lists_fifty_published_rows_a_page(page, site):
    """72 published rows (60 + 12) show as 50 then 22; the draft batch's rows never show."""
    url = reverse("publicity:village", args=[site.village.pk])
    page.goto(url)
    first = page.locator(ROWS).count()
    page.goto(f"{url}?page=2")
    second = page.locator(ROWS).count()

    assert (first, second) == (50, 22)
    assert "8370.00" in _digits(page.locator("#totals").inner_text())


def test_choosing_a_program_shows_fewer_rows_and_its_own_totals(page, site):
    """Filtering by 高龄津贴 leaves its 12 rows, and the totals become 12 x 50.00."""
    page.goto(reverse("publicity:village", args=[site.village.pk]))
    totals_before = _digits(page.locator("#totals").inner_text())
    rows_before = page.locator(ROWS).count()

    page.locator("#filters [name=program]").select_option(label=site.elderly.name)
    page.wait_for_timeout(300)
    _apply_filters(page)
    totals_after = _digits(page.locator("#totals").inner_text())

    assert page.locator(ROWS).count() == 12 < rows_before
    assert totals_after != totals_before
    assert "600.00" in totals_after
    assert site.grain.name not in page.locator("#entries").inner_text()


def test_filter_form_fields_are_labelled_and_keep_their_choice(page, site):
    """Every filter control has a label, and the chosen program stays selected after filtering."""
    page.goto(reverse("publicity:village", args=[site.village.pk]))
    for name in ("program", "year", "period", "group"):
        control = page.locator(f"#filters [name={name}]")
        assert control.count() == 1, name
        assert control.evaluate("el => el.labels && el.labels.length > 0"), name

    page.locator("#filters [name=program]").select_option(label=site.elderly.name)
    page.wait_for_timeout(300)
    _apply_filters(page)

    chosen = page.locator("#filters [name=program] option:checked").inner_text()
    assert chosen.strip() == site.elderly.name


def test_a_nonsense_filter_value_is_not_a_server_error(page, site):
    """Hand-edited query strings get a page, never a 500."""
    url = reverse("publicity:village", args=[site.village.pk])
    response = page.goto(f"{url}?program=abc&year=x&page=999")

    assert response.status < 500
