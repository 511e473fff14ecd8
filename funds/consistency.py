"""What must hold between a row and its household: one village (issue #14, defect 4).

A household (户) belongs to one village, and every row paying it names that village: pages
group rows by the row's village and households by the household's, so the two must agree.
The loader refuses a roster that breaks it (``rows_off_their_households_village`` over the
new batch's rows, set-based, before commit); ``manage.py check_consistency`` counts what a
database holds for auditors and operations.
"""

from __future__ import annotations

from typing import Any

from django.db.models import F, QuerySet
from django.utils.translation import gettext as _

from funds.models import Disbursement

#: Located errors reported per roster at most: the first ones say what to fix.
MAX_ERRORS = 200


def rows_off_their_households_village(rows: QuerySet[Disbursement]) -> QuerySet[Disbursement]:
    """Return the rows of ROWS whose village is not their household's."""
    return rows.exclude(village_id=F("household__village_id"))


def household_village_errors(batch_id: int) -> list[dict[str, Any]]:
    """Return a located error for each row of the batch whose household is in another village.

    One query over the batch's rows (the batch's index), whatever its size. The message names
    the place and the village the household is registered in, never a personal value.
    """
    found = (
        rows_off_their_households_village(Disbursement.objects.filter(batch_id=batch_id))
        .order_by("id")
        .values_list("source_sheet", "source_row", "household__village__name")[:MAX_ERRORS]
    )
    return [
        {
            "sheet": sheet,
            "row": row,
            "column": _("村"),
            "message": _(
                "该户（按户主身份证号）已登记在“%(village)s”，本行写的是另一个村；"
                "一户只属于一个村，请核对本行的村"
            )
            % {"village": village},
            "code": "household_village",
        }
        for sheet, row, village in found
    ]


def inconsistencies() -> dict[str, int]:
    """Count, per rule, the stored rows that break it: one COUNT query per rule."""
    rows = Disbursement.objects.all()
    return {
        "row_village_is_household_village": rows_off_their_households_village(rows).count(),
        "row_program_is_batch_program": rows.exclude(program_id=F("batch__program_id")).count(),
    }


class HouseholdVillageMismatch(Exception):
    """Rows of a roster name another village than their household's: nothing is written."""

    def __init__(self, errors: list[dict[str, Any]]) -> None:
        super().__init__(f"{len(errors)} rows name another village than their household's")
        self.errors = errors
