"""Keyboard use: the skip link comes first and works; Tab reaches the lookup form."""

from __future__ import annotations

import pytest
from django.urls import reverse

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ACTIVE_ID = "() => document.activeElement && document.activeElement.id"


def test_first_tab_focuses_a_visible_skip_link_that_jumps_to_main(page, site):
    """The first Tab shows the skip link on screen; Enter moves to the main content."""
    page.goto(reverse("publicity:lookup"))
    page.keyboard.press("Tab")
    skip = page.locator("a.skip")

    assert page.evaluate("() => document.activeElement.classList.contains('skip')")
    box = skip.bounding_box()
    assert box and box["x"] >= 0 and box["y"] >= 0, "skip link stays off-screen when focused"
    page.keyboard.press("Enter")
    assert page.evaluate("() => location.hash") == "#main"


def test_tab_reaches_the_lookup_fields_in_order(page, site):
    """Name, then ID number, then year are reachable with Tab alone."""
    page.goto(reverse("publicity:lookup"))
    reached = []
    for _ in range(40):
        page.keyboard.press("Tab")
        focused = page.evaluate(ACTIVE_ID)
        if focused in ("id_name", "id_id_number", "id_year") and focused not in reached:
            reached.append(focused)
        if len(reached) == 3:
            break

    assert reached == ["id_name", "id_id_number", "id_year"]


def test_lookup_fields_have_labels(page, site):
    """Screen readers announce each lookup field by its label."""
    page.goto(reverse("publicity:lookup"))
    for field_id in ("id_name", "id_id_number", "id_year"):
        labels = page.locator(f"#{field_id}").evaluate(
            "el => Array.from(el.labels || []).map(l => l.innerText.trim())"
        )
        assert any(labels), field_id


def test_lookup_can_be_submitted_from_the_keyboard(page, site):
    """Typing the fields and pressing Enter submits the form and shows a result."""
    page.goto(reverse("publicity:lookup"))
    page.focus("#id_name")
    page.keyboard.type(site.lookup_name)
    page.keyboard.press("Tab")
    page.keyboard.type(site.lookup_id)
    with page.expect_navigation():
        page.keyboard.press("Enter")

    assert page.locator("section#lookup-result").count() == 1
