"""Kiosk mode for the service-hall screen: the list scrolls by itself and starts over."""

from __future__ import annotations

import pytest
from django.urls import reverse

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LIST = "#kiosk-list"
SCROLL_TOP = "el => el.scrollTop"


@pytest.mark.parametrize("kind", ["village_kiosk", "batch_kiosk"])
def test_kiosk_list_scrolls_by_itself(page, site, kind):
    """Without any input, the list's scrollTop grows over time."""
    pk = site.village.pk if kind == "village_kiosk" else site.batch.pk
    page.set_viewport_size({"width": 1366, "height": 768})
    page.goto(reverse(f"publicity:{kind}", args=[pk]) + "?speed=60")
    kiosk = page.locator(LIST)
    kiosk.wait_for()
    start = kiosk.evaluate(SCROLL_TOP)
    page.wait_for_timeout(1500)

    assert kiosk.evaluate("el => el.scrollHeight > el.clientHeight"), "nothing to scroll"
    assert kiosk.evaluate(SCROLL_TOP) > start


def test_kiosk_starts_over_after_reaching_the_end(page, site):
    """At a fast speed the list reaches its end, jumps back and counts a loop."""
    page.set_viewport_size({"width": 1366, "height": 768})
    page.goto(reverse("publicity:village_kiosk", args=[site.village.pk]) + "?speed=3000")
    kiosk = page.locator(LIST)
    kiosk.wait_for()
    loops = int(kiosk.get_attribute("data-loops") or 0)

    page.wait_for_function(
        f"() => Number(document.querySelector('{LIST}').dataset.loops) > {loops}",
        timeout=20_000,
    )

    assert int(kiosk.get_attribute("data-loops")) > loops


def test_kiosk_uses_large_type(page, site):
    """The service-hall screen is read from a distance: rows are at least 20px."""
    page.set_viewport_size({"width": 1366, "height": 768})
    page.goto(reverse("publicity:village_kiosk", args=[site.village.pk]))
    size = page.locator(LIST).evaluate("el => parseFloat(getComputedStyle(el).fontSize)")

    assert size >= 20
