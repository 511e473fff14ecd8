"""Build the demo: messy roster files generated like real ones, loaded by the real import.

DEMO ONLY. The names and ID numbers are generated (valid check digits, nobody real), and the
demo password is random per machine, kept in var/demo.env.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils import timezone

from demo.rostergen import generate_roster
from funds.importing.jobs import import_roster
from funds.importing.reports import ImportReport
from funds.models import Batch, ImportStatus, Program
from funds.publishing import finalize_batch, publish_batch

TOWNSHIP = "城关镇"
VILLAGES = ("东风村", "红旗村", "新华村", "幸福村", "和平村", "光明村")
#: Persons per village, by person number (demo.rostergen's village_span): rosters that share
#: people (overlapping offsets) put each in one village, so a household's rows all name its
#: village (funds.consistency; ``manage.py check_consistency`` finds none that disagree).
VILLAGE_SPAN = 200
DEMO_USER = "demo"


@dataclass(frozen=True)
class DemoRoster:
    """One demo roster file: how it is generated and where its batch ends up."""

    filename: str
    fmt: str
    program: str
    period: str
    rows: int
    seed: int
    state: str  # Batch.Status after loading: draft, publicity or final
    options: dict[str, Any] = field(default_factory=dict)


# Offsets choose who is paid: the same offset means the same people (paid every month, or by
# two programs), so the demo shows one person with several entries.
ROSTERS = (
    DemoRoster("耕地地力保护补贴-2025.xlsx", "xlsx", "耕地地力保护补贴", "2025-04", 1200, 11,
               "final", {"unique_offset": 0}),
    DemoRoster("耕地地力保护补贴-2026.xlsx", "xlsx", "耕地地力保护补贴", "2026-04", 1200, 12,
               "publicity", {"unique_offset": 0, "one_sheet_per_village": True}),
    DemoRoster("农村低保-2026-01.csv", "csv-gbk", "农村最低生活保障", "2026-01", 450, 21,
               "final", {"per_person": True, "with_quantity": False, "unique_offset": 900,
                         "title_rows": False}),
    DemoRoster("农村低保-2026-02.xls", "xls", "农村最低生活保障", "2026-02", 450, 21,
               "publicity", {"per_person": True, "with_quantity": False, "unique_offset": 900,
                             "with_status": True}),
    DemoRoster("高龄津贴-2026-03.ods", "ods", "高龄津贴", "2026-03", 300, 31,
               "publicity", {"with_quantity": False, "unique_offset": 3000}),
    DemoRoster("残疾人两项补贴-2026-03.xlsx", "xlsx", "残疾人两项补贴", "2026-03", 250, 41,
               "draft", {"with_quantity": False, "unique_offset": 1000, "merged_village": False}),
    # The shapes offices write besides (see demo.rostergen): the same households as February
    # under a two-row 应发 / 扣款 / 实发 header, role-named headers, pages' headers repeated;
    DemoRoster("农村低保-2026-03.xlsx", "xlsx", "农村最低生活保障", "2026-03", 450, 21,
               "publicity", {"per_person": True, "with_quantity": False, "unique_offset": 900,
                             "money": "gross_net", "office_headers": True,
                             "repeat_header_every": 40}),
    # 生活补贴 + 护理补贴 beside their 合计, the amount in words (大写), 残疾人证号 for the ID,
    # accounts in groups of four;
    DemoRoster("残疾人两项补贴-2026-04.xlsx", "xlsx", "残疾人两项补贴", "2026-04", 250, 41,
               "publicity", {"with_quantity": False, "unique_offset": 1000, "money": "parts",
                             "amount_words": True, "id_column": "disability",
                             "accounts": "grouped"}),
    # Excel's "Unicode text" (UTF-16, tab-separated), paid by the month (no pay day), with
    # phone and address columns that are never stored.
    DemoRoster("高龄津贴-2026-04.csv", "csv-utf16", "高龄津贴", "2026-04", 300, 31, "final",
               {"with_quantity": False, "unique_offset": 3000, "pay_dates": "month",
                "contact_columns": True}),
)  # fmt: skip


def demo_dir() -> Path:
    return Path(settings.VAR_DIR) / "demo"


def generate_files(directory: Path | None = None) -> list[tuple[DemoRoster, Path]]:
    """Write the demo roster files that are missing (existing ones are kept byte for byte)."""
    directory = directory or demo_dir()
    directory.mkdir(parents=True, exist_ok=True)
    files = []
    for spec in ROSTERS:
        path = directory / spec.filename
        if not path.exists():
            generate_roster(
                path,
                fmt=spec.fmt,
                rows=spec.rows,
                seed=spec.seed,
                township=TOWNSHIP,
                villages=list(VILLAGES),
                village_span=VILLAGE_SPAN,
                program=spec.program,
                period=spec.period,
                **spec.options,
            )
        files.append((spec, path))
    return files


def _settle(batch: Batch, state: str) -> None:
    """Move a freshly imported draft to the state the demo wants."""
    if state == Batch.Status.DRAFT:
        return
    today = timezone.localdate()
    if state == Batch.Status.FINAL:
        publish_batch(batch=batch, start=today - timedelta(days=30))
        finalize_batch(batch=batch)
    else:
        publish_batch(batch=batch, start=today - timedelta(days=2))


def load_demo(*, directory: Path | None = None, progress=None) -> list[ImportReport]:
    """Generate the demo rosters and import them; a second run finds them all imported."""
    reports = []
    for spec, path in generate_files(directory):
        program = Program.objects.get(name=spec.program)
        report = import_roster(path=path, program=program, period=spec.period, progress=progress)
        if report.status == ImportStatus.IMPORTED:
            _settle(Batch.objects.get(pk=report.batch), spec.state)
        reports.append(report)
    return reports


def env_file() -> Path:
    return Path(settings.VAR_DIR) / "demo.env"


def demo_password() -> str:
    """Return the demo password from var/demo.env, generating and saving it the first time."""
    path = env_file()
    lines = path.read_text().splitlines() if path.exists() else []
    for line in lines:
        if line.startswith("SUNLIGHT_DEMO_PASSWORD="):
            return line.split("=", 1)[1].strip()
    password = secrets.token_urlsafe(12)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as fh:
        fh.write(
            "# DEMO ONLY — the demo staff account's password; never use in production.\n"
            f"SUNLIGHT_DEMO_PASSWORD={password}\n"
        )
    return password


def ensure_demo_user() -> tuple[str, str]:
    """Create or reset the demo staff account; return (username, password)."""
    password = demo_password()
    user, _created = get_user_model().objects.get_or_create(username=DEMO_USER)
    user.is_staff = user.is_superuser = True
    if not user.check_password(password):
        user.set_password(password)
    user.save()
    return DEMO_USER, password
