"""Every public page renders published data and hides drafts and withdrawn batches."""

import re
from decimal import Decimal

import pytest
from django.urls import reverse

from funds.models import Batch
from publicity.charts import bar_chart
from publicity.templatetags.sunlight import format_money
from tests.factories import id_number, make_batch, make_program, make_village, person_name
from tests.publicity.sitedata import add_member

pytestmark = pytest.mark.django_db

HIDDEN_AMOUNTS = ("777.77", "666.66")  # the draft's and the withdrawn batch's amounts


def _text(response) -> str:
    return response.content.decode()


def _public_pages(site):
    household = site.published.disbursements.first().household_id
    return [
        reverse("publicity:home"),
        reverse("publicity:township_index"),
        reverse("publicity:township", args=[site.village.township_id]),
        reverse("publicity:village", args=[site.village.pk]),
        reverse("publicity:village_kiosk", args=[site.village.pk]),
        reverse("publicity:program", args=[site.program.slug]),
        reverse("publicity:batch", args=[site.published.pk]),
        reverse("publicity:batch_print", args=[site.published.pk]),
        reverse("publicity:batch_kiosk", args=[site.published.pk]),
        reverse("publicity:household", args=[household]),
        reverse("publicity:feed"),
    ]


def test_every_page_renders_published_amounts_and_no_unpublished_ones(client, site):
    for url in _public_pages(site):
        response = client.get(url)
        assert response.status_code == 200, url
        text = _text(response)
        for amount in HIDDEN_AMOUNTS:
            assert amount not in text, (url, amount)
    village_page = _text(client.get(reverse("publicity:village", args=[site.village.pk])))
    assert "1,234.50" in village_page


def test_pages_show_masked_names_and_ids_only(client, site):
    clear_name, clear_id = site.head_name, site.head_id
    for url in _public_pages(site):
        text = _text(client.get(url))
        assert clear_id not in text, url
        if len(clear_name) > 2:  # a two-character name's surname shows by design
            assert clear_name not in text, url
    village_page = _text(client.get(reverse("publicity:village", args=[site.village.pk])))
    assert clear_id[:3] + "*" * 14 + clear_id[-1] in village_page


@pytest.mark.parametrize("status", [Batch.Status.DRAFT, Batch.Status.WITHDRAWN])
@pytest.mark.parametrize(
    "name", ["batch", "batch_print", "batch_kiosk", "batch_download_csv", "batch_download_xlsx"]
)
def test_unpublished_batches_are_not_found(client, site, status, name):
    batch = site.draft if status == Batch.Status.DRAFT else site.withdrawn
    if name.startswith("batch_download"):
        url = reverse("publicity:batch_download", args=[batch.pk, name.rsplit("_", 1)[1]])
    else:
        url = reverse(f"publicity:{name}", args=[batch.pk])
    assert client.get(url).status_code == 404


def test_a_household_paid_only_in_a_draft_is_not_found(client, site):
    household = site.draft.disbursements.first().household_id
    assert client.get(reverse("publicity:household", args=[household])).status_code == 404


def test_home_lists_programs_latest_notices_and_this_years_totals(client, site):
    response = client.get(reverse("publicity:home"))
    text = _text(response)
    assert site.program.name in text
    assert reverse("publicity:batch", args=[site.published.pk]) in text
    assert reverse("publicity:batch", args=[site.draft.pk]) not in text
    assert 'action="/search/"' in text


def test_home_totals_count_only_this_years_published_rows(client, site, settings):
    from django.utils import timezone

    response = client.get(reverse("publicity:home"))
    totals = response.context["totals"]
    if timezone.localdate().year == 2026:
        assert totals["amount"] == Decimal("3706.50")  # 1234.50 + 1235.50 + 1236.50
    else:
        assert totals["amount"] == Decimal("0.00")


def test_search_finds_townships_villages_and_programs_by_name(client, site):
    text = _text(client.get(reverse("publicity:search"), {"q": "红星"}))
    assert reverse("publicity:village", args=[site.village.pk]) in text
    assert reverse("publicity:village", args=[site.other_village.pk]) not in text
    text = _text(client.get(reverse("publicity:search"), {"q": "城关"}))
    assert reverse("publicity:township", args=[site.village.township_id]) in text
    text = _text(client.get(reverse("publicity:search"), {"q": "地力"}))
    assert reverse("publicity:program", args=[site.program.slug]) in text


def test_an_empty_or_overlong_search_is_an_error_message_not_a_crash(client):
    assert client.get(reverse("publicity:search")).status_code == 200
    response = client.get(reverse("publicity:search"), {"q": "x" * 500})
    assert response.status_code == 200
    assert response.context["results"] is None


def test_township_index_lists_villages_with_published_totals(client, site):
    response = client.get(reverse("publicity:township_index"))
    (town,) = response.context["townships"]
    amounts = {v.name: v.total_amount for v in town.village_list}
    assert amounts == {"红星村": Decimal("3706.50"), "向阳村": Decimal("176.00")}
    assert town.total_amount == Decimal("3882.50")


def test_household_page_shows_members_programs_and_totals_per_year(client, site):
    other = make_program("农机购置补贴测试", slug="nongji-test")
    make_batch(
        other, site.village, [(site.head_name, site.head_id, Decimal("50.00"))], period="2025-06"
    )
    household = site.published.disbursements.first().household_id
    response = client.get(reverse("publicity:household", args=[household]))
    text = _text(response)
    assert "农机购置补贴测试" in text and site.program.name in text
    by_year = {row["year"]: row["amount"] for row in response.context["by_year"]}
    assert by_year == {"2026": Decimal("1234.50"), "2025": Decimal("50.00")}
    assert 'id="members"' in text


def test_household_members_carry_no_birth_year_or_sex(client, site):
    """The page gets masked names and IDs and the relation; birth year and sex stay stored."""
    household = site.published.disbursements.first().household_id
    members = list(client.get(reverse("publicity:household", args=[household])).context["members"])
    assert members
    assert all(set(m) == {"id", "roster_name", "id_masked", "relation_to_head"} for m in members)


@pytest.mark.parametrize("status", [Batch.Status.DRAFT, Batch.Status.WITHDRAWN])
def test_household_page_lists_no_member_known_only_from_an_unpublished_roster(client, site, status):
    """A member paid only in a draft or withdrawn roster is not on the household page."""
    hidden = add_member(site, n=40, batch=site.draft if status == "draft" else site.withdrawn)
    paid = add_member(site, n=41, batch=site.published, relation="长女")
    response = client.get(reverse("publicity:household", args=[hidden.household_id]))
    members = {member["id"] for member in response.context["members"]}
    assert members == {hidden.household.head_id, paid.pk}


def test_program_page_has_the_four_disclosure_sections_and_an_svg_chart(client, site):
    text = _text(client.get(reverse("publicity:program", args=[site.program.slug])))
    for section in ("policy-basis", "application-guide", "results", "complaints"):
        assert f'id="{section}"' in text
    assert "<svg" in text and 'class="bar"' in text
    # The chart needs no script: the page's only script is the site's own file (language menu).
    assert re.findall(r"<script[^>]*>", text) == ['<script src="/static/js/site.js" defer>']
    assert "http://" not in text.replace("http://www.w3.org", "")


def test_program_results_count_published_batches_only(client, site):
    response = client.get(reverse("publicity:program", args=[site.program.slug]))
    by_village = {row["village__name"]: row["amount"] for row in response.context["by_village"]}
    assert by_village == {"红星村": Decimal("3706.50"), "向阳村": Decimal("176.00")}


def test_unknown_program_is_not_found(client):
    assert client.get(reverse("publicity:program", args=["nope"])).status_code == 404


def test_batch_notice_shows_period_publicity_dates_days_left_and_totals(client, site):
    response = client.get(reverse("publicity:batch", args=[site.published.pk]))
    text = _text(response)
    assert "2026-03" in text
    assert site.published.publicity_end.isoformat() in text
    assert "剩余 5 天" in text
    assert "3,706.50" in text
    for name in ("batch_print", "batch_kiosk"):
        assert reverse(f"publicity:{name}", args=[site.published.pk]) in text
    assert reverse("publicity:batch_download", args=[site.published.pk, "csv"]) in text
    assert f'action="/batches/{site.published.pk}/objections/"' in text


def test_final_batch_shows_final_status_and_no_objection_form(client, site):
    text = _text(client.get(reverse("publicity:batch", args=[site.final.pk])))
    assert "已定稿" in text
    assert "/objections/" not in text


def test_batch_list_is_paginated_by_fifty(client, site):
    rows = [(person_name(i), id_number(i), Decimal("10.00")) for i in range(100, 160)]
    big = make_batch(site.program, site.village, rows, period="2026-01")
    first = client.get(reverse("publicity:batch", args=[big.pk]))
    second = client.get(reverse("publicity:batch", args=[big.pk]), {"page": 2})
    assert len(first.context["page"].object_list) == 50
    assert len(second.context["page"].object_list) == 10
    assert 'rel="next"' in _text(first)


def test_unknown_page_uses_the_404_template_without_personal_data(client, site):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    text = _text(response)
    assert "页面不存在" in text
    assert site.head_id not in text


def test_500_template_is_self_contained():
    from django.template.loader import render_to_string

    text = render_to_string("500.html")
    assert "服务暂时不可用" in text and "<script" not in text
    # Its only resource is its own stylesheet (a file, for the CSP): unstyled if that fails.
    links = re.findall(r"<link[^>]*>", text)
    assert links == ['<link rel="stylesheet" href="/static/css/error.css">']


def test_no_page_references_an_external_resource(client, site):
    for url in _public_pages(site)[:-1]:
        text = _text(client.get(url))
        for marker in ('src="http', "src='http", 'href="//', "@import", "fonts.googleapis"):
            assert marker not in text, (url, marker)


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (Decimal("1234567.5"), "1,234,567.50"),
        (Decimal("0"), "0.00"),
        (None, "0.00"),
        (Decimal("-12.345"), "-12.35"),
        (7, "7.00"),
    ],
)
def test_money_has_two_decimals_and_thousands_separators(value, shown):
    assert format_money(value) == shown


def test_chart_escapes_labels_and_scales_bars_to_the_largest():
    svg = bar_chart([("<b>村</b>", Decimal("100")), ("乙", Decimal("50"))], title="t")
    assert "<b>" not in svg and "&lt;b&gt;" in svg
    assert 'width="240.0"' in svg and 'width="120.0"' in svg


def test_language_switch_serves_english_markup(client, site):
    response = client.post(
        reverse("set_language"), {"language": "en", "next": reverse("publicity:home")}
    )
    assert response.status_code == 302
    text = _text(client.get(reverse("publicity:home")))
    assert '<html lang="en">' in text
    assert 'id="lang-select"' in text


def test_a_village_outside_the_site_is_not_found(client):
    assert client.get(reverse("publicity:village", args=[999999])).status_code == 404


def test_a_village_with_only_unpublished_rows_shows_no_rows(client, site):
    lonely = make_village("无公示村", "城关镇")
    make_batch(
        site.program,
        lonely,
        [(person_name(400), id_number(400), Decimal("9.99"))],
        status=Batch.Status.DRAFT,
    )
    response = client.get(reverse("publicity:village", args=[lonely.pk]))
    assert response.status_code == 200
    assert "9.99" not in _text(response)
    assert response.context["totals"]["rows"] == 0
