"""The villagers' lookup: one neutral answer for every miss, rate limits, no ID in the clear."""

import logging
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from funds.models import Batch
from privacy import personal
from tests.factories import id_number, make_batch, make_program, person_name
from tests.publicity.sitedata import add_member

pytestmark = pytest.mark.django_db
URL = "/lookup/"


def _ask(client, name, number, year="", ip="10.0.0.1"):
    return client.post(URL, {"name": name, "id_number": number, "year": year}, REMOTE_ADDR=ip)


def test_the_lookup_url_is_the_one_the_browser_tests_use():
    assert reverse("publicity:lookup") == URL


def test_form_has_the_field_ids_and_posts(client):
    text = client.get(URL).content.decode()
    for field_id in ("id_name", "id_id_number", "id_year"):
        assert f'id="{field_id}"' in text
    assert 'method="post"' in text and "csrfmiddlewaretoken" in text


def test_a_match_shows_the_households_published_entries_masked_with_totals(client, site):
    response = _ask(client, site.head_name, site.head_id)
    text = response.content.decode()
    assert response.status_code == 200
    assert 'id="lookup-result"' in text
    assert "1,234.50" in text and site.program.name in text
    assert site.head_id[:3] + "*" * 14 + site.head_id[-1] in text
    assert site.head_id not in text
    assert response.context["result"].totals["amount"] == Decimal("1234.50")


def test_a_match_shows_the_whole_household_and_no_unpublished_rows(client, site):
    # The same head was paid in a draft batch of another program: that stays hidden.
    other = make_program("残疾人补贴测试", slug="canji-test")
    make_batch(
        other,
        site.village,
        [(site.head_name, site.head_id, Decimal("555.55"))],
        status=Batch.Status.DRAFT,
    )
    text = _ask(client, site.head_name, site.head_id).content.decode()
    assert "555.55" not in text and "残疾人补贴测试" not in text


def test_the_year_narrows_the_answer(client, site):
    make_batch(
        site.program,
        site.village,
        [(site.head_name, site.head_id, Decimal("42.00"))],
        period="2025-07",
    )
    both = _ask(client, site.head_name, site.head_id)
    only_2025 = _ask(client, site.head_name, site.head_id, year="2025")
    assert both.context["result"].totals["amount"] == Decimal("1276.50")
    assert only_2025.context["result"].totals["amount"] == Decimal("42.00")


def test_full_width_and_lowercase_input_still_matches(client, site):
    number = site.head_id.translate(str.maketrans("0123456789X", "０１２３４５６７８９ｘ"))
    response = _ask(client, f" {site.head_name} ", number)
    assert 'id="lookup-result"' in response.content.decode()


def _neutral(response) -> tuple[int, str, str]:
    text = response.content.decode()
    body = text[text.index("<main") : text.index("</main>")]
    # The CSRF token differs from response to response; nothing else may.
    body = "".join(part for part in body.split('"') if len(part) != 64)
    return response.status_code, response.templates[0].name, body


def test_wrong_name_and_unknown_id_give_the_same_neutral_answer(client, site):
    wrong_name = _ask(client, "欧阳不对", site.head_id)
    unknown_id = _ask(client, site.head_name, id_number(499))
    assert _neutral(wrong_name) == _neutral(unknown_id)
    assert 'id="lookup-result"' not in wrong_name.content.decode()
    assert 'id="lookup-none"' in wrong_name.content.decode()


def test_a_person_known_only_from_a_draft_gets_the_neutral_answer(client, site):
    draft_person = site.draft.disbursements.select_related("person").first()
    name = person_name(20)
    assert draft_person.person.name_matches(name)
    known = _ask(client, name, id_number(20))
    unknown = _ask(client, "无此人", id_number(498))
    assert _neutral(known) == _neutral(unknown)


@pytest.mark.parametrize("status", [Batch.Status.DRAFT, Batch.Status.WITHDRAWN])
def test_a_member_known_only_from_an_unpublished_roster_gets_the_neutral_answer(
    client, site, status
):
    """Their household has published rows, but no published roster names them."""
    add_member(site, n=40, batch=site.draft if status == "draft" else site.withdrawn)
    known = _ask(client, person_name(40), id_number(40))
    unknown = _ask(client, "无此人", id_number(498))
    assert _neutral(known) == _neutral(unknown)


def test_a_member_named_by_a_published_roster_sees_the_household(client, site):
    add_member(site, n=41, batch=site.published)
    response = _ask(client, person_name(41), id_number(41))
    assert 'id="lookup-result"' in response.content.decode()
    assert response.context["result"].totals["amount"] == Decimal("1555.50")


@pytest.mark.parametrize(
    "bad", ["123", "34112219600101001A", "3.41122196001011E+17", "341122196001010010", ""]
)
def test_an_invalid_id_number_is_a_form_error(client, site, bad):
    response = _ask(client, site.head_name, bad)
    assert response.status_code == 200
    assert response.context["form"].errors
    text = response.content.decode()
    assert 'id="lookup-result"' not in text and 'id="lookup-none"' not in text
    if bad:
        assert f'value="{bad}"' not in text


def test_the_answer_never_echoes_the_id_or_name_into_the_form(client, site):
    text = _ask(client, site.head_name, site.head_id).content.decode()
    assert site.head_id not in text
    assert f'value="{site.head_name}"' not in text


def test_get_with_query_parameters_does_not_look_anything_up(client, site):
    response = client.get(URL, {"name": site.head_name, "id_number": site.head_id})
    assert 'id="lookup-result"' not in response.content.decode()


def test_the_form_needs_a_csrf_token(site):
    strict = Client(enforce_csrf_checks=True)
    response = strict.post(URL, {"name": site.head_name, "id_number": site.head_id})
    assert response.status_code == 403


def test_each_client_is_limited_per_hour(client, site, settings):
    settings.SUNLIGHT_LOOKUP_PER_CLIENT = 3
    for n in range(3):
        assert _ask(client, "张三", id_number(200 + n)).status_code == 200
    blocked = _ask(client, site.head_name, site.head_id)
    assert blocked.status_code == 429
    assert "请求过于频繁" in blocked.content.decode()
    assert 'id="lookup-result"' not in blocked.content.decode()
    # Another client is not affected.
    assert _ask(client, site.head_name, site.head_id, ip="10.0.0.2").status_code == 200


def test_each_id_is_limited_across_clients(client, site, settings):
    settings.SUNLIGHT_LOOKUP_PER_ID = 2
    for n in range(2):
        assert _ask(client, f"猜{n}", site.head_id, ip=f"10.1.0.{n}").status_code == 200
    assert _ask(client, site.head_name, site.head_id, ip="10.1.0.9").status_code == 429
    assert _ask(client, site.head_name, id_number(201), ip="10.1.0.9").status_code == 200


def test_the_id_never_reaches_a_log_line(client, site, caplog, settings):
    settings.SUNLIGHT_LOOKUP_PER_ID = 1
    caplog.set_level(logging.DEBUG)
    _ask(client, site.head_name, site.head_id)
    _ask(client, site.head_name, site.head_id)  # blocked: Django logs the 429
    _ask(client, site.head_name, site.head_id[:-1] + "0")  # invalid checksum
    logged = "\n".join(r.getMessage() + str(r.args) for r in caplog.records)
    assert any(r.levelno >= logging.WARNING for r in caplog.records)  # the 429 was logged
    for secret in (site.head_id, site.head_id[:-1] + "0", site.head_name):
        assert secret not in logged


def test_cache_keys_carry_keyed_hashes_never_the_id(client, site):
    _ask(client, site.head_name, site.head_id)
    keys = list(cache._cache.keys())  # LocMemCache keeps its keys in a dict
    assert keys
    assert not any(site.head_id in key or site.head_id[-10:] in key for key in keys)
    assert any(personal.hash_id_number(site.head_id) in key for key in keys)
    assert not any("10.0.0.1" in key for key in keys)


def test_the_id_never_appears_in_a_url(client, site):
    response = _ask(client, site.head_name, site.head_id)
    assert response.status_code == 200  # answered in place, no redirect carrying it
    assert "Location" not in response.headers
