"""What the roster reader returns: rows, issues and the roster; plain data, no logic.

Every stage below the job flow speaks these types: the reader fills them, staging reads them,
and the tests build them directly.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

__all__ = ["IGNORE", "PERSONAL", "TEXT_LIMITS", "Column", "Issue", "ParsedRoster", "ParsedRow"]

#: Mapping targets besides the fields: a column to skip, and a column of personal data that is
#: not needed (phone, address, certificate numbers): read by nobody, stored nowhere.
IGNORE = "ignore"
PERSONAL = "personal"


@dataclass(frozen=True)
class Issue:
    """An error or a warning about one cell, one row, one sheet or the whole file."""

    sheet: str
    row: int | None  # as Excel shows it (1-based); None for the sheet or the file
    column: str  # header text as in the sheet, or the Excel letter when there is none
    message: str
    code: str = ""


#: The longest text the database keeps for each field read from a roster; longer cells are
#: errors at their place, not a database failure at load (tests check these against models).
TEXT_LIMITS: dict[str, int] = {
    "township": 100, "village": 100, "group": 50, "relation": 20, "name": 50, "head_name": 50,
}  # fmt: skip


@dataclass(frozen=True)
class Column:
    """One column of a sheet's header as staff see it, with what the importer took it for."""

    sheet: str
    index: int  # 0-based
    letter: str  # as Excel shows it: A, B, … AA
    label: str  # the header text, sub-header under its group: "户主信息/姓名"
    field: str  # the field it maps to, IGNORE or PERSONAL; "" when nothing recognised it
    samples: tuple[str, ...] = ()  # a few values of the column, masked: never raw
    guessed: bool = True  # False when a staff mapping (or a template) said so


@dataclass(slots=True)
class ParsedRow:
    """One payment as read from a roster, normalised and validated."""

    sheet: str
    row: int
    township: str
    village: str
    group: str
    head_name: str
    head_id: str  # '' when the sheet has no head-ID column: the beneficiary is the head
    name: str
    id_number: str  # normalised 18-digit ID; in memory only, never stored
    relation: str
    payee_name: str  # '' when the beneficiary is paid
    account: str  # digits only, '' when none
    quantity: Decimal | None
    rate: Decimal | None
    amount: Decimal
    pay_date: date | None
    status: str  # 'paid' | 'failed' | 'stopped'
    note: str  # scrubbed of ID, phone and account numbers


@dataclass
class ParsedRoster:
    """What a roster file holds, with every error and warning found in it."""

    rows: list[ParsedRow] = field(default_factory=list)
    errors: list[Issue] = field(default_factory=list)
    warnings: list[Issue] = field(default_factory=list)
    sheets: list[str] = field(default_factory=list)
    kind: str = "per_household"  # or 'per_person'
    total: Decimal = Decimal("0.00")
    totals_rows: list[dict] = field(default_factory=list)
    file_kind: str = ""
    encoding: str = ""  # CSV only
    #: Every header column of every sheet read, for the mapping page and --json.
    columns: list[Column] = field(default_factory=list)
    #: Fields the importer could not settle (missing, or several candidates it cannot choose
    #: between): the roster stops for staff to map them. Each also has an error.
    unsettled: list[str] = field(default_factory=list)
    #: A stable digest of the header labels, by which a saved mapping template is found.
    signature: str = ""
    #: The mapping used, header label -> field (guessed or given), for reports and --json.
    mapping: dict[str, str] = field(default_factory=dict)
    #: The title above each sheet's header (no personal data: a place, a program, a month).
    titles: dict[str, str] = field(default_factory=dict)

    def ok(self) -> bool:
        """Say whether the roster may be imported: no errors and at least one row."""
        return not self.errors and bool(self.rows)
