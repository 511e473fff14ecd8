"""Template filters of the public site."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django import template

register = template.Library()
CENT = Decimal("0.01")


def format_money(value: object) -> str:
    """Format an amount with two decimals and thousands separators, Decimal only."""
    if value is None or value == "":
        return "0.00"
    if not isinstance(value, Decimal):
        try:
            value = Decimal(str(value))
        except InvalidOperation:
            return ""
    return f"{value.quantize(CENT, rounding=ROUND_HALF_UP):,.2f}"


@register.filter
def money(value: object) -> str:
    """Render an amount as 1,234.50."""
    return format_money(value)


@register.filter
def row_status(code: str) -> str:
    """Render a disbursement status code as its label."""
    from funds.models import Disbursement

    return str(dict(Disbursement.Status.choices).get(code, code))


@register.filter
def payment_state(code: str) -> str:
    """Render a payment state code (paid, failed, resent, stopped) as its label."""
    from funds.models import PaymentState

    return str(dict(PaymentState.choices).get(code, code))
