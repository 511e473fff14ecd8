"""The shared cache (Redis) that degrades to the process's own memory, never to a 500.

Rate limits and cached public pages live in Redis in production so that every worker shares
them. When Redis cannot be reached (refused, timed out), each call is answered by a
process-local LocMemCache instead: a limit then counts per process (still a limit), a page is
rendered rather than read from the shared cache. A warning is logged once per
SUNLIGHT_CACHE_WARN_SECONDS, and Redis is not tried again for RETRY_SECONDS, so a request
never waits on more than one short socket timeout while Redis is away.
"""

from __future__ import annotations

import functools
import logging
import threading
import time

from django.conf import settings
from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger("sunlight.cache")

UNREACHABLE = (RedisConnectionError, RedisTimeoutError, OSError)
RETRY_SECONDS = 5.0
#: The RedisCache methods every other one (and every async one) goes through.
METHODS = (
    "add", "get", "set", "touch", "delete", "get_many", "has_key", "incr", "set_many",
    "delete_many", "clear",
)  # fmt: skip


def _falls_back(name: str):
    redis_method = getattr(RedisCache, name)

    @functools.wraps(redis_method)
    def method(self, *args, **kwargs):
        if not self._redis_down():
            try:
                return redis_method(self, *args, **kwargs)
            except UNREACHABLE as error:
                self._went_down(error)
        return getattr(self._local, name)(*args, **kwargs)

    return method


class FallbackRedisCache(RedisCache):
    """Django's RedisCache answering from process memory while Redis is unreachable."""

    def __init__(self, server, params):
        super().__init__(server, params)
        self._local = LocMemCache(f"sunlight-fallback-{id(self)}", params)
        self._lock = threading.Lock()
        self._down_until = 0.0
        self._warned_at = float("-inf")

    def _redis_down(self) -> bool:
        return time.monotonic() < self._down_until

    def _went_down(self, error: Exception) -> None:
        now = time.monotonic()
        interval = getattr(settings, "SUNLIGHT_CACHE_WARN_SECONDS", 60)
        with self._lock:
            self._down_until = now + RETRY_SECONDS
            warn = now - self._warned_at >= interval
            if warn:
                self._warned_at = now
        if warn:
            logger.warning(
                "Redis cache unreachable (%s): rate limits count per process and pages are "
                "not shared until it answers again; retrying every %ss.",
                type(error).__name__,
                int(RETRY_SECONDS),
            )


for _name in METHODS:
    setattr(FallbackRedisCache, _name, _falls_back(_name))
