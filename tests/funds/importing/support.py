"""Rosters built in memory for the loading tests: they stand in for read_roster's output."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

from django.apps import apps

from funds.importing import jobs
from funds.importing.parsed import ParsedRoster, ParsedRow
from tests.factories import person_name, unique_id_number


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
    """Return a roster of ROWS as read_roster would: one sheet, its total."""
    total = sum((r.amount for r in rows), Decimal("0"))
    return ParsedRoster(**{"rows": rows, "total": total, "sheets": ["Sheet1"], **kw})


def use_roster(monkeypatch, parsed: ParsedRoster, calls: list | None = None) -> None:
    """Make the import pipeline read PARSED instead of parsing the file."""

    def fake_read(source, **options):
        if calls is not None:
            calls.append(options.get("filename"))
        return parsed

    monkeypatch.setattr(jobs, "_read_roster", fake_read)


def roster_file(tmp_path: Path, name: str = "roster.csv", salt: str = "") -> Path:
    """Write a small, safe CSV file whose bytes (and so SHA-256) depend on SALT."""
    path = tmp_path / name
    path.write_text(f"姓名,金额\n张三,1{salt}\n", encoding="utf-8")
    return path


def table_counts() -> dict[str, int]:
    """Count the rows of every table of every installed model."""
    return {m._meta.label: m._default_manager.count() for m in apps.get_models()}


def import_at_once(path: Path, program, *, threads: int = 2) -> list:
    """Import PATH from THREADS threads at the same moment; return their reports."""
    import threading

    from django.db import connections

    reports: list = []

    def run() -> None:
        try:
            reports.append(jobs.import_roster(path=path, program=program, period="2026-03"))
        finally:
            connections.close_all()

    started = [threading.Thread(target=run, name=f"import-{n}") for n in range(threads)]
    for thread in started:
        thread.start()
    for thread in started:
        thread.join(60)
    return reports
