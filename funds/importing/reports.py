"""What an import did or would do: the report every path returns, and its summary.

``ImportReport`` is what the command prints (``--json``), what the staff pages show and what a
job keeps (``ImportJob.report``): counts, totals per village, a masked preview, every problem
at its sheet, row and column. It holds masked values only.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from funds.importing.staging import Staged
from funds.models import Batch, ImportStatus
from villages.models import Township, Village

__all__ = [
    "PREVIEW_ROWS", "ImportReport", "duplicate", "file_error", "file_sha256", "issue_dict",
    "new_places", "summarise",
]  # fmt: skip

PREVIEW_ROWS = 20


@dataclass
class ImportReport:
    """What an import did or would do, with every problem found; masked values only."""

    file: str
    status: str = ImportStatus.REJECTED
    sha256: str = ""
    batch: int | None = None
    rows: int = 0
    households: int = 0
    persons: int = 0
    total: Decimal = Decimal("0.00")
    kind: str = ""
    township: str = ""
    sheets: list[str] = field(default_factory=list)
    errors: list[dict] = field(default_factory=list)
    warnings: list[dict] = field(default_factory=list)
    villages: list[dict] = field(default_factory=list)  # per village: name, rows, households, total
    new_townships: list[str] = field(default_factory=list)
    # Known townships a new township's name may be a slip for (旧县 → 旧县镇): confirming a new
    # township is an explicit act (funds.forms.ConfirmForm).
    township_suggestions: list[str] = field(default_factory=list)
    new_villages: list[str] = field(default_factory=list)
    preview: list[dict] = field(default_factory=list)
    error_report: str = ""  # storage name of the masked xlsx, when there are problems
    seconds: float = 0.0
    # Header columns: sheet, letter, label, field, guessed, and masked samples while the
    # roster waits for mapping (see _describe_columns).
    columns: list[dict] = field(default_factory=list)
    unsettled: list[str] = field(default_factory=list)  # fields staff must map
    signature: str = ""  # the header signature templates are found by
    mapping: dict[str, str] = field(default_factory=dict)  # header label -> field, as used
    template: str = ""  # the saved template(s) the mapping came from, by name
    saved_template: str = ""  # the template this import's mapping was saved as
    duplicate_of: dict[str, Any] = field(default_factory=dict)  # the file's live batch: id, status
    # What the roster repeats of live batches (funds.duplicates.Found.as_json): confirming it
    # needs a stated reason.
    conflicts: dict[str, Any] = field(default_factory=dict)
    # Rows that need a yes (funds.importing.anomalies), and the keys staff ticked as checked.
    anomalies: list[dict] = field(default_factory=list)
    acknowledged: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.status not in (ImportStatus.REJECTED, ImportStatus.NEEDS_MAPPING)

    @property
    def counts(self) -> tuple[int, int, int, Decimal]:
        """Rows, households, persons and total: what the batch records."""
        return self.rows, self.households, self.persons, self.total

    def as_json(self) -> dict[str, Any]:
        """Return the report as JSON-safe data (money as strings with two decimals)."""
        data = asdict(self)
        data["total"] = f"{self.total:.2f}"
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ImportReport:
        data = {**data, "total": Decimal(data.get("total") or "0")}
        known = cls.__dataclass_fields__
        return cls(**{k: v for k, v in data.items() if k in known})

    def as_line(self) -> dict[str, Any]:
        """Return the one-line summary the command prints with --json.

        A roster that stops for mapping also lists its columns (no sample values), so that a
        script can choose its ``--map`` options.
        """
        keys = ("sheet", "row", "column", "message")
        line = {
            "file": self.file,
            "status": self.status,
            "batch": self.batch,
            "rows": self.rows,
            "households": self.households,
            "persons": self.persons,
            "total": f"{self.total:.2f}",
            "errors": [{k: e.get(k) for k in keys} for e in self.errors],
            "warnings": [{k: w.get(k) for k in keys} for w in self.warnings],
            "mapping": self.mapping,
            "template": self.template,
            "saved_template": self.saved_template,
            "unsettled": self.unsettled,
        }
        if self.status == ImportStatus.NEEDS_MAPPING:
            keys = ("sheet", "letter", "label", "field")
            line["columns"] = [{k: c.get(k) for k in keys} for c in self.columns]
        return line


def file_sha256(source: Path | bytes) -> str:
    """Return the SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    if isinstance(source, bytes):
        digest.update(source)
        return digest.hexdigest()
    with open(source, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def issue_dict(issue: Any) -> dict[str, Any]:
    return {
        "sheet": issue.sheet,
        "row": issue.row,
        "column": issue.column,
        "message": str(issue.message),
        "code": getattr(issue, "code", ""),
    }


def file_error(report: ImportReport, message: str, code: str) -> ImportReport:
    report.status = ImportStatus.REJECTED
    report.errors.append({"sheet": "", "row": None, "column": "", "message": message, "code": code})
    return report


def duplicate(report: ImportReport) -> ImportReport:
    """Mark the report as a file already imported, naming the live batch it became."""
    report.status = ImportStatus.DUPLICATE
    earlier = Batch.objects.of_file(report.sha256)
    report.batch = earlier.pk if earlier is not None else None
    if earlier is not None:
        report.duplicate_of = {"id": earlier.pk, "status": earlier.status}
    return report


def summarise(report: ImportReport, staged: Staged) -> None:
    """Fill counts, totals per village and the masked preview (no query: see _new_places)."""
    rows = staged.rows
    report.rows = len(rows)
    report.households = len({r.head_hash for r in rows})
    report.persons = len({r.id_hash for r in rows})
    report.total = staged.total
    report.township = staged.township
    per_village: dict[str, dict[str, Any]] = defaultdict(
        lambda: {"rows": 0, "households": set(), "total": Decimal("0.00")}
    )
    for r in rows:
        entry = per_village[r.village]
        entry["rows"] += 1
        entry["households"].add(r.head_hash)
        entry["total"] += r.amount
    report.villages = [
        {
            "name": name,
            "rows": v["rows"],
            "households": len(v["households"]),
            "total": f"{v['total']:.2f}",
        }
        for name, v in sorted(per_village.items())
    ]
    persons = staged.persons
    report.preview = [
        {
            "sheet": r.sheet,
            "row": r.row,
            "village": r.village,
            "group": staged.households[r.head_hash][1],
            "head": persons[r.head_hash].name_masked,
            "name": r.name_masked,
            "id_masked": persons[r.id_hash].id_masked,
            "relation": persons[r.id_hash].relation_to_head,
            "quantity": None if r.quantity is None else str(r.quantity),
            "rate": None if r.rate is None else str(r.rate),
            "amount": f"{r.amount:.2f}",
            "account": r.account_masked,
            "status": r.status,
            "note": r.note,
        }
        for r in rows[:PREVIEW_ROWS]
    ]


def similar_townships(name: str, limit: int = 5) -> list[str]:
    """Return known townships NAME may be a slip for: one's name holds the other's, or they
    share all but the last character (旧县 / 旧县镇, 城关 / 城关镇, 东风乡 / 东风镇)."""
    from django.db.models import Q
    from django.db.models.functions import Length

    stem = name[:-1] if len(name) > 2 else name
    found = Township.objects.filter(
        Q(name__startswith=name)
        | Q(name__startswith=stem)
        | Q(name__in=[name[:k] for k in range(2, len(name))])
    ).exclude(name=name)
    return list(found.order_by(Length("name"), "name").values_list("name", flat=True)[:limit])


def new_places(report: ImportReport) -> None:
    """Name the report's township and villages the database does not know yet."""
    town = Township.objects.filter(name=report.township).first()
    report.new_townships = [] if town else [report.township]
    if town is None and report.township:
        report.township_suggestions = similar_townships(report.township)
    names = {v["name"] for v in report.villages}
    known = (
        set(Village.objects.filter(township=town, name__in=names).values_list("name", flat=True))
        if town
        else set()
    )
    report.new_villages = sorted(names - known)
