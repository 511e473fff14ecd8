"""The village notice board as a village clerk uses it: from the batch page to the printed A4
notice of their village or group; the hall screen per village."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.browser.conftest import screenshot
from tests.browser.test_accessibility import Audit, axe_script, tab  # noqa: F401 - fixtures
from tests.browser.test_print import A4_POINTS, _media_boxes
from tests.publicity.noticedata import make_notice_site

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LIST = "#kiosk-list"
#: The printable width of A4 between print.css's 14 mm side margins, in CSS pixels (96 dpi).
A4_CONTENT = {"width": round((210 - 2 * 14) / 25.4 * 96), "height": 1000}


@pytest.fixture
def notice():
    return make_notice_site()


def _open_from_batch_page(page, notice, link_text: str) -> None:
    page.goto(reverse("publicity:batch", args=[notice.batch.pk]))
    with page.expect_navigation():
        page.locator("#village-notices").get_by_role("link", name=link_text).click()


def test_a_clerk_prints_the_village_notice_from_the_batch_page(page, notice):
    """From the batch page to the A4 notice of 红星村: its rows only, with 面积 and 标准, the QR
    code and the totals; printed, the buttons are hidden and the table fits the page."""
    _open_from_batch_page(page, notice, "打印 红星村 公示")
    page.set_viewport_size(A4_CONTENT)
    page.emulate_media(media="print")

    title = page.locator("h1").inner_text()
    assert "红星村" in title and notice.program.name in title
    rows = page.locator("#print-rows tbody tr")
    assert rows.count() == 5
    header = page.locator("#print-rows thead").inner_text()
    assert "面积（亩）" in header and "标准（元/亩）" in header
    assert "2,210.23" in page.locator("#print-rows tfoot").inner_text()
    assert not page.locator(".screen-only").is_visible()
    qr = page.locator("svg.qr")
    assert qr.is_visible()
    box = qr.bounding_box()
    assert box and box["width"] >= 60
    table = page.locator("#print-rows").bounding_box()
    assert table and table["x"] >= 0 and table["x"] + table["width"] <= A4_CONTENT["width"]
    assert page.evaluate("() => document.documentElement.scrollWidth") <= A4_CONTENT["width"]
    body = page.locator("body").inner_text()
    assert "城关镇财政所 0551-1234567" in body and "#objection" in body
    for name in notice.names:
        assert name not in body
    screenshot(page, "village-notice-print")

    pdf = page.pdf(prefer_css_page_size=True, print_background=True)
    boxes = _media_boxes(pdf)
    assert boxes and all(abs(w - A4_POINTS[0]) < 2 and abs(h - A4_POINTS[1]) < 2 for w, h in boxes)


def test_the_print_button_prints_without_an_inline_script(page, notice):
    """The button works through js/print.js: window.print is called on a click."""
    page.goto(reverse("publicity:village_notice", args=[notice.batch.pk, notice.red.pk]))
    page.evaluate(
        "() => { window.__printed = 0; window.print = () => { window.__printed += 1; }; }"
    )
    page.get_by_role("button", name="打印").click()

    assert page.evaluate("() => window.__printed") == 1


def test_a_clerk_prints_one_group_notice(page, notice):
    """The 二组 link gives a notice of that group's two rows and its own totals."""
    _open_from_batch_page(page, notice, "打印 红星村二组 公示")
    page.emulate_media(media="print")

    assert "二组" in page.locator("h1").inner_text()
    rows = page.locator("#print-rows tbody tr")
    assert rows.count() == 2
    assert all("二组" in text for text in rows.all_inner_texts())
    assert "548.60" in page.locator("#print-rows tfoot").inner_text()
    screenshot(page, "village-group-notice-print")


def test_the_batch_kiosk_of_one_village_shows_only_that_village(page, notice):
    """The batch page's kiosk link of 东风村 opens the hall screen with 东风村's rows only."""
    page.set_viewport_size({"width": 1366, "height": 768})
    page.goto(reverse("publicity:batch", args=[notice.batch.pk]))
    link = page.locator("#village-notices tr", has_text="东风村").get_by_role("link", name="大屏")
    with page.expect_navigation():
        link.click()

    assert "东风村" in page.locator("h1").inner_text()
    rows = page.locator(f"{LIST} tbody tr")
    assert rows.count() == 2
    assert "1,424.25" in page.locator("#totals").inner_text()


def test_the_village_kiosk_rolls_through_its_batches_in_turn(page, site):
    """The village screen shows each published batch under its heading, and scrolls on from the
    first batch to the next."""
    page.set_viewport_size({"width": 1366, "height": 768})
    page.goto(reverse("publicity:village_kiosk", args=[site.village.pk]) + "?speed=1500")
    sections = page.locator(f"{LIST} section.kiosk-batch")
    assert sections.count() == 2
    headings = sections.locator("h2").all_inner_texts()
    assert any(site.grain.name in h for h in headings)
    assert any(site.elderly.name in h for h in headings)

    second_top = sections.nth(1).evaluate("el => el.offsetTop - el.parentElement.offsetTop")
    assert second_top > 0
    page.wait_for_function(
        f"() => document.querySelector('{LIST}').scrollTop >= {second_top}", timeout=20_000
    )
    heading = sections.nth(1).locator("h2").bounding_box()
    list_box = page.locator(LIST).bounding_box()
    assert heading and list_box and abs(heading["y"] - list_box["y"]) < 5  # held at the top


def test_village_notice_pages_have_no_serious_accessibility_violations(tab, axe_script, notice):  # noqa: F811
    audit = Audit(tab, axe_script)
    batch, red = notice.batch, notice.red
    audit.goto("batch page with village notices", reverse("publicity:batch", args=[batch.pk]))
    audit.goto("village notice", reverse("publicity:village_notice", args=[batch.pk, red.pk]))
    group = reverse("publicity:village_notice", args=[batch.pk, red.pk]) + "?group=二组"
    audit.goto("group notice", group)
    audit.goto("village kiosk", reverse("publicity:village_kiosk", args=[red.pk]) + "?speed=0")
    kiosk = reverse("publicity:batch_kiosk", args=[batch.pk]) + f"?village={red.pk}&speed=0"
    audit.goto("batch kiosk of a village", kiosk)
    audit.assert_clean()
