"""The printable A4 notice: print stylesheet hides the site chrome, keeps the QR code."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

A4_POINTS = (595.0, 842.0)


def _media_boxes(pdf: bytes) -> list[tuple[float, float]]:
    """Return the width and height of every page's MediaBox in a PDF."""
    pattern = rb"/MediaBox\s*\[\s*([-\d.]+)\s+([-\d.]+)\s+([-\d.]+)\s+([-\d.]+)\s*\]"
    return [
        (float(x1) - float(x0), float(y1) - float(y0))
        for x0, y0, x1, y1 in re.findall(pattern, pdf)
    ]


def test_print_media_hides_navigation_and_keeps_the_qr_code(page, site):
    """Printed, the notice shows no header, language switch or nav, but an inline SVG QR code."""
    page.goto(reverse("publicity:batch_print", args=[site.batch.pk]))
    page.emulate_media(media="print")

    for chrome in ("header.site-header", "nav", "#lang-select", "a.skip"):
        for element in page.locator(chrome).all():
            assert not element.is_visible(), chrome
    qr = page.locator("svg").first
    assert qr.is_visible()
    box = qr.bounding_box()
    assert box and box["width"] >= 60 and box["height"] >= 60
    assert site.grain.name in page.locator("body").inner_text()


def test_print_page_makes_an_a4_pdf(page, site):
    """Chromium's PDF of the print page uses the stylesheet's A4 size (595 x 842 pt)."""
    page.goto(reverse("publicity:batch_print", args=[site.batch.pk]))
    page.emulate_media(media="print")
    pdf = page.pdf(prefer_css_page_size=True, print_background=True)
    boxes = _media_boxes(pdf)

    assert pdf.startswith(b"%PDF-")
    assert boxes
    for width, height in boxes:
        assert abs(width - A4_POINTS[0]) < 2 and abs(height - A4_POINTS[1]) < 2, (width, height)


def test_media_box_reader_tells_letter_from_a4(page):
    """The size check can fail: a Letter-sized PDF is not read as A4."""
    page.set_content("<p>letter</p>")
    boxes = _media_boxes(page.pdf(format="Letter"))

    assert boxes and all(abs(w - 612) < 2 and abs(h - 792) < 2 for w, h in boxes)
