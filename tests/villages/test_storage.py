"""No stored column of any table holds a raw ID number, bank account or full name."""

from __future__ import annotations

import re

import pytest
from django.apps import apps
from django.core.files.uploadedfile import SimpleUploadedFile

from funds.importing.jobs import import_roster
from funds.importing.tasks import create_job, request_confirm
from funds.models import Batch, ImportJob
from tests.factories import make_program, unique_id_number
from tests.funds.importing.support import household_row, roster, roster_file, use_roster
from villages.models import Person

pytestmark = pytest.mark.django_db

# Names that masking cannot leave whole, and accounts and IDs no table may hold.
NAMES = ["欧阳娜娜", "司马相如", "张小三", "买买提·艾力", "李四"]


def _every_stored_text() -> list[tuple[str, str, str]]:
    """Return (table, column, text) for every value of every column of every model."""
    found = []
    for model in apps.get_models():
        columns = [f.column for f in model._meta.concrete_fields]
        attnames = [f.attname for f in model._meta.concrete_fields]
        for values in model._default_manager.values_list(*attnames):
            for column, value in zip(columns, values, strict=True):
                if value not in (None, ""):
                    found.append((model._meta.db_table, column, str(value)))
    return found


def test_no_table_stores_a_raw_id_account_or_name(monkeypatch, tmp_path):
    ids = [unique_id_number(7000 + n) for n in range(len(NAMES))]
    # One number with the check character X: stored forms must not keep it in any case.
    ids[1] = next(x for n in range(7500, 9000) if (x := unique_id_number(n)).endswith("X"))
    accounts = [f"6228480{n:012d}" for n in range(len(NAMES))]
    rows = [
        household_row(
            7000 + n, name=name, head_name=name, id_number=ids[n], account=accounts[n],
            payee_name="欧阳娜娜" if n == 4 else "",
            note=f"代领人电话13912345678，身份证{ids[n]}",
        )
        for n, name in enumerate(NAMES)
    ]  # fmt: skip
    use_roster(monkeypatch, roster(rows))
    report = import_roster(
        path=roster_file(tmp_path), program=make_program(), period="2026-03", publish=True
    )
    assert report.status == "imported"
    Person.objects.identify(name="诸葛亮明", id_number=unique_id_number(7100).lower())
    # The staff flow too: the job's stored report (preview, errors); its files are deleted.
    raw_csv = f"姓名,身份证号\n{NAMES[0]},{ids[0]}\n"
    upload = SimpleUploadedFile("r.csv", raw_csv.encode(), content_type="text/csv")
    job = create_job(upload=upload, program=make_program("乙"), period="2026-04")
    request_confirm(job=job, publish=False)
    job.refresh_from_db()
    assert job.status == ImportJob.Status.IMPORTED and job.report["preview"]
    assert not job.file and not job.staged, "the upload and the staged rows are gone"
    assert Batch.objects.count() == 2

    secrets = {*NAMES, "诸葛亮明", "13912345678", *accounts}
    for number in [*ids, unique_id_number(7100)]:
        secrets |= {number, number.lower(), number[:6] + number[8:17]}  # 18 and 15-digit forms
    stored = _every_stored_text()
    seen = {table for table, _column, _text in stored}
    written = {"villages_person", "villages_household", "funds_disbursement", "funds_batch"}
    assert written | {"funds_importjob"} <= seen, "the check reads what the imports wrote"
    leaks = [(t, c) for t, c, text in stored if any(s in text for s in secrets)]
    assert leaks == []
    long_digits = re.compile(r"(?<![0-9a-f])[0-9]{15,}[0-9Xx]?(?![0-9a-f])")
    numbers = [(t, c, text) for t, c, text in stored if long_digits.search(text)]
    assert numbers == []


def test_the_check_itself_finds_a_planted_raw_value():
    """The inspection reads every column: a raw ID put in a masked field is found."""
    number = unique_id_number(7200)
    Person.objects.create(
        name_masked="张*", name_hash="h", id_hash="x", id_masked=number, birth_year=1960
    )
    assert any(number in text for _t, _c, text in _every_stored_text())
