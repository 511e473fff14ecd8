"""QR codes for printed notices, as inline SVG (segno)."""

from __future__ import annotations

import segno
from django.utils.safestring import SafeString, mark_safe


def qr_svg(url: str, *, title: str = "") -> SafeString:
    """Return an inline SVG QR code that opens URL."""
    code = segno.make(url, error="m", micro=False)
    svg = code.svg_inline(scale=4, border=2, title=title or None, svgclass="qr", lineclass=None)
    return mark_safe(svg)  # noqa: S308 - segno escapes the title; the data is encoded, not shown
