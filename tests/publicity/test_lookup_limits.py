"""The lookup is limited per target (a name, an ID, a household) and in all, and says so to staff.

Guessing someone's ID number means trying many IDs with one name, from many addresses: the
per-client and per-ID limits do not see that; the per-name and per-household limits and the
ceiling do, and every limit reached leaves an alarm the staff see in the admin.
"""

import logging
import time

import pytest
from django.core.cache import cache

from publicity.models import LookupAlarm
from tests.factories import id_number, person_name
from tests.publicity.sitedata import add_member
from tests.publicity.test_lookup import _ask as ask

pytestmark = pytest.mark.django_db
URL = "/lookup/"


_addresses = iter(f"10.9.{n // 250}.{n % 250}" for n in range(100_000))


def _ask(client, name, number):
    """Look up from a new address each time, as a botnet would: the per-client limit never bites."""
    return ask(client, name, number, ip=next(_addresses))


def test_one_name_is_limited_across_ids_and_addresses(client, site, settings):
    """Trying candidate ID numbers with one name stops at the per-name limit."""
    settings.SUNLIGHT_LOOKUP_PER_NAME = 3
    for n in range(3):
        assert _ask(client, site.head_name, id_number(300 + n)).status_code == 200
    assert _ask(client, site.head_name, site.head_id).status_code == 429
    # Another name is another target.
    assert _ask(client, person_name(1), id_number(1)).status_code == 200


def test_one_household_is_limited_across_its_members(client, site, settings):
    """Lookups that reach one household's members, whatever name is tried, share one limit."""
    settings.SUNLIGHT_LOOKUP_PER_HOUSEHOLD = 2
    add_member(site, n=41, batch=site.published)
    assert _ask(client, "猜一", site.head_id).status_code == 200
    assert _ask(client, "猜二", id_number(41)).status_code == 200
    assert _ask(client, person_name(41), id_number(41)).status_code == 429
    # A member of another household is not held back.
    response = _ask(client, person_name(1), id_number(1))
    assert response.status_code == 200 and response.context["result"].found


def test_the_ceiling_holds_every_lookup_for_the_hour(client, site, settings):
    settings.SUNLIGHT_LOOKUP_PER_HOUR = 3
    for n in range(3):
        assert _ask(client, f"张{n}", id_number(300 + n)).status_code == 200
    blocked = _ask(client, site.head_name, site.head_id)
    assert blocked.status_code == 429
    assert 'id="lookup-result"' not in blocked.content.decode()


def test_a_form_error_counts_against_no_target(client, site, settings):
    settings.SUNLIGHT_LOOKUP_PER_HOUR = 1
    assert _ask(client, site.head_name, "123").status_code == 200
    assert _ask(client, site.head_name, site.head_id).context["result"].found


def test_reaching_a_target_limit_raises_one_alarm_without_raw_data(client, site, settings, caplog):
    settings.SUNLIGHT_LOOKUP_PER_NAME = 2
    caplog.set_level(logging.INFO)
    for n in range(5):
        _ask(client, site.head_name, id_number(300 + n))
    (alarm,) = LookupAlarm.objects.all()
    assert alarm.kind == LookupAlarm.Kind.NAME
    assert (alarm.limit, alarm.window_seconds) == (
        2,
        settings.SUNLIGHT_LOOKUP_TARGET_WINDOW_SECONDS,
    )
    assert alarm.target and site.head_name not in alarm.target
    warnings = [r for r in caplog.records if r.name == "sunlight.lookup"]
    assert len(warnings) == 1 and warnings[0].levelno == logging.WARNING
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert site.head_name not in logged and "10.9." not in logged
    assert alarm.target in logged


def test_a_household_alarm_names_the_household(client, site, settings):
    settings.SUNLIGHT_LOOKUP_PER_HOUSEHOLD = 1
    for guess in ("猜一", "猜二", "猜三"):
        _ask(client, guess, site.head_id)
    household = site.published.disbursements.first().household
    kinds = {(a.kind, a.household_id) for a in LookupAlarm.objects.all()}
    assert (LookupAlarm.Kind.HOUSEHOLD, household.pk) in kinds
    assert LookupAlarm.objects.filter(kind=LookupAlarm.Kind.HOUSEHOLD).count() == 1


def test_the_ceiling_raises_an_alarm_once_and_stops_counting_targets(client, site, settings):
    settings.SUNLIGHT_LOOKUP_PER_HOUR = 2
    settings.SUNLIGHT_LOOKUP_PER_NAME = 3
    for n in range(6):
        _ask(client, site.head_name, id_number(300 + n))
    alarms = list(LookupAlarm.objects.values_list("kind", "target", "household_id"))
    assert alarms == [(LookupAlarm.Kind.CEILING, "", None)]


def test_staff_see_the_alarms_in_the_admin(client, site, settings, admin_client):
    settings.SUNLIGHT_LOOKUP_PER_NAME = 1
    for n in range(2):
        _ask(client, site.head_name, id_number(300 + n))
    page = admin_client.get("/admin/publicity/lookupalarm/")
    assert page.status_code == 200
    assert [alarm.kind for alarm in page.context["cl"].result_list] == [LookupAlarm.Kind.NAME]
    text = page.content.decode()
    assert 'class="field-kind">同一姓名查询次数上限' in text
    assert site.head_name not in text


def test_target_counters_in_the_cache_carry_keyed_hashes_only(client, site):
    _ask(client, site.head_name, site.head_id)
    keys = " ".join(cache._cache.keys())  # LocMemCache keeps its keys in a dict
    assert "lookup-name" in keys and "lookup-household" in keys and "lookup-all" in keys
    assert site.head_name not in keys and site.head_id not in keys


def test_limits_default_to_the_documented_values(settings):
    """docs/operations.md lists these defaults; the environment overrides them."""
    assert settings.SUNLIGHT_LOOKUP_PER_NAME == 5
    assert settings.SUNLIGHT_LOOKUP_PER_HOUSEHOLD == 10
    assert settings.SUNLIGHT_LOOKUP_PER_HOUR == 1000
    assert settings.SUNLIGHT_LOOKUP_TARGET_WINDOW_SECONDS == 86400


def test_a_target_is_counted_for_a_day_a_client_for_an_hour(client, site):
    """A patient guesser keeping under the limit gets 5 guesses a day per name, not an hour."""
    _ask(client, site.head_name, site.head_id)
    expires = {
        key.split(":")[4]: at - time.time()
        for key, at in cache._expire_info.items()  # LocMemCache: key → expiry time
        if "sunlight:rate:" in key
    }
    for scope in ("lookup-id", "lookup-name", "lookup-household"):
        assert 86000 < expires[scope] <= 86400, scope
    assert 3500 < expires["lookup-all"] <= 3600
