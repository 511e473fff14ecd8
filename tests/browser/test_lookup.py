"""The villagers' lookup in a real browser: POST form, masked answer, neutral misses."""

from __future__ import annotations

import pytest
from django.urls import reverse

from privacy import personal

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _look_up(page, *, name: str, id_number: str, year: str = "") -> str:
    page.goto(reverse("publicity:lookup"))
    page.fill("#id_name", name)
    page.fill("#id_id_number", id_number)
    if year:
        year_field = page.locator("#id_year")
        if year_field.evaluate("el => el.tagName") == "SELECT":
            year_field.select_option(year)
        else:
            year_field.fill(year)
    form = page.locator("form:has(#id_id_number)")
    with page.expect_navigation():
        form.locator("button[type=submit], input[type=submit]").first.click()
    # A match fills section#lookup-result; no match shows the neutral section#lookup-none.
    return page.locator("section#lookup-result, section#lookup-none").first.inner_text()


def test_right_name_and_id_show_the_households_entries_masked(page, site):
    """A villager who types their name and ID sees their entries, masked, with a total."""
    result = _look_up(page, name=site.lookup_name, id_number=site.lookup_id)

    assert personal.mask_id_number(site.lookup_id) in result
    assert personal.mask_name(site.lookup_name) in result
    assert site.grain.name in result
    assert "100.00" in result
    assert site.lookup_id not in page.content()
    assert site.lookup_name not in result


def test_the_id_number_never_reaches_the_url(page, site):
    """The lookup is a POST: neither the ID nor its tail shows up in the address bar."""
    _look_up(page, name=site.lookup_name, id_number=site.lookup_id, year="2026")

    for needle in (site.lookup_id, site.lookup_id[-8:], site.lookup_id[:6]):
        assert needle not in page.url


def test_wrong_name_gives_the_same_neutral_answer_as_an_unknown_id(page, site):
    """A wrong name must not reveal that the ID number is known."""
    wrong_name = _look_up(page, name="查无此人", id_number=site.lookup_id)
    unknown_id = _look_up(page, name=site.lookup_name, id_number=_other_id())

    assert wrong_name.strip()
    assert wrong_name == unknown_id
    assert page.locator("section#lookup-result").count() == 0
    assert personal.mask_id_number(site.lookup_id) not in wrong_name
    assert "100.00" not in wrong_name


def test_an_invalid_id_number_is_refused_without_an_error_page(page, site):
    """A malformed ID is answered on the form, not with a server error."""
    page.goto(reverse("publicity:lookup"))
    page.fill("#id_name", site.lookup_name)
    page.fill("#id_id_number", "12345")
    # form.submit() skips any client-side pattern check, so the server must answer itself.
    with page.expect_navigation() as nav:
        page.locator("form:has(#id_id_number)").evaluate("f => f.submit()")

    assert nav.value.status < 500
    assert page.locator("#id_id_number").count() == 1
    assert "12345" not in page.url


def _other_id() -> str:
    """Return a valid ID number that no seeded person has."""
    from tests.factories import unique_id_number

    return unique_id_number(99_999)
