"""Traps a clerk meets, clicked through: a tenfold typo needs a tick, and the masked error
report sent back is refused with a message saying what it is."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest

from funds.models import AuditEntry, Batch, ImportJob
from tests.browser.test_clerk_loop import _sign_in, _submit, _upload
from tests.factories import make_program, person_name, unique_id_number

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _sheet(path: Path, amounts: list[str], *, bad_id_row: int | None = None) -> Path:
    """A small per-area roster: 面积 × 标准 = 金额, except where AMOUNTS says otherwise."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["城关镇红星村2026年3月耕地地力保护补贴发放花名册"])
    sheet.append(["村", "姓名", "身份证号码", "面积", "标准", "金额"])
    for n, amount in enumerate(amounts):
        number = unique_id_number(n + 300)
        if n == bad_id_row:
            number = number[:-1] + ("0" if number[-1] != "0" else "1")
        sheet.append(["红星村", person_name(n + 300), number, 10, 135.191, amount])
    book.save(path)
    return path


def test_a_tenfold_typo_is_highlighted_and_confirmed_only_once_ticked(page, staff_user, tmp_path):
    program = make_program("耕地补贴（浏览器）", slug="grain-traps", unit="亩")
    amounts = ["1351.91"] * 7 + ["13519.10"]
    _sign_in(page, staff_user)
    job = _upload(page, program, _sheet(tmp_path / "三月.xlsx", amounts))
    assert "需要核对后才能确认" in page.inner_text("main")
    assert page.locator(".anomalies tbody tr").count() == 1
    page.check("input[name=new_township]")
    _submit(page, "form.confirm [type=submit]")  # not ticked: refused, nothing written
    assert "请逐条核对并勾选" in page.inner_text("main")
    assert not Batch.objects.exists()
    page.check("input[name=checked]")
    _submit(page, "form.confirm [type=submit]")
    job = ImportJob.objects.get(pk=job.pk)
    assert job.status == ImportJob.Status.IMPORTED
    assert Batch.objects.get().total_amount == Decimal("1351.91") * 7 + Decimal("13519.10")
    assert (
        AuditEntry.objects.get(kind="confirm").details["acknowledged"] == job.report["acknowledged"]
    )


def test_the_error_report_sent_back_is_refused_saying_what_it_is(page, staff_user, tmp_path):
    program = make_program("耕地补贴（浏览器二）", slug="grain-traps-2", unit="亩")
    _sign_in(page, staff_user)
    _upload(page, program, _sheet(tmp_path / "三月.xlsx", ["1351.91"] * 4, bad_id_row=2))
    assert "未通过校验" in page.inner_text("#job-status")
    with page.expect_download() as download:
        page.click("a[href$='errors.xlsx']")
    report = tmp_path / "校验结果.xlsx"
    download.value.save_as(report)
    book = openpyxl.load_workbook(report)
    assert all(
        "不能再次导入"
        in " ".join(str(c) for row in s.iter_rows(values_only=True) for c in row if c)
        for s in book.worksheets
    )

    _upload(page, program, report)
    assert "未通过校验" in page.inner_text("#job-status")
    assert "校验结果文件" in page.inner_text("main")
    assert page.locator(".problems.errors li, .problems.errors tr").count() >= 1
    assert not Batch.objects.exists()
