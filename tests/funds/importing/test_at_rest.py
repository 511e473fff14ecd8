"""Nothing raw at rest: after good and bad rosters, no planted personal value is anywhere.

Names, ID numbers, accounts, phones and addresses are planted in rosters imported through the
staff flow (staged, confirmed, rejected with an error report, discarded) and the command; then
every table of the database, every file under the media folder and the var folder, and the log
are searched for them.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile

from demo.rostergen import GeneratedRoster, generate_roster
from funds.importing.jobs import abandon_job, import_roster
from funds.importing.tasks import create_job, request_confirm
from funds.models import ImportJob, ImportStatus
from tests.factories import make_program
from tests.funds.importing.test_variety import fold, kept_file_texts, needles, table_texts

pytestmark = pytest.mark.django_db(transaction=True)


def _names(generated: GeneratedRoster) -> dict[str, str]:
    """Return the roster's persons' full names of three characters or more (two may recur)."""
    return {f"name {n}": fold(n) for n in set(generated.name_of.values()) if len(n) >= 3}


def _var_texts() -> dict[str, str]:
    root = Path(settings.VAR_DIR)
    files = [p for p in root.rglob("*") if p.is_file()] if root.exists() else []
    return {str(p): p.read_bytes().decode("utf-8", errors="ignore") for p in files}


def _upload(generated: GeneratedRoster, program, period: str) -> ImportJob:
    data = generated.path.read_bytes()
    upload = SimpleUploadedFile(generated.path.name, data)
    return create_job(upload=upload, program=program, period=period)


def test_no_planted_personal_value_is_kept_anywhere(tmp_path, caplog):
    kinds = {"contact_columns": True, "office_headers": True, "with_quantity": False}
    good = generate_roster(tmp_path / "a.xlsx", fmt="xlsx", rows=60, seed=3, **kinds)
    bad = generate_roster(
        tmp_path / "b.csv", fmt="csv", rows=40, seed=4, unique_offset=1000,
        errors={"check_digit": 2, "negative": 1, "text_amount": 1}, **kinds,
    )  # fmt: skip
    again = generate_roster(tmp_path / "c.xlsx", fmt="xlsx", rows=30, seed=5, unique_offset=2000)
    by_command = generate_roster(tmp_path / "d.xls", fmt="xls", rows=30, seed=6, unique_offset=3000)
    program = make_program()
    planted = {}
    for generated in (good, bad, again, by_command):
        planted |= needles(generated) | _names(generated)

    with caplog.at_level(logging.DEBUG):
        ready = _upload(good, program, "2026-03")
        assert ready.status == ImportStatus.READY, ready.report.get("errors")
        assert request_confirm(job=ready, publish=True)
        rejected = _upload(bad, program, "2026-04")
        assert rejected.status == ImportStatus.REJECTED and rejected.report["error_report"]
        discarded = _upload(again, program, "2026-05")
        assert abandon_job(job=discarded)
        assert import_roster(path=by_command.path, program=program, period="2026-06").ok

    texts = {**table_texts(), **kept_file_texts(), **_var_texts(), "log": caplog.text}
    assert any("errors.xlsx" in where for where in texts), "the error report is searched too"
    leaks = [
        f"{where}: {label}"
        for where, text in texts.items()
        for label, needle in planted.items()
        if needle in fold(text)
    ]
    assert leaks == []


def test_the_search_finds_a_planted_value():
    """Guard the guard: a raw value written into a table is found."""
    number = "341122195407071009"
    make_program(f"项目{number}")
    assert any(number in fold(text) for text in table_texts().values())
