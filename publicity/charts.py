"""Server-rendered SVG charts: no JavaScript, no library, no network."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from publicity.templatetags.sunlight import format_money

BAR_HEIGHT = 22
GAP = 8
LABEL_WIDTH = 150
BAR_WIDTH = 240
VALUE_WIDTH = 100


def _short(label: str, limit: int = 11) -> str:
    """Shorten a label that would run off the chart's left edge; the tooltip keeps it whole."""
    return label if len(label) <= limit else label[: limit - 1] + "…"


def bar_chart(items: Sequence[tuple[str, Decimal]], *, title: str) -> SafeString:
    """Return an accessible horizontal bar chart of (label, amount) as inline SVG."""
    peak = max((amount for _label, amount in items), default=Decimal(0))
    width = LABEL_WIDTH + BAR_WIDTH + VALUE_WIDTH
    height = max(len(items), 1) * (BAR_HEIGHT + GAP) + GAP
    parts = [
        f'<svg class="chart" role="img" aria-labelledby="chart-title" viewBox="0 0 {width} '
        f'{height}" width="100%" preserveAspectRatio="xMinYMin meet" '
        f'xmlns="http://www.w3.org/2000/svg">',
        f'<title id="chart-title">{escape(title)}</title>',
    ]
    for index, (label, amount) in enumerate(items):
        y = GAP + index * (BAR_HEIGHT + GAP)
        share = (amount / peak) if peak > 0 and amount > 0 else Decimal(0)
        length = (share * BAR_WIDTH).quantize(Decimal("0.1"))
        middle = y + BAR_HEIGHT // 2
        parts.append(
            f'<g><text x="{LABEL_WIDTH - 6}" y="{middle}" text-anchor="end" '
            f'dominant-baseline="middle">{escape(_short(label))}</text>'
            f'<rect x="{LABEL_WIDTH}" y="{y}" width="{length}" height="{BAR_HEIGHT}" '
            f'class="bar"><title>{escape(label)}: {format_money(amount)}</title></rect>'
            f'<text x="{LABEL_WIDTH + length + 6}" y="{middle}" '
            f'dominant-baseline="middle">{format_money(amount)}</text></g>'
        )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every label is escaped above
