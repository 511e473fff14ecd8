"""Rows that need a yes: a tenfold typo is highlighted and confirmed only once ticked."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from funds.importing import anomalies
from funds.importing.parsed import Issue
from funds.importing.staging import stage_rows
from funds.models import Batch, ImportJob
from tests.factories import make_program
from tests.funds.importing.support import household_row, roster, table_counts, use_roster

pytestmark = pytest.mark.django_db

MISMATCH = Issue("Sheet1", 14, "金额", "数量×标准（10×135.191=1351.91）与金额13519.10不符",
                 "amount_mismatch")  # fmt: skip


def _rows():
    rows = [household_row(n) for n in range(10)]
    rows.append(household_row(10, amount="13519.10"))  # row 14: ten times what was meant
    return rows


def test_a_tenfold_amount_and_a_product_mismatch_are_anomalies():
    staged, _ = stage_rows(_rows(), township="城关镇", kind="per_household")
    found = anomalies.find([vars(MISMATCH) | {"message": MISMATCH.message}], staged)
    assert [a["key"] for a in found] == ["Sheet1:14"]  # one row, found both ways, listed once
    assert found[0]["code"] == "amount_mismatch"
    found = anomalies.find([], staged)
    assert [(a["row"], a["code"]) for a in found] == [(14, "outlier")]
    assert "13519.10" in found[0]["message"] and "100.00" in found[0]["message"]


def test_a_plain_roster_has_none():
    staged, _ = stage_rows([household_row(n) for n in range(10)], township="城关镇",
                           kind="per_household")  # fmt: skip
    assert anomalies.find([], staged) == []


def _upload(client):
    upload = SimpleUploadedFile(
        "花名册.csv", "姓名,金额\n张三,1\n".encode(), content_type="text/csv"
    )
    data = {"program": make_program().pk, "period": "2026-03", "township": "", "file": upload}
    client.post(reverse("funds:upload"), data)
    return ImportJob.objects.get()


def test_the_preview_highlights_them_and_confirm_needs_each_ticked(staff_client, monkeypatch):
    use_roster(monkeypatch, roster(_rows(), warnings=[MISMATCH]))
    job = _upload(staff_client)
    page = staff_client.get(reverse("funds:job_detail", args=[job.pk])).content.decode()
    assert "需要核对后才能确认" in page and 'value="Sheet1:14"' in page
    hints = page[page.index("problems anomalies") :]
    assert "不影响导入" not in hints, "the mismatch is not listed again as a mere hint"

    before = table_counts()
    refused = staff_client.post(reverse("funds:job_confirm", args=[job.pk]), {"new_township": "on"})
    assert refused.status_code == 200 and "checked" in refused.context["form"].errors
    assert table_counts() == before and not Batch.objects.exists()

    staff_client.post(
        reverse("funds:job_confirm", args=[job.pk]),
        {"new_township": "on", "checked": ["Sheet1:14"]},
    )
    job.refresh_from_db()
    assert job.status == "imported"
    assert job.report["acknowledged"] == ["Sheet1:14"]
    from funds.models import AuditEntry

    confirm = AuditEntry.objects.get(kind="confirm")
    assert confirm.details["acknowledged"] == ["Sheet1:14"] and confirm.username == "staff"
    assert Batch.objects.get().total_amount == Decimal("14519.10")


def test_a_tick_for_a_row_that_is_not_listed_is_refused(staff_client, monkeypatch):
    use_roster(monkeypatch, roster(_rows(), warnings=[MISMATCH]))
    job = _upload(staff_client)
    response = staff_client.post(
        reverse("funds:job_confirm", args=[job.pk]),
        {"new_township": "on", "checked": ["Sheet1:99"]},
    )
    assert response.status_code == 200 and not Batch.objects.exists()
