"""Redis going away: limits fall back to the process, pages to no shared cache, never a 500.

config.cache.FallbackRedisCache answers from a process-local cache while Redis cannot be
reached, and says so in the log once per SUNLIGHT_CACHE_WARN_SECONDS, not per request.
"""

from __future__ import annotations

import logging
import shutil
import socket
import subprocess
import time

import pytest
from django.core.cache import cache
from django.test import override_settings
from rest_framework.test import APIClient

from tests.factories import id_number, person_name
from tests.publicity.sitedata import make_site

CLOSED = "redis://127.0.0.1:1/5"
SHARED = "redis://127.0.0.1:6379/5"  # the machine's Redis, a DB no one else uses


def redis_caches(url: str) -> dict:
    return {
        "default": {
            "BACKEND": "config.cache.FallbackRedisCache",
            "LOCATION": url,
            "KEY_PREFIX": "sunlight-test",
            "OPTIONS": {"socket_connect_timeout": 0.25, "socket_timeout": 0.5},
        }
    }


def warnings_of(caplog) -> list[logging.LogRecord]:
    return [
        r for r in caplog.records if r.name == "sunlight.cache" and r.levelno >= logging.WARNING
    ]


def test_the_backend_answers_from_the_process_when_redis_is_closed(caplog):
    with override_settings(CACHES=redis_caches(CLOSED)):
        cache.set("a", 1)
        assert cache.get("a") == 1
        assert cache.add("n", 0) and cache.incr("n") == 1 and cache.incr("n") == 2
        assert cache.get_many(["a", "n"]) == {"a": 1, "n": 2}
        cache.delete("a")
        assert cache.get("a") is None
    assert len(warnings_of(caplog)) == 1  # once per interval, not once per call


@pytest.mark.django_db
def test_pages_lookups_and_the_api_answer_without_redis(client, settings, caplog):
    site = make_site()
    settings.SUNLIGHT_LOOKUP_PER_CLIENT = 2
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"anon": "2/minute", "user": "5/minute", "auditor": "8/minute"},
    }
    with override_settings(CACHES=redis_caches(CLOSED)):
        for _ in range(2):
            assert client.get(f"/villages/{site.village.pk}/").status_code == 200
        data = {"name": person_name(1), "id_number": id_number(1), "year": ""}
        codes = [client.post("/lookup/", data).status_code for _ in range(3)]
        assert codes == [200, 200, 429]  # the limit still holds, per process
        api = APIClient()
        codes = [api.get("/api/v1/programs/").status_code for _ in range(3)]
        assert codes == [200, 200, 429]
    assert len(warnings_of(caplog)) == 1


@pytest.fixture
def own_redis():
    """A Redis server of this test's own, on a free port, that the test may stop."""
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        ["redis-server", "--port", str(port), "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
            break
        except OSError:
            time.sleep(0.05)
    yield server, f"redis://127.0.0.1:{port}/0"
    if server.poll() is None:
        server.terminate()
        server.wait(5)


@pytest.mark.django_db
def test_redis_stopping_mid_test_degrades_and_logs(client, settings, own_redis, caplog):
    server, url = own_redis
    site = make_site()
    settings.SUNLIGHT_LOOKUP_PER_CLIENT = 3
    data = {"name": person_name(1), "id_number": id_number(1), "year": ""}
    with override_settings(CACHES=redis_caches(url)):
        cache.clear()
        assert client.post("/lookup/", data).status_code == 200
        assert cache.get("rate-probe") is None
        cache.set("rate-probe", "shared")
        assert cache.get("rate-probe") == "shared"
        assert not warnings_of(caplog)
        server.terminate()
        server.wait(5)
        assert client.get(f"/villages/{site.village.pk}/").status_code == 200
        codes = [client.post("/lookup/", data).status_code for _ in range(4)]
        assert 429 in codes and set(codes) <= {200, 429}
        assert APIClient().get("/api/v1/programs/").status_code == 200
    assert len(warnings_of(caplog)) == 1


def test_two_processes_share_one_count_in_redis(caplog):
    """Two backends (as two worker processes hold) count one client's hits together."""
    from config.cache import FallbackRedisCache

    params = redis_caches(SHARED)["default"]
    first, second = (FallbackRedisCache(SHARED, params) for _ in range(2))
    try:
        first.clear()  # flushes DB 5 only
    except Exception:  # pragma: no cover - no Redis on this machine
        pytest.skip("no Redis at 127.0.0.1:6379")
    if warnings_of(caplog):
        pytest.skip("no Redis at 127.0.0.1:6379")
    first.add("hits", 0)
    first.incr("hits")
    assert second.incr("hits") == 2
    first.clear()
