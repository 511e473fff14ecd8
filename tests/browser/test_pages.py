"""Every key page at phone and desktop widths: screenshots, no overflow, nothing off-site."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from django.urls import reverse

from tests.browser.conftest import PNG_SIGNATURE, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _key_pages(site) -> dict[str, str]:
    return {
        "home": reverse("publicity:home"),
        "townships": reverse("publicity:township_index"),
        "village": reverse("publicity:village", args=[site.village.pk]),
        "household": reverse("publicity:household", args=[site.household.pk]),
        "program": reverse("publicity:program", args=[site.grain.slug]),
        "batch": reverse("publicity:batch", args=[site.batch.pk]),
        "kiosk": reverse("publicity:village_kiosk", args=[site.village.pk]) + "?speed=0",
        "print": reverse("publicity:batch_print", args=[site.batch.pk]),
    }


def _watch(page, live_server_url: str) -> tuple[list[str], list[str]]:
    """Collect requests to other hosts and uncaught script errors."""
    own = urlsplit(live_server_url).netloc
    off_site: list[str] = []
    errors: list[str] = []

    def on_request(request):
        parts = urlsplit(request.url)
        if parts.scheme in ("http", "https", "ws", "wss") and parts.netloc != own:
            off_site.append(request.url)

    page.on("request", on_request)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    return off_site, errors


def test_key_pages_render_at_phone_and_desktop_widths(page, site, live_server):
    """Each key page answers 200, loads nothing from other hosts and saves two PNGs."""
    off_site, errors = _watch(page, live_server.url)
    saved = []
    for name, url in _key_pages(site).items():
        response = page.goto(url)
        assert response.status == 200, (name, response.status)
        if name == "print":
            page.emulate_media(media="print")
        saved += screenshot(page, name)
        page.emulate_media(media="screen")
        page.set_viewport_size({"width": 390, "height": 844})

    page.goto(reverse("publicity:lookup"))
    page.fill("#id_name", site.lookup_name)
    page.fill("#id_id_number", site.lookup_id)
    with page.expect_navigation():
        page.locator("form:has(#id_id_number) [type=submit]").first.click()
    saved += screenshot(page, "lookup-result")

    assert off_site == [], "the site must work on an intranet with no internet"
    assert errors == []
    assert len(saved) == 18
    for path in saved:
        data = path.read_bytes()
        assert data.startswith(PNG_SIGNATURE) and len(data) > 2000, path.name


@pytest.mark.parametrize("name", ["home", "village", "household", "program", "batch"])
def test_page_fits_a_phone_screen_without_sideways_scrolling(page, site, name):
    """Mobile-first: at 390px the document is no wider than the screen (tables scroll inside)."""
    page.goto(_key_pages(site)[name])
    width = page.evaluate("() => document.documentElement.scrollWidth")

    assert width <= 391, f"{name} is {width}px wide on a 390px phone"


def test_draft_batch_page_is_not_found(page, site):
    """A batch that is not published has no public page."""
    response = page.goto(reverse("publicity:batch", args=[site.draft.pk]))

    assert response.status == 404
