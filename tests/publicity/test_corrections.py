"""Corrections in plain sight: the corrected notice is marked, the correction says what it is,
and village and household pages show each person's net amount with its history folded under it.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from funds.models import Batch, Disbursement
from funds.publishing import Replacement, correct_batch, publish_batch
from tests.factories import make_batch, make_program, make_village, person_name, unique_id_number

pytestmark = pytest.mark.django_db

REASON_NAME = "王小明"


@pytest.fixture
def original() -> Batch:
    """A published notice of three households: 825.69 for 王小明, 100.00 for the others."""
    rows = [
        (REASON_NAME, unique_id_number(701), Decimal("825.69")),
        (person_name(702), unique_id_number(702), Decimal("100.00")),
        (person_name(703), unique_id_number(703), Decimal("100.00")),
    ]
    batch = make_batch(make_program("耕地补贴", slug="gengdi", unit="亩"), make_village(), rows)
    batch.title = "2026年3月耕地地力保护补贴"
    batch.publicity_start = date(2026, 3, 2)
    batch.save()
    return batch


def _correct(batch: Batch, amount: str = "776.86", *, n: int = 1, publish: bool = True) -> Batch:
    rows = list(batch.disbursements.filter(is_reversal=False).order_by("id")[:n])
    correction = correct_batch(
        original=batch,
        changes={row.pk: Replacement(Decimal(amount)) for row in rows},
        source_name="x",
        source_sha256=f"{batch.pk:02d}{n:02d}{amount}".ljust(64, "0")[:64],
        reason=f"{REASON_NAME}实际面积少报，电话13912345678",
    )
    if publish:
        publish_batch(batch=correction, start=date(2026, 3, 20))
    return correction


def _text(page: str) -> str:
    """Return the text of PAGE without its tags."""
    return re.sub(r"<[^>]+>", "", page)


def _get(client, name: str, *args) -> str:
    response = client.get(reverse(f"publicity:{name}", args=args))
    assert response.status_code == 200
    return response.content.decode()


def test_the_original_notice_marks_each_corrected_row_and_says_so_in_a_banner(client, original):
    correction = _correct(original)
    page = _get(client, "batch", original.pk)
    link = reverse("publicity:batch", args=[correction.pk])
    assert page.count("已更正") >= 2 and f'href="{link}"' in page
    assert f"本批次有 1 条记录已更正，见更正公示 #{correction.pk}" in _text(page)
    assert "825.69" in page, "the notice still shows what it published"


def test_a_draft_correction_marks_nothing_for_the_public(client, original):
    _correct(original, publish=False)
    for name in ("batch", "batch_print"):
        page = _get(client, name, original.pk)
        assert "已更正" not in page and "更正公示" not in page


def test_the_print_marks_corrected_rows_and_carries_the_banner(client, original):
    correction = _correct(original)
    page = _get(client, "batch_print", original.pk)
    assert f"本批次有 1 条记录已更正，见更正公示 #{correction.pk}" in _text(page)
    assert page.count("已更正") >= 2


def test_downloads_mark_corrected_rows_with_the_correction(client, original):
    correction = _correct(original)
    response = client.get(reverse("publicity:batch_download", args=[original.pk, "csv"]))
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    table = list(csv.reader(io.StringIO(text)))
    assert table[0][-1] == "更正情况"
    marks = [line[-1] for line in table[1:]]
    assert marks.count(f"已更正，见更正公示 #{correction.pk}") == 1
    assert marks.count("") == 2
    response = client.get(reverse("publicity:batch_download", args=[original.pk, "xlsx"]))
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    column = [row[-1] for row in sheet.iter_rows(values_only=True)]
    assert column[0] == "更正情况" and f"已更正，见更正公示 #{correction.pk}" in column


def test_the_notice_page_finds_its_corrected_rows_in_one_query(
    client, original, django_assert_max_num_queries
):
    _correct(original)
    with django_assert_max_num_queries(100) as captured:
        client.get(reverse("publicity:batch", args=[original.pk]))
    baseline = len(captured.captured_queries)
    rows = [(person_name(800 + n), unique_id_number(800 + n), Decimal("5.00")) for n in range(30)]
    big = make_batch(
        original.program, original.disbursements.first().village, rows, period="2026-05"
    )
    _correct(big, "4.00", n=20)
    with django_assert_max_num_queries(baseline):
        page = client.get(reverse("publicity:batch", args=[big.pk])).content.decode()
    assert "本批次有 20 条记录已更正" in page


def test_a_correction_is_labelled_with_its_reason_and_what_it_corrects(client, original):
    correction = _correct(original)
    page = _get(client, "batch", correction.pk)
    assert "更正公示" in page and 'class="badge correction"' in page
    assert f'href="{reverse("publicity:batch", args=[original.pk])}"' in page
    assert "实际面积少报" in page and REASON_NAME not in page and "13912345678" not in page
    assert "-48.83" in page


def test_the_program_page_shows_a_correction_as_one_not_as_a_negative_notice(client, original):
    correction = _correct(original)
    page = _get(client, "program", "gengdi")
    (item,) = [
        li
        for li in page.split("<li>")
        if f'href="{reverse("publicity:batch", args=[correction.pk])}"' in li
    ]
    item = item.split("</li>", 1)[0]
    assert "更正公示" in item and f"#{original.pk}" in item and "净变化" in item
    assert "-48.83" in item


def test_the_feed_titles_a_correction_and_gives_its_reason(client, original):
    _correct(original)
    feed = client.get(reverse("publicity:feed")).content.decode()
    assert "更正公示：" in feed and "实际面积少报" in feed and REASON_NAME not in feed


def test_the_village_page_shows_each_person_once_at_the_net_amount_with_the_history(
    client, original
):
    correction = _correct(original)
    village = original.disbursements.first().village
    response = client.get(reverse("publicity:village", args=[village.pk]))
    rows = list(response.context["page"])
    assert len(rows) == 3, "one row per payment, not original + reversal + replacement"
    (fixed,) = [row for row in rows if row["correction_history"]]
    assert fixed["amount"] == Decimal("776.86")
    assert [h["amount"] for h in fixed["correction_history"]] == [
        Decimal("825.69"), Decimal("-825.69"), Decimal("776.86"),
    ]  # fmt: skip
    assert response.context["totals"]["amount"] == Decimal("976.86")
    page = response.content.decode()
    assert "<details" in page and "实际面积少报" in page and "2026-03-20" in page
    assert f'href="{reverse("publicity:batch", args=[correction.pk])}"' in page
    assert "（冲销）" not in page


def test_a_draft_correction_leaves_the_village_page_as_published(client, original):
    _correct(original, publish=False)
    village = original.disbursements.first().village
    rows = list(client.get(reverse("publicity:village", args=[village.pk])).context["page"])
    assert sorted(row["amount"] for row in rows) == [
        Decimal("100.00"), Decimal("100.00"), Decimal("825.69"),
    ]  # fmt: skip
    assert not any(row["correction_history"] for row in rows)


def test_a_correction_of_a_correction_folds_under_the_first_row(client, original):
    first = _correct(original)
    replacement = first.disbursements.get(is_reversal=False)
    second = correct_batch(
        original=first,
        changes={replacement.pk: Replacement(Decimal("700.00"))},
        source_name="y",
        source_sha256="b" * 64,
        reason="再次核实",
    )
    publish_batch(batch=second)
    village = original.disbursements.first().village
    rows = list(client.get(reverse("publicity:village", args=[village.pk])).context["page"])
    (fixed,) = [row for row in rows if row["correction_history"]]
    assert len(rows) == 3 and fixed["amount"] == Decimal("700.00")
    assert len(fixed["correction_history"]) == 5


def test_a_withdrawn_payment_shows_zero_and_says_it_was_reversed(client, original):
    row = original.disbursements.order_by("id").first()
    correction = correct_batch(
        original=original, changes={row.pk: Replacement(None)}, source_name="z",
        source_sha256="c" * 64, reason="不符合条件",
    )  # fmt: skip
    publish_batch(batch=correction)
    village = row.village
    response = client.get(reverse("publicity:village", args=[village.pk]))
    (fixed,) = [r for r in response.context["page"] if r["correction_history"]]
    assert fixed["amount"] == Decimal("0.00") and fixed["reversed"]
    assert "已冲销" in response.content.decode()


def test_the_village_page_query_count_does_not_grow_with_corrections(
    client, original, django_assert_max_num_queries
):
    village = original.disbursements.first().village
    _correct(original)
    with django_assert_max_num_queries(100) as captured:
        client.get(reverse("publicity:village", args=[village.pk]))
    baseline = len(captured.captured_queries)
    rows = [(person_name(900 + n), unique_id_number(900 + n), Decimal("5.00")) for n in range(30)]
    big = make_batch(original.program, village, rows, period="2026-05")
    _correct(big, "4.00", n=25)
    with django_assert_max_num_queries(baseline):
        response = client.get(reverse("publicity:village", args=[village.pk]))
    assert len(response.context["page"]) == 33


def test_the_household_page_shows_the_net_amount_with_the_history(client, original):
    correction = _correct(original)
    row = Disbursement.objects.get(pk=correction.disbursements.get(is_reversal=False).corrects_id)
    response = client.get(reverse("publicity:household", args=[row.household_id]))
    (entry,) = response.context["entries"]
    assert entry["amount"] == Decimal("776.86") and len(entry["correction_history"]) == 3
    page = response.content.decode()
    assert "<details" in page and "实际面积少报" in page
    assert response.context["totals"]["amount"] == Decimal("776.86")


def test_the_village_notice_marks_corrected_rows_and_carries_the_banner(client, original):
    village = original.disbursements.first().village
    before = _get(client, "village_notice", original.pk, village.pk)
    assert "已更正" not in before
    correction = _correct(original)
    page = _get(client, "village_notice", original.pk, village.pk)
    assert f"本批次有 1 条记录已更正，见更正公示 #{correction.pk}" in _text(page)
    assert page.count('class="corrected"') == 1


def test_the_village_notice_download_marks_corrected_rows_under_its_header(client, original):
    village = original.disbursements.first().village
    correction = _correct(original)
    url = reverse("publicity:village_notice_download", args=[original.pk, village.pk, "csv"])
    response = client.get(url)
    table = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    header, rows = table[0], table[1:]
    assert all(len(row) == len(header) for row in rows), "every row fills the header"
    marks = [row[header.index("更正情况")] for row in rows]
    assert marks.count(f"已更正，见更正公示 #{correction.pk}") == 1
    assert marks.count("") == len(rows) - 1
