"""Bank return files: failures and re-sends are added as entries; a row is never edited."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from openpyxl import Workbook

from funds import payments
from funds.models import Batch, Disbursement, PaymentResult, PaymentReturn, current_state
from privacy import personal
from tests.factories import id_number, make_batch, make_program, make_village, person_name

pytestmark = pytest.mark.django_db

TODAY = date(2026, 4, 30)
HEADER = "户名,身份证号,账号,金额,处理结果,失败原因,日期"


@pytest.fixture
def batch() -> Batch:
    program = make_program("耕地地力保护补贴")
    village = make_village("红星村", "城关镇")
    rows = [(person_name(i), id_number(i), Decimal("100.00") + i) for i in range(4)]
    return make_batch(program, village, rows, status=Batch.Status.PUBLICITY)


def row_of(batch: Batch, n: int) -> Disbursement:
    return batch.disbursements.get(person__id_hash=personal.hash_id_number(id_number(n)))


def csv_file(*lines: str, title: str = "某农商银行代发失败清单", encoding: str = "gbk") -> bytes:
    return "\n".join([title, HEADER, *lines, ""]).encode(encoding)


def line(n: int, result: str, day: str, reason: str = "", amount: str | None = None) -> str:
    money = amount or f"{Decimal('100.00') + n}"
    return f"{person_name(n)},{id_number(n)},,{money},{result},{reason},{day}"


def import_file(batch: Batch, data: bytes, name: str = "回盘.csv") -> PaymentReturn:
    check = payments.check_return(batch=batch, data=data, filename=name, today=TODAY)
    assert check.ok(), check.errors
    return payments.record_payment_results(
        batch=batch, lines=check.lines, original_name=name, sha256=check.sha256, today=TODAY
    )


def snapshot(batch: Batch) -> list[tuple]:
    fields = [f.attname for f in Disbursement._meta.concrete_fields]
    return list(Disbursement.objects.filter(batch=batch).order_by("id").values_list(*fields))


def states(batch: Batch) -> dict[int, str]:
    rows = list(batch.disbursements.order_by("id"))
    histories = PaymentResult.objects.histories(r.pk for r in rows)
    return {r.pk: current_state(r.status, histories.get(r.pk)) for r in rows}


def test_a_failure_then_a_resend_are_entries_with_history_and_rows_never_change(batch):
    """Failed, then re-sent: two entries in order, the row's state follows, the row stays."""
    before = snapshot(batch)
    first = import_file(batch, csv_file(line(0, "失败", "2026-03-20", "账户已销户")))
    second = import_file(
        batch,
        csv_file(line(0, "重发成功", "2026-04-02"), line(1, "失败", "2026-04-02", "户名不符")),
        name="回盘2.csv",
    )
    assert snapshot(batch) == before
    a, b = row_of(batch, 0), row_of(batch, 1)
    history = PaymentResult.objects.histories([a.pk])[a.pk]
    assert [(r.kind, r.result_date, r.reason) for r in history] == [
        ("failed", date(2026, 3, 20), "account_closed"),
        ("resent", date(2026, 4, 2), ""),
    ]
    assert history[0].payment_return == first and history[1].payment_return == second
    assert states(batch)[a.pk] == "resent"
    assert states(batch)[b.pk] == "failed"
    assert (first.failed_count, second.failed_count, second.resent_count) == (1, 1, 1)


def test_a_failure_and_its_resend_in_one_file_are_taken_in_date_order(batch):
    import_file(batch, csv_file(line(2, "重发成功", "2026-04-10"), line(2, "退票", "2026-03-25")))
    row = row_of(batch, 2)
    kinds = [r.kind for r in PaymentResult.objects.histories([row.pk])[row.pk]]
    assert kinds == ["failed", "resent"]


def test_a_success_of_a_payment_that_never_failed_adds_nothing(batch):
    check = payments.check_return(
        batch=batch, data=csv_file(line(3, "成功", "2026-03-20")), filename="a.csv", today=TODAY
    )
    assert check.ok() and check.planned == [] and check.unchanged == 1


def test_the_same_file_twice_is_imported_once(batch):
    data = csv_file(line(0, "失败", "2026-03-20", "账户冻结"))
    import_file(batch, data)
    check = payments.check_return(batch=batch, data=data, filename="again.csv", today=TODAY)
    assert check.duplicate and not check.ok()
    with pytest.raises(ValidationError):
        payments.record_payment_results(
            batch=batch, lines=check.lines or [], original_name="again.csv",
            sha256=check.sha256, today=TODAY,
        )  # fmt: skip
    assert PaymentResult.objects.count() == 1 and PaymentReturn.objects.count() == 1


def test_unmatched_lines_amounts_and_bad_ids_are_errors_at_their_place_and_nothing_is_written(
    batch,
):
    stranger = f"{person_name(99)},{id_number(99)},,100.00,失败,,2026-03-20"
    bad_id = id_number(1)[:-1] + ("0" if id_number(1)[-1] != "0" else "1")
    data = csv_file(
        line(0, "失败", "2026-03-20"),
        stranger,
        line(1, "失败", "2026-03-20", amount="999.00"),
        f"{person_name(2)},{bad_id},,102.00,失败,,2026-03-20",
    )
    check = payments.check_return(batch=batch, data=data, filename="bad.csv", today=TODAY)
    assert not check.ok()
    places = {(e.sheet, e.row, e.column, e.code) for e in check.errors}
    assert ("bad", 4, "身份证号", "not_in_batch") in places
    assert ("bad", 5, "金额", "amount_differs") in places
    assert any(e.row == 6 and e.column == "身份证号" for e in check.errors)
    text = " ".join(e.message for e in check.errors)
    for secret in (id_number(99), bad_id, person_name(99), "999.00"):
        assert secret not in text
    assert PaymentResult.objects.count() == 0 and PaymentReturn.objects.count() == 0


def test_a_line_is_matched_by_account_hash_when_the_file_has_no_id(batch):
    row = row_of(batch, 1)
    Disbursement.objects.filter(pk=row.pk).update(
        account_hash=personal.hash_account("6217000011112222")
    )
    data = "户名,卡号,交易金额,状态,退回原因\n某某,6217000011112222,101.00,失败,账号不存在\n"
    check = payments.check_return(batch=batch, data=data.encode(), filename="acct.csv", today=TODAY)
    assert check.ok(), check.errors
    assert [(r.disbursement_id, r.reason) for r in check.planned] == [(row.pk, "invalid_account")]


def test_an_xlsx_with_a_title_row_merged_over_it_and_a_totals_row_is_read(batch):
    book = Workbook()
    sheet = book.active
    sheet.title = "退票明细"
    sheet.append(["城关镇耕地地力保护补贴代发退票明细"])
    sheet.merge_cells("A1:G1")
    sheet.append(HEADER.split(","))
    for n in (0, 1):
        sheet.append([person_name(n), id_number(n), "", float(100 + n), "失败", "户名不一致",
                      "2026-03-20"])  # fmt: skip
    sheet.append(["合计", "", "", 201.0, "", "", ""])
    sheet.append(["制表人：", "", "", "", "", "", ""])
    buffer = io.BytesIO()
    book.save(buffer)
    import_file(batch, buffer.getvalue(), name="退票.xlsx")
    assert sorted(r.reason for r in PaymentResult.objects.all()) == ["name_mismatch"] * 2


def test_a_totals_row_that_disagrees_is_an_error(batch):
    data = csv_file(line(0, "失败", "2026-03-20"), "合计,,,1.00,,,")
    check = payments.check_return(batch=batch, data=data, filename="t.csv", today=TODAY)
    assert [(e.row, e.code) for e in check.errors] == [(4, "total_mismatch")]


def test_a_date_before_the_last_result_is_an_error(batch):
    import_file(batch, csv_file(line(0, "失败", "2026-03-20")))
    data = csv_file(line(0, "重发成功", "2026-03-01"))
    check = payments.check_return(batch=batch, data=data, filename="old.csv", today=TODAY)
    assert [(e.row, e.column, e.code) for e in check.errors] == [(3, "日期", "date_before_last")]


def test_the_free_text_reason_is_scrubbed_of_numbers_and_names(batch):
    reason = f"其他原因{person_name(0)}电话13912345678"
    import_file(batch, csv_file(line(0, "失败", "2026-03-20", reason)))
    result = PaymentResult.objects.get()
    assert result.reason == "other"
    assert "13912345678" not in result.note and person_name(0) not in result.note


@pytest.mark.parametrize("status", [Batch.Status.DRAFT, Batch.Status.WITHDRAWN])
def test_a_batch_not_published_is_refused(batch, status):
    data = csv_file(line(0, "失败", "2026-03-20"))
    check = payments.check_return(batch=batch, data=data, filename="a.csv", today=TODAY)
    Batch.objects.filter(pk=batch.pk).update(status=status)
    batch.refresh_from_db()
    with pytest.raises(ValidationError):
        payments.check_return(batch=batch, data=data, filename="a.csv", today=TODAY)
    with pytest.raises(ValidationError):
        payments.record_payment_results(
            batch=batch, lines=check.lines, original_name="a.csv", sha256=check.sha256,
            today=TODAY,
        )  # fmt: skip
    assert PaymentResult.objects.count() == 0


def test_matching_is_one_query_per_chunk_whatever_the_number_of_lines(
    batch, django_assert_max_num_queries
):
    data = csv_file(*(line(n % 4, "失败", "2026-03-20") for n in range(40)))
    with django_assert_max_num_queries(4):
        payments.check_return(batch=batch, data=data, filename="q.csv", today=TODAY)


# --- Staff pages -------------------------------------------------------------------------------


def upload(client, batch: Batch, data: bytes, name: str = "回盘.csv"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    url = reverse("funds:batch_returns", args=[batch.pk])
    return client.post(url, {"file": SimpleUploadedFile(name, data)})


def test_staff_upload_previews_counts_then_confirm_writes_the_entries(staff_client, batch):
    data = csv_file(line(0, "失败", "2026-03-20", "账户已销户"), line(1, "退回", "2026-03-21"))
    response = upload(staff_client, batch, data)
    assert response.status_code == 200
    assert response.context["check"].failed_count == 2
    assert response.context["check"].failed_amount == Decimal("201.00")
    assert PaymentResult.objects.count() == 0  # a preview writes nothing
    staged = response.context["confirm"]["staged"].value()
    assert id_number(0) not in staged and person_name(0) not in staged
    confirm = reverse("funds:batch_returns_confirm", args=[batch.pk])
    response = staff_client.post(confirm, {"staged": staged})
    assert response.status_code == 302
    assert PaymentResult.objects.count() == 2
    # Sent twice (a double click): imported once.
    staff_client.post(confirm, {"staged": staged})
    assert PaymentResult.objects.count() == 2 and PaymentReturn.objects.count() == 1
    page = staff_client.get(reverse("funds:batch_detail", args=[batch.pk]))
    assert "回盘.csv" in page.content.decode()


def test_staff_preview_lists_errors_with_their_place_and_offers_no_confirm(staff_client, batch):
    stranger = f"{person_name(99)},{id_number(99)},,100.00,失败,,2026-03-20"
    response = upload(staff_client, batch, csv_file(stranger))
    assert response.context["confirm"] is None
    body = response.content.decode()
    assert "本批次中没有这笔发放" in body and id_number(99) not in body


def test_an_altered_confirmation_is_refused(staff_client, batch):
    response = upload(staff_client, batch, csv_file(line(0, "失败", "2026-03-20")))
    staged = response.context["confirm"]["staged"].value()
    confirm = reverse("funds:batch_returns_confirm", args=[batch.pk])
    staff_client.post(confirm, {"staged": staged[:-2] + "xx"})
    assert PaymentResult.objects.count() == 0


@pytest.mark.parametrize("status", [Batch.Status.DRAFT, Batch.Status.WITHDRAWN])
def test_staff_pages_refuse_a_batch_not_published(staff_client, batch, status):
    Batch.objects.filter(pk=batch.pk).update(status=status)
    response = upload(staff_client, batch, csv_file(line(0, "失败", "2026-03-20")))
    assert response.status_code == 403
    confirm = reverse("funds:batch_returns_confirm", args=[batch.pk])
    assert staff_client.post(confirm, {"staged": "x"}).status_code == 403
    assert PaymentResult.objects.count() == 0


def test_the_pages_are_for_staff_only(client, django_user_model, batch):
    url = reverse("funds:batch_returns", args=[batch.pk])
    assert client.get(url).status_code == 302  # to log in
    client.force_login(django_user_model.objects.create_user("someone", password="x-12345678"))
    assert client.get(url).status_code == 403


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE funds_paymentresult SET amount = 1",
        "DELETE FROM funds_paymentresult",
        "UPDATE funds_paymentreturn SET failed_count = 0",
        "DELETE FROM funds_paymentreturn",
    ],
)
def test_the_database_refuses_to_rewrite_or_remove_a_result(batch, sql):
    from django.db import DatabaseError, connection, transaction

    import_file(batch, csv_file(line(0, "失败", "2026-03-20", "账户已销户")))
    before = list(PaymentResult.objects.values_list("id", "amount", "kind"))
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql)
    assert list(PaymentResult.objects.values_list("id", "amount", "kind")) == before
    assert PaymentReturn.objects.get().failed_count == 1


def test_another_townships_clerk_cannot_record_results(client, township_clerk, batch):
    """The clerk of 东乡镇 may record results there, not in 城关镇: a 404, nothing written."""
    client.force_login(township_clerk)
    data = csv_file(line(0, "失败", "2026-03-20", "账户已销户"))
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("回盘.csv", data, content_type="text/csv")
    url = reverse("funds:batch_returns", args=[batch.pk])
    assert client.post(url, {"file": upload}).status_code == 404
    assert client.post(reverse("funds:batch_returns_confirm", args=[batch.pk])).status_code == 404
    with pytest.raises(PermissionDenied):
        payments.record_payment_results(
            batch=batch, lines=[], original_name="x.csv", sha256="f" * 64, user=township_clerk
        )
    assert not PaymentResult.objects.exists() and not PaymentReturn.objects.exists()
