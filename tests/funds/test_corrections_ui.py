"""Staff correct a published batch in the browser: select rows, preview, confirm, publish."""

from __future__ import annotations

import re
from decimal import Decimal
from urllib.parse import unquote

import pytest
from django.test import Client
from django.urls import reverse

from funds import publishing
from funds.models import Batch, Disbursement
from privacy import personal
from tests.factories import make_batch, make_program, make_village, person_name, unique_id_number

pytestmark = pytest.mark.django_db

STAMP = "2026-03-10T09:00:00+08:00"


def _rows(count: int, start: int = 0) -> list[tuple[str, str, Decimal]]:
    return [
        (person_name(n), unique_id_number(n), Decimal("100.00"))
        for n in range(start, start + count)
    ]


@pytest.fixture
def published() -> Batch:
    return make_batch(make_program(), make_village(), _rows(3))


def _data(rows: list[dict], reason: str = "面积核实有误", stamp: str = STAMP) -> dict:
    data = {
        "rows-TOTAL_FORMS": str(len(rows)),
        "rows-INITIAL_FORMS": str(len(rows)),
        "rows-MIN_NUM_FORMS": "0",
        "rows-MAX_NUM_FORMS": "200",
        "reason": reason,
        "stamp": stamp,
    }
    for n, row in enumerate(rows):
        for key, value in row.items():
            data[f"rows-{n}-{key}"] = value
    return data


def _first(batch: Batch, count: int = 1) -> list[Disbursement]:
    return list(batch.disbursements.order_by("id")[:count])


def _counts() -> tuple[int, int]:
    return Batch.objects.count(), Disbursement.objects.count()


def _confirm(client, batch: Batch, rows: list[dict], **kwargs):
    return client.post(
        reverse("funds:batch_correct_confirm", args=[batch.pk]), _data(rows, **kwargs)
    )


def test_a_published_batch_page_offers_a_correction_and_a_draft_does_not(staff_client, published):
    page = staff_client.get(reverse("funds:batch_detail", args=[published.pk])).content.decode()
    assert reverse("funds:batch_correct", args=[published.pk]) in page
    assert "本批次还没有更正" in page
    draft = make_batch(make_program(), make_village(), _rows(1, 10), status=Batch.Status.DRAFT)
    page = staff_client.get(reverse("funds:batch_detail", args=[draft.pk])).content.decode()
    assert reverse("funds:batch_correct", args=[draft.pk]) not in page


def test_rows_are_found_by_masked_name_village_and_sheet_row(staff_client, published):
    first, second, third = _first(published, 3)
    url = reverse("funds:batch_correct", args=[published.pk])

    page = staff_client.get(url, {"q": first.person.name_masked}).content.decode()
    assert f'value="{first.pk}"' in page

    page = staff_client.get(url, {"q": "Sheet1", "row": second.source_row}).content.decode()
    assert f'name="sel" value="{second.pk}"' in page
    assert f'name="sel" value="{first.pk}"' not in page
    assert f'name="sel" value="{third.pk}"' not in page

    page = staff_client.get(url, {"q": "没有这个村"}).content.decode()
    assert "没有符合条件的记录" in page
    other = make_village("向阳村")
    assert staff_client.get(url, {"q": other.name}).context["page"].paginator.count == 0
    assert staff_client.get(url, {"q": "红星"}).context["page"].paginator.count == 3


def test_the_search_pages_keep_the_selection_and_use_few_queries(
    staff_client, django_assert_max_num_queries
):
    batch = make_batch(make_program(), make_village(), _rows(60))
    rows = _first(batch, 60)
    url = reverse("funds:batch_correct", args=[batch.pk])
    chosen = [rows[0].pk, rows[40].pk]
    with django_assert_max_num_queries(8):
        response = staff_client.get(url, {"page": 2, "sel": chosen})
    page = response.content.decode()
    assert response.context["page"].number == 2 and len(response.context["page"]) == 25
    hidden = 'type="hidden" name="sel" value="{}"'
    assert page.count(hidden.format(rows[0].pk)) == 2, "kept by both the search and the select"
    assert page.count(hidden.format(rows[40].pk)) == 1, "on this page: a checkbox, not hidden"
    assert f'value="{rows[40].pk}" id="sel-{rows[40].pk}" checked' in page
    assert "page=3" in page and "sel=" in page, "the next-page link keeps the selection"
    assert 'name="rows-TOTAL_FORMS" value="2"' in page
    for row in rows:
        assert unique_id_number(rows.index(row)) not in page


def test_preview_shows_reversal_replacement_and_net_change_and_writes_nothing(
    staff_client, published
):
    first, second = _first(published, 2)
    before = _counts()
    response = staff_client.post(
        reverse("funds:batch_correct_preview", args=[published.pk]),
        _data([{"row": first.pk, "amount": "80"}, {"row": second.pk, "withdraw": "on"}]),
    )
    assert response.status_code == 200 and _counts() == before
    page = response.content.decode()
    assert "更正预览" in page and "-100.00" in page and "80.00" in page
    assert "-20.00" in page and "整笔撤销" in page
    assert response.context["form"].net() == Decimal("-120.00")
    assert response.context["form"].new_total() == Decimal("180.00")
    assert reverse("funds:batch_correct_confirm", args=[published.pk]) in page
    assert 'name="reason" value="面积核实有误"' in page


def test_confirming_creates_a_draft_correction_batch_the_original_lists(staff_client, published):
    first, second, third = _first(published, 3)
    response = _confirm(
        staff_client,
        published,
        [
            {"row": first.pk, "amount": "80.5"},
            {"row": second.pk, "status": "stopped"},
            {"row": third.pk, "withdraw": "on"},
        ],
    )
    correction = Batch.objects.get(corrects=published)
    assert response.status_code == 302
    assert response.url == reverse("funds:batch_detail", args=[correction.pk])
    assert correction.status == Batch.Status.DRAFT
    assert correction.source_name == "更正-test.xlsx" and len(correction.source_sha256) == 64
    assert correction.total_amount == Decimal("-219.50")
    reversals = correction.disbursements.filter(is_reversal=True)
    assert {r.corrects_id for r in reversals} == {first.pk, second.pk, third.pk}
    assert all(r.amount == Decimal("-100.00") for r in reversals)
    replacements = {r.corrects_id: r for r in correction.disbursements.filter(is_reversal=False)}
    assert set(replacements) == {first.pk, second.pk}, "a withdrawn payment is only reversed"
    assert replacements[first.pk].amount == Decimal("80.50")
    assert replacements[first.pk].status == Disbursement.Status.PAID
    stopped = replacements[second.pk]
    assert (stopped.amount, stopped.status) == (Decimal("0.00"), Disbursement.Status.STOPPED)
    assert stopped.note == "面积核实有误"
    first.refresh_from_db()
    assert first.amount == Decimal("100.00") and first.batch_id == published.pk

    page = staff_client.get(reverse("funds:batch_detail", args=[published.pk])).content.decode()
    assert reverse("funds:batch_detail", args=[correction.pk]) in page and "-219.50" in page

    staff_client.post(
        reverse("funds:batch_action", args=[correction.pk]),
        {"action": "publish", "confirmed": "yes"},
    )
    correction.refresh_from_db()
    assert correction.status == Batch.Status.PUBLICITY


def test_a_stopped_payment_may_keep_an_amount_and_a_failed_one_keeps_its_own(
    staff_client, published
):
    first, second = _first(published, 2)
    _confirm(
        staff_client,
        published,
        [
            {"row": first.pk, "status": "stopped", "amount": "30"},
            {"row": second.pk, "status": "failed"},
        ],
    )
    replacements = Batch.objects.get(corrects=published).disbursements.filter(is_reversal=False)
    values = {r.corrects_id: (r.amount, r.status) for r in replacements}
    assert values == {
        first.pk: (Decimal("30.00"), Disbursement.Status.STOPPED),
        second.pk: (Decimal("100.00"), Disbursement.Status.FAILED),
    }


def test_the_reason_is_scrubbed_of_personal_numbers(staff_client, published):
    raw = unique_id_number(777)
    (first,) = _first(published)
    data = [{"row": first.pk, "amount": "90"}]
    preview = staff_client.post(
        reverse("funds:batch_correct_preview", args=[published.pk]),
        _data(data, reason=f"代领人{raw}电话13912345678"),
    ).content.decode()
    assert raw not in preview and "13912345678" not in preview
    _confirm(staff_client, published, data, reason=f"代领人{raw}电话13912345678")
    note = Disbursement.objects.get(corrects=first, is_reversal=False).note
    assert raw not in note and "13912345678" not in note and note.startswith("代领人")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"amount": "-5"}, "金额不能为负数"),
        ({"amount": "一百"}, "请输入金额数字"),
        ({"amount": "NaN"}, "请输入金额数字"),
        ({"amount": "1.234"}, "最多两位小数"),
        ({"amount": "1" * 20}, "金额太大"),
        ({"status": "paid-twice"}, "选择一个有效的选项"),
        ({"withdraw": "on", "amount": "5"}, "整笔撤销时不要再填写金额或状态"),
        ({}, "没有需要更正的记录"),
        ({"amount": "100.00"}, "没有需要更正的记录"),
    ],
)
def test_bad_input_gives_a_chinese_form_error_and_writes_nothing(
    staff_client, published, change, message
):
    (first,) = _first(published)
    before = _counts()
    for name in ("funds:batch_correct_preview", "funds:batch_correct_confirm"):
        response = staff_client.post(
            reverse(name, args=[published.pk]), _data([{"row": first.pk, **change}])
        )
        assert response.status_code == 200
        assert message in response.content.decode()
        assert _counts() == before


def test_a_row_of_another_batch_or_a_reversal_row_is_refused(staff_client, published):
    other = make_batch(make_program("另一项目"), make_village(), _rows(1, 50))
    (foreign,) = _first(other)
    before = _counts()
    response = _confirm(staff_client, published, [{"row": foreign.pk, "amount": "1"}])
    assert response.status_code == 200 and "不是本批次可更正的记录" in response.content.decode()
    response = _confirm(staff_client, published, [{"row": "x'; drop table", "amount": "1"}])
    assert response.status_code == 200
    (first,) = _first(published)
    response = _confirm(
        staff_client,
        published,
        [{"row": first.pk, "amount": "1"}, {"row": first.pk, "amount": "2"}],
    )
    assert "同一条记录只能出现一次" in response.content.decode()
    assert _counts() == before


@pytest.mark.parametrize("status", [Batch.Status.DRAFT, Batch.Status.WITHDRAWN])
def test_a_draft_or_withdrawn_batch_cannot_be_corrected(staff_client, status):
    batch = make_batch(make_program(), make_village(), _rows(2), status=status)
    (first,) = _first(batch)
    page = staff_client.get(reverse("funds:batch_correct", args=[batch.pk])).content.decode()
    assert "只能更正公示中或已定稿的批次" in page and "rows-TOTAL_FORMS" not in page
    before = _counts()
    response = _confirm(staff_client, batch, [{"row": first.pk, "amount": "1"}])
    assert (
        response.status_code == 200 and "只能更正公示中或已定稿的批次" in response.content.decode()
    )
    assert _counts() == before


def test_a_final_batch_can_be_corrected(staff_client):
    batch = make_batch(make_program(), make_village(), _rows(1), status=Batch.Status.FINAL)
    (first,) = _first(batch)
    assert _confirm(staff_client, batch, [{"row": first.pk, "amount": "1"}]).status_code == 302
    assert batch.corrections.count() == 1


def test_confirming_twice_makes_one_correction(staff_client, published):
    (first,) = _first(published)
    _confirm(staff_client, published, [{"row": first.pk, "amount": "1"}])
    before = _counts()
    response = _confirm(staff_client, published, [{"row": first.pk, "amount": "1"}])
    assert _counts() == before
    assert response.status_code == 200 and "已在更正批次" in response.content.decode()


def test_a_row_is_corrected_again_only_after_its_draft_correction_is_withdrawn(
    staff_client, published
):
    (first,) = _first(published)
    _confirm(staff_client, published, [{"row": first.pk, "amount": "1"}])
    draft = Batch.objects.get(corrects=published)
    response = _confirm(
        staff_client,
        published,
        [{"row": first.pk, "amount": "2"}],
        stamp="2026-03-11T09:00:00+08:00",
    )
    assert (
        "已在更正批次" in response.content.decode() and f"#{draft.pk}" in response.content.decode()
    )
    staff_client.post(
        reverse("funds:batch_action", args=[draft.pk]),
        {"action": "withdraw", "confirmed": "yes", "reason": "重复上传"},
    )
    response = _confirm(
        staff_client,
        published,
        [{"row": first.pk, "amount": "2"}],
        stamp="2026-03-11T09:00:00+08:00",
    )
    assert response.status_code == 302 and published.corrections.count() == 2


def test_a_published_correction_is_itself_corrected_through_its_replacement_rows(
    staff_client, published
):
    (first,) = _first(published)
    _confirm(staff_client, published, [{"row": first.pk, "amount": "80"}])
    correction = Batch.objects.get(corrects=published)
    staff_client.post(
        reverse("funds:batch_action", args=[correction.pk]),
        {"action": "publish", "confirmed": "yes"},
    )
    replacement = correction.disbursements.get(is_reversal=False)
    reversal = correction.disbursements.get(is_reversal=True)
    refused = _confirm(staff_client, correction, [{"row": reversal.pk, "amount": "1"}])
    assert "不是本批次可更正的记录" in refused.content.decode()
    assert (
        _confirm(staff_client, correction, [{"row": replacement.pk, "amount": "90"}]).status_code
        == 302
    )
    assert correction.corrections.get().total_amount == Decimal("10.00")


def test_tampered_management_form_and_stamp_give_errors_not_500s(staff_client, published):
    (first,) = _first(published)
    url = reverse("funds:batch_correct_confirm", args=[published.pk])
    before = _counts()
    data = _data([{"row": first.pk, "amount": "1"}])
    for broken in (
        {**data, "rows-TOTAL_FORMS": "x"},
        {**data, "rows-TOTAL_FORMS": "100000"},
        {k: v for k, v in data.items() if not k.startswith("rows-")},
        {**data, "stamp": "2026-13-45T99:00:00"},
        {**data, "stamp": "not a time"},
        {**data, "reason": ""},
        {**data, "reason": "长" * 201},
    ):
        assert staff_client.post(url, broken).status_code == 200
    assert _counts() == before
    assert staff_client.get(url).status_code == 405


def test_the_same_change_may_be_made_again_from_a_new_page_after_a_withdrawal(
    staff_client, published
):
    """The page's timestamp is part of the fingerprint; an old page sent again is refused."""
    (first,) = _first(published)
    change = [{"row": first.pk, "amount": "1"}]
    assert _confirm(staff_client, published, change).status_code == 302
    withdrawn = published.corrections.get()
    publishing.withdraw_batch(batch=withdrawn, user=None)
    before = _counts()

    again = _confirm(staff_client, published, change)  # the old page, same stamp

    assert again.status_code == 200 and "已经提交过" in again.content.decode()
    assert _counts() == before
    fresh = _confirm(staff_client, published, change, stamp="2026-03-12T09:00:00+08:00")
    assert fresh.status_code == 302
    assert published.corrections.count() == 2
    assert published.corrections.exclude(status=Batch.Status.WITHDRAWN).count() == 1


def test_anonymous_users_are_sent_to_log_in_and_others_are_forbidden(
    client, django_user_model, published
):
    (first,) = _first(published)
    urls = [
        ("get", reverse("funds:batch_correct", args=[published.pk])),
        ("post", reverse("funds:batch_correct_preview", args=[published.pk])),
        ("post", reverse("funds:batch_correct_confirm", args=[published.pk])),
    ]
    data = _data([{"row": first.pk, "amount": "1"}])
    for method, url in urls:
        response = getattr(client, method)(url, data)
        assert response.status_code == 302 and "login" in response.url
    villager = django_user_model.objects.create_user(username="v", password="x-long-pass-1")
    client.force_login(villager)
    for method, url in urls:
        assert getattr(client, method)(url, data).status_code == 403
    assert not published.corrections.exists()


def test_a_confirmation_without_a_csrf_token_is_refused(django_user_model, published):
    user = django_user_model.objects.create_user(
        username="s", password="x-long-pass-1", is_staff=True
    )
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    (first,) = _first(published)
    assert _confirm(client, published, [{"row": first.pk, "amount": "1"}]).status_code == 403
    assert not published.corrections.exists()


def _confirm_form_fields(page: str) -> list[tuple[str, str]]:
    form = page.split('class="confirm"', 1)[1].split("</form>", 1)[0]
    return re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form)


def test_the_preview_form_confirms_exactly_what_it_shows(staff_client, published):
    first, second = _first(published, 2)
    rows = [{"row": first.pk, "amount": "70"}, {"row": second.pk, "withdraw": "on"}]
    preview = staff_client.post(
        reverse("funds:batch_correct_preview", args=[published.pk]), _data(rows)
    ).content.decode()
    fields = _confirm_form_fields(preview)
    assert ("reason", "面积核实有误") in fields
    response = staff_client.post(
        reverse("funds:batch_correct_confirm", args=[published.pk]), dict(fields)
    )
    assert response.status_code == 302
    correction = published.corrections.get()
    assert correction.total_amount == Decimal("-130.00") and correction.row_count == 3

    back = staff_client.post(
        reverse("funds:batch_correct_preview", args=[published.pk]), {**dict(fields), "edit": "1"}
    ).content.decode()
    assert 'value="70"' in back and "预览更正" in back, "going back keeps what was typed"


def test_two_confirmations_racing_past_the_check_make_one_batch(
    staff_client, published, monkeypatch
):
    """If both clicks pass the already-corrected check, the unique fingerprint stops one."""
    (first,) = _first(published)
    _confirm(staff_client, published, [{"row": first.pk, "amount": "1"}])
    monkeypatch.setattr(publishing, "live_corrections", lambda ids: {})
    before = _counts()
    response = _confirm(staff_client, published, [{"row": first.pk, "amount": "1"}])
    correction = published.corrections.get()
    assert response.status_code == 302
    assert response.url == reverse("funds:batch_detail", args=[correction.pk])
    assert _counts() == before


# --- Finding persons by real name or ID number; area, rate and amounts as clerks write them ---

REAL_NAME, REAL_ID = "王小明", unique_id_number(901)


@pytest.fixture
def per_area() -> Batch:
    """A per-area subsidy: 王小明 was paid for 10 亩 at 82.569 元 (825.69) but farms 9.4086."""
    rows = [(REAL_NAME, REAL_ID, Decimal("825.69")), *_rows(2, 910)]
    batch = make_batch(make_program("耕地补贴", unit="亩"), make_village(), rows)
    Disbursement.objects.filter(batch=batch).update(quantity=Decimal("10"), rate=Decimal("82.569"))
    return batch


def _search(client, batch: Batch, **data):
    return client.post(reverse("funds:batch_correct", args=[batch.pk]), data)


@pytest.mark.parametrize("typed", [REAL_NAME, REAL_ID, REAL_ID.lower(), " ".join(REAL_ID)])
def test_a_person_is_found_by_real_name_or_id_number_which_never_reaches_the_url(
    staff_client, per_area, typed
):
    row = per_area.disbursements.get(person__name_hash=personal.hash_name(REAL_NAME))
    response = _search(staff_client, per_area, q=typed)
    assert response.status_code == 302
    assert REAL_NAME not in unquote(response.url) and REAL_ID[6:14] not in response.url
    page = staff_client.get(response.url)
    assert [d.pk for d in page.context["page"]] == [row.pk]
    html = page.content.decode()
    assert REAL_NAME not in html and REAL_ID not in html
    assert row.person.name_masked in html


def test_the_masked_name_and_the_row_number_still_find_rows_through_the_search_box(
    staff_client, per_area
):
    row = per_area.disbursements.order_by("id").first()
    response = _search(staff_client, per_area, q=row.person.name_masked)
    assert [d.pk for d in staff_client.get(response.url).context["page"]] == [row.pk]
    response = _search(staff_client, per_area, q="", row=str(row.source_row))
    assert [d.pk for d in staff_client.get(response.url).context["page"]] == [row.pk]


def test_an_id_number_that_fails_its_check_is_an_error_that_does_not_quote_it(
    staff_client, per_area
):
    wrong = REAL_ID[:-1] + ("0" if REAL_ID[-1] != "0" else "1")
    response = _search(staff_client, per_area, q=wrong)
    assert response.status_code == 200
    html = response.content.decode()
    assert "身份证号" in html and "校验" in html and wrong not in html


def test_the_search_keeps_the_rows_already_chosen(staff_client, per_area):
    second = per_area.disbursements.order_by("id")[1]
    response = _search(staff_client, per_area, q=REAL_NAME, sel=[str(second.pk)])
    assert f"sel={second.pk}" in response.url


def test_changing_the_area_recomputes_the_amount_and_keeps_the_rate(staff_client, per_area):
    row = per_area.disbursements.get(person__name_hash=personal.hash_name(REAL_NAME))
    preview = staff_client.post(
        reverse("funds:batch_correct_preview", args=[per_area.pk]),
        _data([{"row": row.pk, "quantity": "9.4086"}]),
    )
    lines = preview.context["form"].lines()
    assert [line.replacement.amount for line in lines] == [Decimal("776.86")]
    assert "776.86" in preview.content.decode() and "9.4086" in preview.content.decode()
    assert (
        _confirm(staff_client, per_area, [{"row": row.pk, "quantity": "9.4086"}]).status_code == 302
    )
    new = Disbursement.objects.get(corrects=row, is_reversal=False)
    assert (new.quantity, new.rate, new.amount) == (
        Decimal("9.4086"), Decimal("82.569"), Decimal("776.86"),
    )  # fmt: skip


def test_changing_the_rate_recomputes_the_amount(staff_client, per_area):
    row = per_area.disbursements.get(person__name_hash=personal.hash_name(REAL_NAME))
    _confirm(staff_client, per_area, [{"row": row.pk, "rate": "80"}])
    new = Disbursement.objects.get(corrects=row, is_reversal=False)
    assert (new.quantity, new.rate, new.amount) == (Decimal("10"), Decimal("80"), Decimal("800.00"))


@pytest.mark.parametrize(("typed", "ok"), [("776.86", True), ("776.87", True), ("767.86", False)])
def test_a_typed_amount_must_agree_with_area_times_rate_within_a_cent(
    staff_client, per_area, typed, ok
):
    row = per_area.disbursements.get(person__name_hash=personal.hash_name(REAL_NAME))
    before = _counts()
    response = _confirm(
        staff_client, per_area, [{"row": row.pk, "quantity": "9.4086", "amount": typed}]
    )
    if ok:
        assert response.status_code == 302
        assert Disbursement.objects.get(corrects=row, is_reversal=False).amount == Decimal(typed)
    else:
        assert response.status_code == 200 and _counts() == before
        assert "776.86" in response.content.decode() and "不符" in response.content.decode()


@pytest.mark.parametrize(
    "typed", ["776.86元", "¥776.86", "￥776.86", "776.86 元", "７７６.８６", "776.86元整"]
)
def test_amounts_are_read_as_clerks_write_them(staff_client, per_area, typed):
    row = per_area.disbursements.get(person__name_hash=personal.hash_name(REAL_NAME))
    assert _confirm(staff_client, per_area, [{"row": row.pk, "amount": typed}]).status_code == 302
    assert Disbursement.objects.get(corrects=row, is_reversal=False).amount == Decimal("776.86")


def test_an_amount_with_thousands_separators_is_read(staff_client, published):
    (first,) = _first(published)
    assert (
        _confirm(staff_client, published, [{"row": first.pk, "amount": "1,351.91"}]).status_code
        == 302
    )
    assert Disbursement.objects.get(corrects=first, is_reversal=False).amount == Decimal("1351.91")


def test_real_names_in_the_reason_are_masked_before_preview_and_storage(staff_client, per_area):
    row = per_area.disbursements.select_related("person").get(
        person__name_hash=personal.hash_name(REAL_NAME)
    )
    reason = f"{REAL_NAME}实际种植面积 9.4086 亩"
    preview = staff_client.post(
        reverse("funds:batch_correct_preview", args=[per_area.pk]),
        _data([{"row": row.pk, "quantity": "9.4086"}], reason=reason),
    ).content.decode()
    assert REAL_NAME not in preview and row.person.name_masked in preview
    _confirm(staff_client, per_area, [{"row": row.pk, "quantity": "9.4086"}], reason=reason)
    correction = per_area.corrections.get()
    assert REAL_NAME not in correction.reason and "实际种植面积" in correction.reason
    assert correction.title.startswith("更正公示：")
