"""Browser fixtures: Debian's Chromium driven by Playwright against a live server.

Playwright's own browser download does not work here, so the tests launch
/usr/bin/chromium (scripts/ensure-chromium installs it in CI) and skip, saying
why, only when it is absent.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import pytest

from funds.models import Batch, Program
from tests.factories import make_batch, make_program, make_village, person_name, unique_id_number
from villages.models import Household, Village

# Playwright's sync API keeps an asyncio loop on the main thread; Django would then
# refuse ORM calls made by the test itself, which are synchronous and safe here.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(__file__).resolve().parent.parent / "artifacts" / "screenshots"
VIEWPORTS = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1366, "height": 900}}
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="package")
def browser():
    """Launch one headless Chromium for the browser tests."""
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing: run scripts/ensure-chromium (apt-get chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, live_server) -> Iterator:
    """Open a fresh phone-sized page (own cookies) whose relative URLs hit the live server."""
    from django.core.cache import cache

    # Lookup rate limits live in the cache; each test starts with a clean budget.
    cache.clear()
    context = browser.new_context(
        base_url=live_server.url, viewport=VIEWPORTS["phone"], locale="zh-CN"
    )
    context.set_default_timeout(15_000)
    tab = context.new_page()
    yield tab
    context.close()


def screenshot(page, name: str) -> list[Path]:
    """Save full-page PNGs of the current page at phone and desktop widths."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    paths = []
    for width_name, viewport in VIEWPORTS.items():
        page.set_viewport_size(viewport)
        path = SCREENSHOTS / f"{name}-{width_name}.png"
        page.screenshot(path=str(path), full_page=True)
        paths.append(path)
    return paths


@dataclass
class Site:
    """What the browser tests seed: one village, two programs, three public batches."""

    village: Village
    household: Household
    grain: Program
    elderly: Program
    batch: Batch
    elderly_batch: Batch
    draft: Batch
    lookup_name: str
    lookup_id: str
    names: list[str] = field(default_factory=list)


@pytest.fixture
def site() -> Site:
    """Seed a village of 60 households paid by two programs (one batch of each public)."""
    village = make_village("红星村", "城关镇")
    grain = make_program("耕地地力保护补贴测试", slug="grain-test", unit="亩")
    elderly = make_program("高龄津贴测试", slug="elderly-test", unit="人")
    people = [(person_name(n), unique_id_number(n)) for n in range(1, 61)]
    grain_rows = [(n, i, Decimal("100.00") + k) for k, (n, i) in enumerate(people)]
    elderly_rows = [(n, i, Decimal("50.00")) for n, i in people[:12]]
    batch = make_batch(grain, village, grain_rows, period="2026-03")
    elderly_batch = make_batch(elderly, village, elderly_rows, period="2026-02")
    draft = make_batch(
        elderly, village, elderly_rows[:3], period="2026-04", status=Batch.Status.DRAFT
    )
    lookup_name, lookup_id = people[0]
    household = Household.objects.get(head__id_hash=batch.disbursements.first().person.id_hash)
    return Site(
        village=village,
        household=household,
        grain=grain,
        elderly=elderly,
        batch=batch,
        elderly_batch=elderly_batch,
        draft=draft,
        lookup_name=lookup_name,
        lookup_id=lookup_id,
        names=[name for name, _ in people],
    )
