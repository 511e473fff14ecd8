"""Rows that need a yes: amounts a clerk must look at before a roster is confirmed.

Two kinds, found in the staged roster (masked values only, no query):

- ``amount_mismatch``: quantity × rate is given and the amount differs by more than a cent
  (the reader's warning of that code: 13,519.10 where 1,351.91 was meant);
- ``outlier``: an amount ten times the roster's median or more, or a tenth of it or less.

The preview lists them highlighted, and confirming needs each one ticked as checked; the
ticks are kept with the job and in the audit record.
"""

from __future__ import annotations

import statistics
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext as _

#: Warning codes of the reader that are anomalies, not hints.
MISMATCH_CODES = ("amount_mismatch",)
OUTLIER_FACTOR = Decimal(10)
#: At most this many are listed one by one; a roster with more is confirmed by one tick for all.
MAX_LISTED = 200


def key(sheet: str, row: int | None) -> str:
    """Return the key a row's acknowledgement is ticked by: sheet and Excel row."""
    return f"{sheet}:{row}"


def find(warnings: list[dict], staged: Any) -> list[dict[str, Any]]:
    """Return the rows needing a yes: each with sheet, row, column, message, code and key."""
    found: dict[str, dict[str, Any]] = {}
    for warning in warnings:
        if warning.get("code") in MISMATCH_CODES and warning.get("row") is not None:
            k = key(warning["sheet"], warning["row"])
            found.setdefault(k, {**warning, "key": k})
    amounts = [r.amount for r in staged.rows if r.amount > 0]
    if len(amounts) >= 5:  # a median of a handful of rows says nothing
        median = statistics.median(amounts)
        high, low = median * OUTLIER_FACTOR, median / OUTLIER_FACTOR
        for r in staged.rows:
            if r.amount > 0 and (r.amount >= high or r.amount <= low):
                k = key(r.sheet, r.row)
                message = _(
                    "金额 %(amount)s 与本表金额的中位数 %(median)s 相差十倍以上，请核对"
                ) % {"amount": f"{r.amount:.2f}", "median": f"{median:.2f}"}
                found.setdefault(
                    k, {"sheet": r.sheet, "row": r.row, "column": _("金额"),
                        "message": message, "code": "outlier", "key": k}
                )  # fmt: skip
    return sorted(found.values(), key=lambda a: (a["sheet"], a["row"] or 0))
