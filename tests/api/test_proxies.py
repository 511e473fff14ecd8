"""Rate limits key on the client address from SUNLIGHT_TRUSTED_PROXIES, never on a forged header."""

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from tests.api.test_access import small_rates, statuses  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db


def test_varied_forwarded_headers_do_not_escape_the_limit(world, small_rates, settings):  # noqa: F811
    """The issue's attack: eight requests with varied X-Forwarded-For; the fourth is refused."""
    settings.SUNLIGHT_TRUSTED_PROXIES = ""
    client = APIClient(REMOTE_ADDR="203.0.113.9")
    codes = [
        client.get("/api/v1/programs/", HTTP_X_FORWARDED_FOR=f"198.51.100.{n}").status_code
        for n in range(8)
    ]
    assert codes == [200, 200, 200] + [429] * 5


def test_behind_one_trusted_proxy_villagers_get_their_own_buckets(world, small_rates, settings):  # noqa: F811
    settings.SUNLIGHT_TRUSTED_PROXIES = "1"
    proxy = APIClient(REMOTE_ADDR="127.0.0.1")
    first = [
        proxy.get("/api/v1/programs/", HTTP_X_FORWARDED_FOR="198.51.100.1").status_code
        for _ in range(4)
    ]
    assert first == [200, 200, 200, 429]
    second = proxy.get("/api/v1/programs/", HTTP_X_FORWARDED_FOR="198.51.100.2")
    assert second.status_code == 200


def test_the_throttle_keeps_no_raw_address_in_the_cache(world, small_rates, settings):  # noqa: F811
    settings.SUNLIGHT_TRUSTED_PROXIES = ""
    APIClient(REMOTE_ADDR="203.0.113.77").get("/api/v1/programs/")
    keys = list(cache._cache)  # LocMemCache in the tests
    assert keys and not any("203.0.113.77" in key for key in keys)


def test_exports_have_their_own_tighter_limit(world, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {
            **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
            "export": "2/hour",
        },
    }
    settings.SUNLIGHT_THROTTLE_EXPORT = "2/hour"
    client = APIClient(REMOTE_ADDR="203.0.113.5")
    codes = [client.get("/api/v1/disbursements/export.csv").status_code for _ in range(2)]
    codes += [client.get("/api/v1/disbursements/export.xlsx").status_code]
    assert codes == [200, 200, 429]
    # Lists are not counted against the export limit.
    assert client.get("/api/v1/programs/").status_code == 200
    # Another villager downloads.
    assert (
        APIClient(REMOTE_ADDR="203.0.113.6").get("/api/v1/disbursements/export.csv").status_code
        == 200
    )


def test_exports_stream(world):
    response = APIClient().get("/api/v1/disbursements/export.csv")
    assert response.streaming


def test_drf_num_proxies_is_not_used(world, small_rates, settings):  # noqa: F811
    """Even with DRF's NUM_PROXIES set, the address comes from SUNLIGHT_TRUSTED_PROXIES."""
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    settings.SUNLIGHT_TRUSTED_PROXIES = ""
    client = APIClient(REMOTE_ADDR="203.0.113.9")
    codes = [
        client.get("/api/v1/programs/", HTTP_X_FORWARDED_FOR=f"198.51.100.{n}").status_code
        for n in range(4)
    ]
    assert codes == [200, 200, 200, 429]
