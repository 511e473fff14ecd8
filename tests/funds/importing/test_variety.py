"""Proof by variety: rosters in the shapes offices write, through the real command and staff flow.

Each shape of ``demo.rostergen`` (alone, and in the combinations offices actually send) in
each format where it makes sense is imported twice over: by ``import_roster`` (what
``import_payments`` and the demo run) and by the staff flow (upload → staged in the
background → confirm, with Django's immediate task backend running the tasks inline). Each
import must succeed, reconcile to the cent with what the generator wrote, and leave no raw
ID number, account, phone number or address from the file in any table of the database or
in any file kept after staging.
"""

from __future__ import annotations

import gzip
import io
import json
import re
import unicodedata
import zipfile
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import connection

from demo.rostergen import GeneratedRoster, generate_roster
from funds.forms import ImportUploadForm
from funds.importing.jobs import import_roster
from funds.importing.tasks import create_job, request_confirm
from funds.models import Batch, Disbursement, ImportJob, ImportStatus
from tests.factories import make_program

pytestmark = pytest.mark.django_db

ROWS = 60
PERIOD = "2026-03"

#: The shapes, each alone and then as offices combine them.
SHAPES: dict[str, dict] = {
    "office_headers": {"office_headers": True},
    "gross_net": {"money": "gross_net"},
    "parts": {"money": "parts", "with_quantity": False, "program": "残疾人两项补贴"},
    "amount_words": {"amount_words": True},
    "month_dates": {"pay_dates": "month"},
    "contact_columns": {"contact_columns": True},
    "repeated_headers": {"repeat_header_every": 20},
    "disability_number": {"id_column": "disability", "with_quantity": False},
    "grouped_accounts": {"accounts": "grouped"},
    # 低保 by the member, under 应发 / 扣款 / 实发 with role-named headers, pages repeated.
    "low_income_by_member": {
        "money": "gross_net", "office_headers": True, "per_person": True,
        "with_quantity": False, "repeat_header_every": 15, "program": "农村最低生活保障",
    },
    # 两项补贴: parts beside their total, in words too, the certificate for the ID.
    "disability_allowances": {
        "money": "parts", "amount_words": True, "id_column": "disability",
        "accounts": "grouped", "with_quantity": False, "program": "残疾人两项补贴",
    },
    # A month's allowance typed by a village clerk: months, phones and addresses.
    "clerks_list": {
        "pay_dates": "month", "contact_columns": True, "office_headers": True,
        "with_quantity": False, "title_rows": False, "program": "高龄津贴",
    },
}  # fmt: skip

#: Formats each shape is tried in; every shape makes sense in every one of these (a CSV
#: keeps the two-row header's texts without merges, as Excel exports it).
FORMATS = ("xlsx", "xls", "ods", "csv", "csv-gbk", "csv-utf16")
SUFFIX = {"csv-bom": "csv", "csv-gbk": "csv", "csv-utf16": "csv"}
#: Cases the importer does not read yet: (shape, fmt) -> why (each an xfail, strict).
KNOWN_FAILURES: dict[tuple[str, str], str] = {}

CASES = [
    pytest.param(
        shape, fmt, id=f"{shape}-{fmt}",
        marks=[pytest.mark.xfail(strict=True, reason=KNOWN_FAILURES[shape, fmt])]
        if (shape, fmt) in KNOWN_FAILURES else [],
    )
    for shape in SHAPES
    for fmt in FORMATS
]  # fmt: skip


def generate(tmp_path: Path, shape: str, fmt: str, *, seed: int = 10) -> GeneratedRoster:
    """Write SHAPE in FMT, named as an office would name it."""
    options = dict(SHAPES[shape])
    options.setdefault("program", "耕地地力保护补贴")
    path = tmp_path / f"{options['program']}-{shape}.{SUFFIX.get(fmt, fmt)}"
    return generate_roster(path, fmt=fmt, rows=ROWS, seed=seed, period=PERIOD, **options)


# --- Personal data: what the file holds must be nowhere in the database ------------------------

_SEPARATORS = re.compile(r"[\s\-_·.,，、/\\|:;'\"`\u3000]+")


def fold(text: str) -> str:
    """Fold width, case and separators, so that 6217 0012 … matches 62170012…."""
    return _SEPARATORS.sub("", unicodedata.normalize("NFKC", text).casefold())


def needles(generated: GeneratedRoster) -> dict[str, str]:
    """Return label -> value of every raw personal value the file holds that must not be kept.

    Each is long enough (11 characters or more) not to turn up by chance in a hash or a
    timestamp: the full ID and its hidden middle (the mask shows the first 3 and the last 4),
    the account and its middle, the phone, the address.
    """
    found: dict[str, str] = {}
    for number in generated.ids:
        found[f"ID {number}"] = number
        found[f"ID middle of {number}"] = number[3:14]
    for number in generated.disability_numbers:
        found[f"残疾人证号 {number}"] = number
    for account in generated.accounts:
        found[f"account {account}"] = account
        found[f"account middle of {account}"] = account[4:-4]
    for phone in generated.phones:
        found[f"phone {phone}"] = phone
    for address in generated.addresses:
        found[f"address {address}"] = address
        found[f"house of {address}"] = address.removeprefix("城关镇")
    return {label: fold(value) for label, value in found.items()}


def table_texts() -> dict[str, str]:
    """Return every table of the database (every row of every column) as one text per table."""
    texts = {}
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            # The names come from the database itself, quoted.
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608
            cells = []
            for row in cursor.fetchall():
                for value in row:
                    if isinstance(value, memoryview | bytes):
                        value = bytes(value).decode("utf-8", errors="ignore")
                    cells.append("" if value is None else str(value))
            texts[table] = "\x1f".join(cells)
    return texts


def kept_file_texts() -> dict[str, str]:
    """Return the text of every file the import left in storage (staged rows, reports)."""
    texts = {}
    root = Path(settings.MEDIA_ROOT)
    for path in sorted(root.rglob("*")) if root.exists() else []:
        if not path.is_file():
            continue
        data = path.read_bytes()
        if data[:2] == b"\x1f\x8b":
            data = gzip.decompress(data)
        if data[:2] == b"PK":  # a workbook: every member's text
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                data = b"\n".join(archive.read(name) for name in archive.namelist())
        texts[str(path.relative_to(root))] = data.decode("utf-8", errors="ignore")
    return texts


def leaks(generated: GeneratedRoster) -> list[str]:
    """Return 'where: what' for every raw personal value found in a table or a kept file."""
    wanted = needles(generated)
    assert wanted, "the roster holds personal values to look for"
    found = []
    for where, text in {**table_texts(), **kept_file_texts()}.items():
        hay = fold(text)
        found += [f"{where}: {label}" for label, needle in wanted.items() if needle in hay]
    return found


# --- What was imported --------------------------------------------------------------------


def assert_imported(batch: Batch, generated: GeneratedRoster) -> None:
    """The batch holds every row the generator wrote, reconciled to the cent."""
    assert batch.total_amount == generated.total
    assert batch.row_count == generated.rows == len(generated.ids)
    assert Disbursement.objects.filter(batch=batch).count() == generated.rows
    amounts = Disbursement.objects.filter(batch=batch).values_list("amount", flat=True)
    assert sum(amounts, Decimal("0.00")) == generated.total
    assert batch.household_count == generated.households
    pay_dates = set(Disbursement.objects.filter(batch=batch).values_list("pay_date", flat=True))
    assert pay_dates == {generated.pay_date}, "a month is not a day: the pay date is unknown"


@pytest.mark.parametrize(("shape", "fmt"), CASES)
def test_the_command_path_imports_every_shape(tmp_path, shape, fmt):
    generated = generate(tmp_path, shape, fmt)
    program = make_program(SHAPES[shape].get("program", "耕地地力保护补贴"))

    report = import_roster(path=generated.path, program=program, period=PERIOD)

    assert report.status == ImportStatus.IMPORTED, (report.errors[:5], report.warnings[:5])
    assert (report.rows, report.total) == (generated.rows, generated.total)
    assert report.warnings == [], "the file agrees with itself: 实发 = 应发 − 扣款, parts add up"
    assert_imported(Batch.objects.get(pk=report.batch), generated)
    assert leaks(generated) == []


@pytest.mark.parametrize(("shape", "fmt"), CASES)
def test_the_staff_flow_imports_every_shape(tmp_path, shape, fmt):
    generated = generate(tmp_path, shape, fmt)
    program = make_program(SHAPES[shape].get("program", "耕地地力保护补贴"))
    upload = SimpleUploadedFile(generated.path.name, generated.path.read_bytes())

    job = create_job(upload=upload, program=program, period=PERIOD)
    assert job.status == ImportJob.Status.READY, (job.message, (job.report or {}).get("errors"))
    assert job.report["total"] == f"{generated.total:.2f}"
    staged = kept_file_texts()
    assert len(staged) == 1, "the upload is gone once staged; the staged rows are kept"
    assert leaks(generated) == [], "staged rows, preview and report hold masks and hashes only"
    assert request_confirm(job=job, publish=False)

    job.refresh_from_db()
    assert job.status == ImportJob.Status.IMPORTED, job.message
    assert_imported(Batch.objects.get(pk=job.batch_id), generated)
    assert leaks(generated) == []


def test_the_leak_check_finds_what_it_looks_for(tmp_path):
    """The needles are found when they are there: a phone and a grouped account in a note."""
    generated = generate(tmp_path, "clerks_list", "csv")
    program = make_program("高龄津贴")
    report = import_roster(path=generated.path, program=program, period=PERIOD)
    assert report.status == ImportStatus.IMPORTED
    account = generated.accounts[0]
    spaced = " ".join(account[i : i + 4] for i in range(0, len(account), 4))
    Batch.objects.filter(pk=report.batch).update(title=f"电话{generated.phones[1]} {spaced}")
    kept = Path(settings.MEDIA_ROOT) / "staged" / "planted.jsonl.gz"
    kept.parent.mkdir(parents=True, exist_ok=True)
    kept.write_bytes(gzip.compress(json.dumps([generated.addresses[2]]).encode()))
    found = leaks(generated)
    assert f"funds_batch: phone {generated.phones[1]}" in found
    assert f"funds_batch: account {account}" in found
    assert f"staged/planted.jsonl.gz: address {generated.addresses[2]}" not in found, "escaped"
    kept.write_bytes(
        gzip.compress(json.dumps([generated.addresses[2]], ensure_ascii=False).encode())
    )
    assert f"staged/planted.jsonl.gz: address {generated.addresses[2]}" in leaks(generated)


# --- import_payments ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("shape", "fmt", "name"),
    [
        ("low_income_by_member", "xlsx", "农村低保-2026-03.xlsx"),
        # Excel's "Unicode text" is saved as .txt; the file's bytes say what it is.
        ("clerks_list", "csv-utf16", "高龄津贴-2026-03.txt"),
    ],
)
def test_import_payments_imports_the_shapes(tmp_path, shape, fmt, name, django_user_model):
    generated = generate(tmp_path, shape, fmt)
    path = generated.path.rename(tmp_path / name)
    program = make_program(SHAPES[shape]["program"])
    out = io.StringIO()

    django_user_model.objects.create_user("cli", is_staff=True, is_superuser=True)
    call_command("import_payments", str(path), "--program", program.name, "--period", PERIOD,
                 "--json", "--user", "cli", stdout=out)  # fmt: skip

    line = json.loads(out.getvalue().strip().splitlines()[-1])
    assert (line["status"], line["rows"], line["total"], line["errors"]) == (
        ImportStatus.IMPORTED, generated.rows, f"{generated.total:.2f}", [],
    )  # fmt: skip
    assert_imported(Batch.objects.get(pk=line["batch"]), generated)
    assert leaks(generated) == []


def test_the_upload_form_takes_excels_unicode_text_as_saved(tmp_path, staff_user):
    generated = generate(tmp_path, "clerks_list", "csv-utf16")
    program = make_program("高龄津贴")
    upload = SimpleUploadedFile("高龄津贴-2026-03.txt", generated.path.read_bytes())
    form = ImportUploadForm(
        data={"program": program.pk, "period": PERIOD}, files={"file": upload}, user=staff_user
    )
    assert form.is_valid(), form.errors
