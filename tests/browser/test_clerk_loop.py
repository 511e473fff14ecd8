"""The clerk's loop as a clerk clicks it: confirm with a second look, a double publication
refused, a withdrawal with its reason seen by the public, the file imported again after it."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.urls import reverse

from demo.rostergen import generate_roster
from funds.models import AuditEntry, Batch, ImportJob
from tests.factories import make_program

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _roster(tmp_path: Path, name: str) -> Path:
    path = tmp_path / name
    generate_roster(path, fmt="xlsx", rows=10, seed=7, villages=["红星村"])
    return path


def _submit(page, selector: str) -> None:
    with page.expect_navigation():
        page.locator(selector).first.click()


def _sign_in(page, user) -> None:
    page.goto(reverse("admin:login") + "?next=" + reverse("funds:job_list"))
    page.fill("#id_username", user.username)
    page.fill("#id_password", "staff-pass-123")
    _submit(page, "[type=submit]")


def _upload(page, program, path: Path) -> ImportJob:
    page.goto(reverse("funds:upload"))
    page.select_option("#id_program", str(program.pk))
    page.fill("#id_period", "2026-03")
    page.fill("#id_township", "城关镇")
    page.set_input_files("#id_file", str(path))
    _submit(page, ".staff-form [type=submit]")
    return ImportJob.objects.order_by("-created_at").first()


def _tick_anomalies(page) -> None:
    """Tick each row needing a yes, and the new township (城关镇 is new the first time)."""
    for box in page.locator("input[name=checked], input[name=new_township]").all():
        box.check()


def test_a_clerk_publishes_is_stopped_from_publishing_twice_and_withdraws(page, staff_user,
                                                                          tmp_path):  # fmt: skip
    program = make_program("耕地地力保护补贴（浏览器）", slug="grain-browser", unit="亩")
    original = _roster(tmp_path, "三月.xlsx")
    _sign_in(page, staff_user)

    # Import and publish, each with its second look.
    first = _upload(page, program, original)
    _tick_anomalies(page)
    _submit(page, "form.confirm [type=submit]")
    batch = Batch.objects.get(pk=ImportJob.objects.get(pk=first.pk).batch_id)
    page.goto(reverse("funds:batch_detail", args=[batch.pk]))
    _submit(page, f"a[href='{reverse('funds:batch_confirm', args=[batch.pk, 'publish'])}']")
    assert "工作日" in page.inner_text("main")
    _submit(page, "form.confirm [type=submit]")
    assert Batch.objects.get(pk=batch.pk).status == Batch.Status.PUBLICITY

    # The same roster saved again: other bytes, same payments. Confirming needs a reason; the
    # clerk discards it instead.
    resaved = tmp_path / "三月（修改）.xlsx"
    resaved.write_bytes(original.read_bytes() + b"\0")
    again = _upload(page, program, resaved)
    assert "可能重复发放" in page.inner_text("main")
    assert f"#{batch.pk}" in page.inner_text(".conflicts")
    _tick_anomalies(page)
    page.locator("form.confirm [type=submit]").click()  # the browser asks for the reason
    assert page.locator("#id_override_reason:invalid").count() == 1
    assert Batch.objects.count() == 1
    _submit(page, "form.abandon [type=submit]")
    assert ImportJob.objects.get(pk=again.pk).status == ImportJob.Status.ABANDONED

    # Withdraw with a reason: the public page stays and says why; the QR code still works.
    page.goto(reverse("funds:batch_confirm", args=[batch.pk, "withdraw"]))
    page.fill("#id_reason", "名单有误，核对后重新公示")
    _submit(page, "form.confirm [type=submit]")
    assert Batch.objects.get(pk=batch.pk).status == Batch.Status.WITHDRAWN
    assert AuditEntry.objects.get(kind="withdraw").reason == "名单有误，核对后重新公示"
    page.goto(reverse("publicity:batch", args=[batch.pk]))
    public = page.inner_text("main")
    assert "已撤回" in public and "名单有误，核对后重新公示" in public

    # The withdrawn batch's file can be imported again.
    reimport = _upload(page, program, original)
    assert ImportJob.objects.get(pk=reimport.pk).status == ImportJob.Status.READY
    _tick_anomalies(page)
    _submit(page, "form.confirm [type=submit]")
    assert ImportJob.objects.get(pk=reimport.pk).status == ImportJob.Status.IMPORTED
    assert Batch.objects.exclude(pk=batch.pk).get().source_sha256 == batch.source_sha256
