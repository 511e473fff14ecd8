"""The staff import flow in the browser: upload → progress → preview → confirm → batch."""

from __future__ import annotations

import io
from datetime import date

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import load_workbook

from funds.importing.parsed import Column, Issue
from funds.models import Batch, ImportJob
from tests.factories import make_program
from tests.funds.importing.support import household_row, roster, table_counts, use_roster

pytestmark = pytest.mark.django_db


def _upload(client, program, name="花名册.csv", content="姓名,金额\n张三,1\n", **extra):
    data = {
        "program": program.pk,
        "period": "2026-03",
        "township": "",
        "file": SimpleUploadedFile(name, content.encode(), content_type="text/csv"),
        **extra,
    }
    return client.post(reverse("funds:upload"), data)


def test_the_whole_flow_from_upload_to_a_published_batch(staff_client, monkeypatch):
    rows = [household_row(n) for n in range(25)]
    calls: list = []
    use_roster(monkeypatch, roster(rows), calls)
    program = make_program()

    response = _upload(staff_client, program)
    job = ImportJob.objects.get()
    assert response.status_code == 302 and response.url == reverse(
        "funds:job_detail", args=[job.pk]
    )
    assert job.status == ImportJob.Status.READY
    assert not job.file, "the upload with raw IDs is deleted once staged"

    status = staff_client.get(reverse("funds:job_status", args=[job.pk])).json()
    assert status["status"] == "ready" and status["progress"] == 100 and status["done"]

    page = staff_client.get(reverse("funds:job_detail", args=[job.pk])).content.decode()
    assert "2500.00" in page and "红星村" in page and "确认导入" in page
    assert rows[0].id_number not in page and rows[0].name not in page
    assert rows[0].id_number[:3] + "*" in page
    assert page.count("<tr>") >= 20

    response = staff_client.post(
        reverse("funds:job_confirm", args=[job.pk]), {"new_township": "on", "publish": "on"}
    )
    assert response.status_code == 302
    job.refresh_from_db()
    assert job.status == ImportJob.Status.IMPORTED and job.batch is not None
    assert job.batch.status == Batch.Status.PUBLICITY and job.batch.row_count == 25
    assert len(calls) == 1, "confirm does not parse the file again"
    assert not job.staged

    batch_page = staff_client.get(reverse("funds:batch_detail", args=[job.batch.pk]))
    assert batch_page.status_code == 200 and rows[0].id_number not in batch_page.content.decode()


def test_confirming_twice_imports_once(staff_client, monkeypatch):
    use_roster(monkeypatch, roster([household_row(1)]))
    _upload(staff_client, make_program())
    job = ImportJob.objects.get()
    url = reverse("funds:job_confirm", args=[job.pk])
    staff_client.post(url, {"new_township": "on"})
    staff_client.post(url, {"new_township": "on"})
    assert Batch.objects.count() == 1


def test_a_rejected_upload_lists_every_error_and_offers_a_masked_report(staff_client, monkeypatch):
    rows = [household_row(n) for n in range(3)]
    errors = [
        Issue("Sheet1", 2, "身份证号", "身份证号校验位不正确", "check_digit"),
        Issue("Sheet1", 3, "金额", "金额不能为负数", "negative"),
    ]
    use_roster(monkeypatch, roster(rows, errors=errors, sheets=["花名册"]))
    program = make_program()
    before = table_counts()
    raw_id = rows[0].id_number
    csv = f"姓名,身份证号,金额\n张小三,{raw_id},-5\n李四,{raw_id},1\n"

    _upload(staff_client, program, content=csv)

    job = ImportJob.objects.get()
    assert job.status == ImportJob.Status.REJECTED and not job.file
    page = staff_client.get(reverse("funds:job_detail", args=[job.pk])).content.decode()
    assert "身份证号校验位不正确" in page and "金额不能为负数" in page and "确认导入" not in page
    counts = table_counts()
    assert counts.pop("funds.ImportJob") == before.pop("funds.ImportJob") + 1
    assert counts.pop("funds.AuditEntry") == before.pop("funds.AuditEntry") + 1, "the upload"
    assert counts == before

    response = staff_client.get(reverse("funds:job_error_report", args=[job.pk]))
    assert response.status_code == 200
    data = b"".join(response.streaming_content)
    book = load_workbook(io.BytesIO(data), read_only=True)
    cells = [
        str(c) for ws in book.worksheets for row in ws.iter_rows(values_only=True) for c in row
    ]
    assert any("校验位不正确" in c for c in cells)
    assert not any(raw_id in c for c in cells), "the report never holds a raw ID"
    assert "张小三" not in cells and "张*三" in cells
    sheet = book.worksheets[-1]
    bad_row = next(sheet.iter_rows(min_row=2, max_row=2, values_only=True))
    assert "校验位不正确" in bad_row[-1]


def test_a_bad_form_is_shown_again_with_messages(staff_client):
    program = make_program()
    response = _upload(staff_client, program, name="roster.exe", period="2026-13")
    assert response.status_code == 200
    text = response.content.decode()
    assert "只支持" in text and "发放期间" in text
    assert ImportJob.objects.count() == 0


def test_a_png_named_xlsx_is_rejected_as_not_a_spreadsheet(staff_client, monkeypatch):
    calls: list = []
    use_roster(monkeypatch, roster([household_row(1)]), calls)
    png = "\x89PNG\r\n\x1a\n" + "\0" * 64
    _upload(staff_client, make_program(), name="roster.xlsx", content=png)
    job = ImportJob.objects.get()
    assert job.status == ImportJob.Status.REJECTED and calls == []
    assert job.report["errors"]


def test_the_same_file_uploaded_again_is_reported_as_already_imported(staff_client, monkeypatch):
    use_roster(monkeypatch, roster([household_row(1)]))
    program = make_program()
    _upload(staff_client, program)
    first = ImportJob.objects.get()
    staff_client.post(reverse("funds:job_confirm", args=[first.pk]), {"new_township": "on"})
    _upload(staff_client, program)
    second = ImportJob.objects.exclude(pk=first.pk).get()
    assert second.status == ImportJob.Status.DUPLICATE
    assert Batch.objects.count() == 1


def test_the_job_list_pages_without_a_query_per_job(
    staff_client, monkeypatch, django_assert_max_num_queries
):
    use_roster(monkeypatch, roster([household_row(1)]))
    program = make_program()
    for n in range(5):
        _upload(staff_client, program, content=f"姓名,金额\n张三,{n}\n")
    with django_assert_max_num_queries(6):
        response = staff_client.get(reverse("funds:job_list"))
    assert response.status_code == 200 and response.content.decode().count("roster") == 0


@pytest.mark.parametrize(
    ("name", "method", "args"),
    [
        ("funds:job_list", "get", []),
        ("funds:upload", "get", []),
        ("funds:batch_list", "get", []),
    ],
)
def test_anonymous_users_are_sent_to_log_in(client, name, method, args):
    response = getattr(client, method)(reverse(name, args=args))
    assert response.status_code == 302 and "login" in response.url


def test_every_staff_page_is_forbidden_to_users_who_are_not_staff(
    client, django_user_model, monkeypatch, staff_client
):
    use_roster(monkeypatch, roster([household_row(1)]))
    program = make_program()
    _upload(staff_client, program)
    job = ImportJob.objects.get()
    staff_client.post(reverse("funds:job_confirm", args=[job.pk]), {"new_township": "on"})
    batch = Batch.objects.get()
    staff_client.logout()
    villager = django_user_model.objects.create_user(username="villager", password="x-long-pass-1")
    client.force_login(villager)
    for url in [
        reverse("funds:job_list"),
        reverse("funds:upload"),
        reverse("funds:job_detail", args=[job.pk]),
        reverse("funds:job_status", args=[job.pk]),
        reverse("funds:job_error_report", args=[job.pk]),
        reverse("funds:batch_list"),
        reverse("funds:batch_detail", args=[batch.pk]),
    ]:
        assert client.get(url).status_code == 403, url
    assert (
        client.post(
            reverse("funds:batch_action", args=[batch.pk]),
            {"action": "publish", "confirmed": "yes"},
        ).status_code
        == 403
    )
    assert _upload(client, program, content="x,y\n1,2\n").status_code == 403
    batch.refresh_from_db()
    assert batch.status == Batch.Status.DRAFT


def test_posts_without_a_csrf_token_are_refused(django_user_model):
    from django.test import Client

    user = django_user_model.objects.create_user(
        username="s", password="x-long-pass-1", is_staff=True
    )
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    program = make_program()
    assert _upload(client, program).status_code == 403


def test_staff_publish_finalize_and_withdraw_from_the_batch_page(staff_client, monkeypatch):
    use_roster(monkeypatch, roster([household_row(1)]))
    _upload(staff_client, make_program())
    staff_client.post(
        reverse("funds:job_confirm", args=[ImportJob.objects.get().pk]),
        {"new_township": "on"},
    )
    batch = Batch.objects.get()
    url = reverse("funds:batch_action", args=[batch.pk])

    staff_client.post(url, {"action": "publish", "confirmed": "yes"})
    batch.refresh_from_db()
    assert batch.status == Batch.Status.PUBLICITY
    response = staff_client.post(url, {"action": "finalize", "confirmed": "yes"}, follow=True)
    assert Batch.objects.get(pk=batch.pk).status == Batch.Status.PUBLICITY
    assert "结束后才能定稿" in response.content.decode()
    Batch.objects.filter(pk=batch.pk).update(publicity_end=date(2026, 3, 1))  # the period ends
    staff_client.post(url, {"action": "finalize", "confirmed": "yes"})
    batch.refresh_from_db()
    assert batch.status == Batch.Status.FINAL
    response = staff_client.post(
        url, {"action": "withdraw", "confirmed": "yes", "reason": "重复上传"}, follow=True
    )
    batch.refresh_from_db()
    assert batch.status == Batch.Status.FINAL, "a final batch cannot be withdrawn"
    assert "不能执行此操作" in response.content.decode()
    staff_client.post(url, {"action": "delete-everything"})
    batch.refresh_from_db()
    assert batch.status == Batch.Status.FINAL


def test_the_running_page_refreshes_itself_without_javascript(staff_client):
    job = ImportJob.objects.create(
        program=make_program(), period="2026-03", original_name="a.csv", sha256="0" * 64
    )
    page = staff_client.get(reverse("funds:job_detail", args=[job.pk])).content.decode()
    assert 'http-equiv="refresh"' in page and "progress.js" in page
    assert reverse("funds:job_status", args=[job.pk]) in page


def test_a_failing_job_is_marked_failed_and_its_log_quotes_no_cell(monkeypatch, caplog):
    """The exception's text may quote a roster's cell: the log names its type and place."""
    from funds.importing import tasks

    def crash(*, job):
        raise ValueError("invalid literal for int(): '341122196001010013' 张三")

    monkeypatch.setattr(tasks, "stage_roster", crash)
    job = ImportJob.objects.create(
        program=make_program(), period="2026-03", original_name="a.csv", sha256="0" * 64
    )

    assert tasks.stage_import_task.call(str(job.pk)) == ImportJob.Status.FAILED
    job.refresh_from_db()
    assert job.status == ImportJob.Status.FAILED
    assert "ValueError" in caplog.text and "crash" in caplog.text
    assert "341122196001010013" not in caplog.text and "张三" not in caplog.text


def test_a_roster_with_unsettled_columns_stops_for_mapping_not_rejection(staff_client, monkeypatch):
    rows = [household_row(n) for n in range(2)]
    columns = [
        Column("Sheet1", 0, "A", "姓名", "name", ("张*",)),
        Column("Sheet1", 1, "B", "身份证号码", "id_number", ("341***********1234",)),
        Column("Sheet1", 2, "C", "应发", "", ("120.00",)),
        Column("Sheet1", 3, "D", "实付", "", ("100.00",)),
    ]
    error = Issue("Sheet1", None, "金额", "工作表缺少“金额”列", "missing_column")
    parsed = roster(rows, errors=[error], columns=columns, unsettled=["amount"], signature="s1")
    use_roster(monkeypatch, parsed)
    _upload(staff_client, make_program())

    job = ImportJob.objects.get()
    assert job.status == ImportJob.Status.NEEDS_MAPPING
    assert job.file and not job.staged and not job.report["error_report"]
    status = staff_client.get(reverse("funds:job_status", args=[job.pk])).json()
    assert status["done"], "the page stops polling and shows the mapping form"
    text = staff_client.get(reverse("funds:job_detail", args=[job.pk])).content.decode()
    assert "指定各列的内容" in text and "实付" in text and "341***********1234" in text
    assert "个人信息，不保存" in text and "重新上传" not in text
    assert reverse("funds:job_mapping", args=[job.pk]) in text
    listing = staff_client.get(reverse("funds:job_list")).content.decode()
    assert "待指定列" in listing


def test_a_message_is_shown_once(staff_client, monkeypatch):
    use_roster(monkeypatch, roster([household_row(1)]))
    _upload(staff_client, make_program())
    staff_client.post(
        reverse("funds:job_confirm", args=[ImportJob.objects.get().pk]),
        {"new_township": "on"},
    )
    batch = Batch.objects.get()
    page = staff_client.post(
        reverse("funds:batch_action", args=[batch.pk]),
        {"action": "publish", "confirmed": "yes"},
        follow=True,
    ).content.decode()
    assert page.count("批次状态已更新为") == 1


def test_draft_rows_are_to_be_paid_not_paid(staff_client, monkeypatch):
    use_roster(monkeypatch, roster([household_row(1)]))
    _upload(staff_client, make_program())
    staff_client.post(
        reverse("funds:job_confirm", args=[ImportJob.objects.get().pk]),
        {"new_township": "on"},
    )
    url = reverse("funds:batch_detail", args=[Batch.objects.get().pk])
    page = staff_client.get(url).content.decode()
    rows = page[page.index("<tbody>") :]
    assert "待发放" in rows and "已发放" not in rows


def test_a_form_error_keeps_what_was_chosen_and_asks_for_the_file_again(staff_client):
    program = make_program()
    response = _upload(staff_client, program, period="2026-13", township="城关镇")
    page = response.content.decode()
    assert response.status_code == 200
    assert 'value="2026-13"' in page and 'value="城关镇"' in page
    assert f'<option value="{program.pk}" selected>' in page
    assert "请重新选择文件" in page
    assert 'placeholder="2026-03"' not in page


def test_a_new_township_is_created_only_when_the_clerk_says_so(staff_client, monkeypatch):
    """旧县 typed for 旧县镇: the preview names the likely township; confirming needs a yes."""
    from villages.models import Township

    Township.objects.create(name="旧县镇")
    use_roster(monkeypatch, roster([household_row(1, township="旧县")]))
    _upload(staff_client, make_program())
    job = ImportJob.objects.get()
    page = staff_client.get(reverse("funds:job_detail", args=[job.pk])).content.decode()
    assert "新乡镇：旧县" in page and "旧县镇" in page and 'name="new_township"' in page
    refused = staff_client.post(reverse("funds:job_confirm", args=[job.pk]))
    assert refused.status_code == 200 and "new_township" in refused.context["form"].errors
    assert not Batch.objects.exists() and Township.objects.count() == 1
    staff_client.post(reverse("funds:job_confirm", args=[job.pk]), {"new_township": "on"})
    assert set(Township.objects.values_list("name", flat=True)) == {"旧县", "旧县镇"}
