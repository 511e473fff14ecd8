"""Rosters built in memory for the loading tests: they stand in for funds.sheets output."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path

from django.apps import apps

from funds import imports
from tests.factories import person_name, unique_id_number


@dataclass(frozen=True)
class Issue:
    sheet: str
    row: int | None
    column: str
    message: str
    code: str = ""


@dataclass
class ParsedRow:
    sheet: str
    row: int
    township: str
    village: str
    group: str
    head_name: str
    head_id: str
    name: str
    id_number: str
    relation: str
    payee_name: str
    account: str
    quantity: Decimal | None
    rate: Decimal | None
    amount: Decimal
    pay_date: date | None
    status: str
    note: str


@dataclass
class ParsedRoster:
    rows: list[ParsedRow]
    errors: list[Issue] = field(default_factory=list)
    warnings: list[Issue] = field(default_factory=list)
    sheets: list[str] = field(default_factory=lambda: ["Sheet1"])
    kind: str = "per_household"
    total: Decimal = Decimal("0")
    totals_rows: list[dict] = field(default_factory=list)

    def ok(self) -> bool:
        return not self.errors


def household_row(n: int, *, village: str = "红星村", amount: str = "100.00", **kw) -> ParsedRow:
    """Return a per-household row: person N is head and beneficiary."""
    values = {
        "sheet": "Sheet1",
        "row": n + 4,
        "township": "城关镇",
        "village": village,
        "group": "一组",
        "head_name": person_name(n),
        "head_id": "",
        "name": person_name(n),
        "id_number": unique_id_number(n),
        "relation": "户主",
        "payee_name": "",
        "account": f"62170000{n:011d}",
        "quantity": Decimal("2.5"),
        "rate": Decimal("40"),
        "amount": Decimal(amount),
        "pay_date": date(2026, 3, 15),
        "status": "paid",
        "note": "",
    }
    values.update(kw)
    return ParsedRow(**values)


def roster(rows: list[ParsedRow], **kw) -> ParsedRoster:
    total = sum((r.amount for r in rows), Decimal("0"))
    return ParsedRoster(rows=rows, total=total, **kw)


def use_roster(monkeypatch, parsed: ParsedRoster, calls: list | None = None) -> None:
    """Make the import pipeline read PARSED instead of parsing the file."""

    def fake_read(source, **options):
        if calls is not None:
            calls.append(options.get("filename"))
        return parsed

    monkeypatch.setattr(imports, "_read_roster", fake_read)


def roster_file(tmp_path: Path, name: str = "roster.csv", salt: str = "") -> Path:
    """Write a small, safe CSV file whose bytes (and so SHA-256) depend on SALT."""
    path = tmp_path / name
    path.write_text(f"姓名,金额\n张三,1{salt}\n", encoding="utf-8")
    return path


def table_counts() -> dict[str, int]:
    """Count the rows of every table of every installed model."""
    return {m._meta.label: m._default_manager.count() for m in apps.get_models()}
