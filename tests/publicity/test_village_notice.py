"""The village notice (村务公开栏): one village's or one group's part of a batch, to print or
download, with the program's own columns; the kiosk per village."""

from __future__ import annotations

import csv
import io
import re
from decimal import Decimal
from urllib.parse import quote

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook

from funds.models import Batch
from tests.factories import make_batch, make_program, person_name
from tests.factories import unique_id_number as id_of
from tests.publicity.noticedata import add_rows, make_notice_site

pytestmark = pytest.mark.django_db


@pytest.fixture
def notice():
    return make_notice_site()


def _notice_url(site, village, group=None) -> str:
    url = reverse("publicity:village_notice", args=[site.batch.pk, village.pk])
    return f"{url}?group={group}" if group is not None else url


def _text(client, url) -> str:
    response = client.get(url)
    assert response.status_code == 200, url
    return response.content.decode()


def _print_rows(text: str) -> list[str]:
    body = text[text.index("<tbody") : text.index("</tbody>")]
    return re.findall(r"<tr[ >].*?</tr>", body, flags=re.S)


# --- The batch page links each village's and group's notice --------------------------------------


def test_batch_page_links_each_village_and_group_notice_with_downloads(client, notice):
    text = _text(client, reverse("publicity:batch", args=[notice.batch.pk]))
    section = text[text.index('id="village-notices"') :]
    for village in (notice.red, notice.east):
        assert _notice_url(notice, village) in section
        for fmt in ("csv", "xlsx"):
            url = reverse(
                "publicity:village_notice_download", args=[notice.batch.pk, village.pk, fmt]
            )
            assert url in section
        kiosk = reverse("publicity:batch_kiosk", args=[notice.batch.pk]) + f"?village={village.pk}"
        assert kiosk in section
    for group in ("一组", "二组"):
        assert _notice_url(notice, notice.red) + f"?group={quote(group)}" in section
    assert "2,210.23" in section and "1,661.63" in section and "548.60" in section
    assert "1,424.25" in section


def test_batch_page_village_totals_are_one_query_whatever_the_number_of_villages(client, notice):
    url = reverse("publicity:batch", args=[notice.batch.pk])
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    more = [(notice.red, f"{k}组", 200 + k, Decimal("1")) for k in range(3, 9)]
    add_rows(notice.batch, more)
    with CaptureQueriesContext(connection) as many:
        client.get(url)
    assert len(many) == len(few)


# --- The printed village notice ------------------------------------------------------------------


def test_village_notice_shows_only_that_village_with_area_and_rate_columns(client, notice):
    text = _text(client, _notice_url(notice, notice.red))
    rows = _print_rows(text)
    assert len(rows) == 5
    assert "红星村" in text and "东风村" not in text
    header = text[text.index("<thead") : text.index("</thead>")]
    assert "面积（亩）" in header and "标准（元/亩）" in header
    assert "人数" not in header
    assert "2.5<" in rows[0] and "105.50" in rows[0] and "263.75" in rows[0]
    assert "3.25<" in text and "10<" in text
    footer = text[text.index("<tfoot") : text.index("</tfoot>")]
    assert "2,210.23" in footer and "20.95" in footer


def test_village_notice_shows_masked_names_only(client, notice):
    text = _text(client, _notice_url(notice, notice.red))
    for name, number in zip(notice.names, notice.ids, strict=True):
        assert name not in text and number not in text
    assert notice.ids[0][:3] + "*" in text


def test_village_notice_has_period_channels_qr_and_log_checkpoint(client, notice):
    batch = notice.batch
    text = _text(client, _notice_url(notice, notice.red))
    assert batch.publicity_start.isoformat() in text and batch.publicity_end.isoformat() in text
    assert "城关镇财政所 0551-1234567" in text
    objection = "http://testserver" + reverse("publicity:batch", args=[batch.pk]) + "#objection"
    assert objection in text
    assert "<svg" in text and 'class="qr"' in text
    assert 'id="log-checkpoint"' in text
    assert "css/print.css" in text and "css/notice.css" in text
    assert "签字" in text


def test_village_notice_qr_code_opens_the_village_page_of_that_program_and_period(client, notice):
    import segno

    target = (
        "http://testserver"
        + reverse("publicity:village", args=[notice.red.pk])
        + f"?program={notice.program.slug}&period=2026-03"
    )
    text = _text(client, _notice_url(notice, notice.red))
    expected = segno.make(target, error="m", micro=False).svg_inline(scale=4, border=2)
    start = expected.index(' d="')
    assert expected[start : expected.index('"', start + 4)] in text
    assert target.replace("&", "&amp;") in text


def test_village_notice_has_no_inline_script_or_style(client, notice):
    text = _text(client, _notice_url(notice, notice.red))
    assert not re.findall(r"<script(?![^>]*\bsrc=)", text) and "<style" not in text
    assert " style=" not in text and " onclick=" not in text


def test_group_notice_shows_only_that_group(client, notice):
    text = _text(client, _notice_url(notice, notice.red, "二组"))
    rows = _print_rows(text)
    assert len(rows) == 2
    assert "二组" in text
    footer = text[text.index("<tfoot") : text.index("</tfoot>")]
    assert "548.60" in footer and "5.2" in footer
    assert "1,055.00" not in text


def test_group_notice_qr_code_names_the_group(client, notice):
    text = _text(client, _notice_url(notice, notice.red, "二组"))
    assert "group=%E4%BA%8C%E7%BB%84" in text


@pytest.mark.parametrize("case", ["other_village", "unknown_group", "draft", "withdrawn"])
def test_village_notice_is_not_found_where_the_batch_publishes_nothing(client, notice, case):
    from tests.factories import make_village

    village, group = notice.red, None
    if case == "other_village":
        village = make_village("向阳村", "城关镇")
    elif case == "unknown_group":
        group = "九组"
    else:
        notice.batch.status = Batch.Status.DRAFT if case == "draft" else Batch.Status.WITHDRAWN
        notice.batch.save()
    assert client.get(_notice_url(notice, village, group)).status_code == 404


def test_per_person_program_shows_head_count_not_area(client):
    program = make_program("高龄津贴村务测试", slug="elderly-notice", unit="人·月")
    site = make_notice_site()
    people = make_batch(program, site.red, [], period="2026-03")
    add_rows(people, [(site.red, "一组", 300, Decimal("2"))])
    text = _text(client, reverse("publicity:village_notice", args=[people.pk, site.red.pk]))
    header = text[text.index("<thead") : text.index("</thead>")]
    assert "人数" in header and "面积" not in header
    assert "标准（元/人·月）" in header


def test_program_without_quantities_has_no_quantity_or_rate_column(client):
    program = make_program("临时救助村务测试", slug="temp-notice")
    site = make_notice_site()
    plain = make_batch(program, site.red, [(person_name(400), id_of(400), Decimal("500.00"))])
    text = _text(client, reverse("publicity:village_notice", args=[plain.pk, site.red.pk]))
    header = text[text.index("<thead") : text.index("</thead>")]
    assert "面积" not in header and "人数" not in header and "标准" not in header
    assert "500.00" in text


def test_village_notice_makes_no_query_per_row(client, notice, settings):
    settings.SUNLIGHT_PAGE_CACHE_SECONDS = 0  # rows added below without an act: render each time
    url = _notice_url(notice, notice.red)
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    add_rows(notice.batch, [(notice.red, "一组", 500 + k, Decimal("1")) for k in range(20)])
    with CaptureQueriesContext(connection) as many:
        response = client.get(url)
    assert len(_print_rows(response.content.decode())) == 25
    assert len(many) == len(few)


# --- Downloads ---------------------------------------------------------------------------------


def _download(client, site, village, fmt, group=None):
    url = reverse("publicity:village_notice_download", args=[site.batch.pk, village.pk, fmt])
    response = client.get(url, {"group": group} if group else {})
    assert response.status_code == 200
    return response


def test_village_notice_csv_has_the_village_rows_with_area_and_rate(client, notice):
    response = _download(client, notice, notice.red, "csv")
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    header, body = rows[0], rows[1:]
    assert "面积（亩）" in header and "标准（元/亩）" in header
    assert len(body) == 5 and {row[header.index("村")] for row in body} == {"红星村"}
    first = body[0]
    assert first[header.index("面积（亩）")] == "2.50"
    assert first[header.index("标准（元/亩）")] == "105.50"
    assert first[header.index("金额（元）")] == "263.75"
    assert (
        "红星村" in response["Content-Disposition"]
        or "filename*" in response["Content-Disposition"]
    )
    for name, number in zip(notice.names, notice.ids, strict=True):
        assert name not in text and number not in text


def test_group_notice_xlsx_has_the_group_rows_with_numbers(client, notice):
    response = _download(client, notice, notice.red, "xlsx", group="一组")
    workbook = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    values = list(workbook.active.values)
    header, body = values[0], values[1:]
    assert len(body) == 3
    assert {row[header.index("村民小组")] for row in body} == {"一组"}
    assert body[1][header.index("面积（亩）")] == 3.25
    assert body[1][header.index("金额（元）")] == 342.88


def test_village_notice_download_refuses_unknown_formats(client, notice):
    url = reverse("publicity:village_notice_download", args=[notice.batch.pk, notice.red.pk, "pdf"])
    assert client.get(url).status_code == 404


# --- Kiosk per village -------------------------------------------------------------------------


def test_batch_kiosk_can_be_limited_to_one_village(client, notice):
    url = reverse("publicity:batch_kiosk", args=[notice.batch.pk])
    text = _text(client, f"{url}?village={notice.east.pk}")
    assert "东风村" in text and "1,424.25" in text
    body = text[text.index("<tbody") : text.index("</tbody>")]
    assert "红星村" not in body and body.count("<tr>") == 2
    everything = _text(client, url)
    assert "红星村" in everything and "东风村" in everything


@pytest.mark.parametrize("value", ["abc", "999999"])
def test_batch_kiosk_of_a_village_the_batch_does_not_pay_is_not_found(client, notice, value):
    url = reverse("publicity:batch_kiosk", args=[notice.batch.pk])
    assert client.get(url, {"village": value}).status_code == 404


def test_village_kiosk_shows_the_village_published_batches_in_turn(client, notice):
    older = make_batch(
        make_program("高龄津贴村务测试", slug="elderly-notice", unit="人·月"),
        notice.red,
        [(person_name(600), id_of(600), Decimal("50.00"))],
        period="2026-02",
    )
    make_batch(
        notice.program,
        notice.red,
        [(person_name(601), id_of(601), Decimal("77.77"))],
        period="2026-04",
        status=Batch.Status.DRAFT,
    )
    text = _text(client, reverse("publicity:village_kiosk", args=[notice.red.pk]))
    sections = re.findall(r'<section class="kiosk-batch".*?</section>', text, flags=re.S)
    assert len(sections) == 2
    by_batch = {s: s for s in sections}
    grain = next(s for s in by_batch if notice.program.name in s)
    elderly = next(s for s in by_batch if older.program.name in s)
    assert "2,210.23" in grain and grain.count("<tr>") == 5 + 1  # the rows and the header
    assert "50.00" in elderly and elderly.count("<tr>") == 1 + 1
    assert "77.77" not in text
    assert "东风村" not in text.replace(notice.red.township.name, "")


def test_village_kiosk_keeps_its_filters(client, notice):
    url = reverse("publicity:village_kiosk", args=[notice.red.pk])
    text = _text(client, f"{url}?group=二组")
    sections = re.findall(r'<section class="kiosk-batch".*?</section>', text, flags=re.S)
    assert len(sections) == 1 and "548.60" in sections[0]


def test_village_kiosk_makes_no_query_per_row_or_batch(client, notice, settings):
    settings.SUNLIGHT_PAGE_CACHE_SECONDS = 0  # rows added below without an act: render each time
    url = reverse("publicity:village_kiosk", args=[notice.red.pk])
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    for k in range(3):
        extra = make_batch(notice.program, notice.red, [], period=f"2025-0{k + 1}")
        add_rows(extra, [(notice.red, "一组", 700 + k * 10 + j, Decimal("1")) for j in range(4)])
    with CaptureQueriesContext(connection) as many:
        client.get(url)
    assert len(many) == len(few)


@pytest.mark.parametrize(
    ("value", "text"),
    [("263.75", "263.75"), ("100", "100.00"), ("2.5000", "2.50"), ("1.2345", "1.2345")],
)
def test_csv_numbers_keep_two_places_and_never_lose_an_area_digit(value, text):
    from publicity.exports import csv_cell

    assert csv_cell(Decimal(value)) == text


@pytest.mark.parametrize(
    ("value", "quantity", "rate"),
    [("2.5000", "2.5", "2.50"), ("10.0000", "10", "10.00"), ("0.1234", "0.1234", "0.1234")],
)
def test_quantities_lose_trailing_zeros_and_rates_keep_two_places(value, quantity, rate):
    from publicity.templatetags import notice as tags

    assert tags.quantity(Decimal(value)) == quantity
    assert tags.rate(Decimal(value)) == rate


def test_notice_columns_are_translated_on_the_page_but_the_download_header_stays(client, notice):
    client.cookies["django_language"] = "en"
    page = client.get(_notice_url(notice, notice.red), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Area (亩)" in page and "Rate (yuan/亩)" in page
    response = _download(client, notice, notice.red, "csv")
    header = b"".join(response.streaming_content).decode("utf-8-sig").splitlines()[0]
    assert "面积（亩）" in header and "Area" not in header


def test_batch_page_without_rows_has_no_village_notice_section(client, notice):
    empty = make_batch(notice.program, notice.red, [], period="2026-06")
    text = _text(client, reverse("publicity:batch", args=[empty.pk]))
    assert 'id="village-notices"' not in text
