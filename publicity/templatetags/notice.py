"""The village notice as pages show it: quantities and rates, and the batch page's list of
village and group notices."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import template

from funds.models import Batch
from publicity import notices

register = template.Library()


@register.filter
def quantity(value: Decimal | None) -> str:
    """Render a quantity without trailing zeros: 2.5000 → 2.5, 10.0000 → 10; '' when None."""
    found = notices.plain_number(value)
    return "" if found is None else f"{found:,f}"


@register.filter
def rate(value: Decimal | None) -> str:
    """Render a rate with two places, or more where it has them: 105.5000 → 105.50."""
    found = notices.rate_number(value)
    return "" if found is None else f"{found:,f}"


@register.inclusion_tag("publicity/_village_notices.html")
def village_notices(batch: Batch) -> dict[str, Any]:
    """List the villages and groups BATCH pays, each with its notice, downloads and kiosk."""
    return {"batch": batch, "places": notices.batch_places(batch)}
