"""Secure by default (issue #15.1): the start-up key checks and the login limiter's client address.

Production settings call check_keys() when they are imported, so gunicorn, manage.py and the task
worker (manage.py db_worker) all refuse to start with a weak, missing or demo key. The messages
name the variable at fault, never its value.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest
from django.shortcuts import render

# Keys generated for the demo, the tests and the benchmarks say so in their first characters
# (scripts/run-demo writes "demo-..."); production refuses them.
NOT_FOR_PRODUCTION = ("demo-", "demo_", "test-only", "bench-only", "django-insecure")
MIN_SECRET_KEY_LENGTH = 50
MIN_SECRET_KEY_UNIQUE = 5
MIN_HASH_KEY_BYTES = 32
LOG_KEY_PREFIX = "PRIVATE+KEY+"


def _is_throwaway(value: str) -> bool:
    return value.strip().lower().startswith(NOT_FOR_PRODUCTION)


def _secret_key_faults(secret_key: str) -> list[str]:
    if _is_throwaway(secret_key):
        return ["DJANGO_SECRET_KEY is a demo, test or insecure key: generate a real one."]
    if len(secret_key) < MIN_SECRET_KEY_LENGTH or len(set(secret_key)) < MIN_SECRET_KEY_UNIQUE:
        return [
            f"DJANGO_SECRET_KEY must be at least {MIN_SECRET_KEY_LENGTH} characters with at "
            f"least {MIN_SECRET_KEY_UNIQUE} different ones (e.g. python -c 'import secrets; "
            "print(secrets.token_urlsafe(50))')."
        ]
    return []


def _hash_key_faults(hash_key: bytes) -> list[str]:
    if _is_throwaway(hash_key.decode("utf-8", "replace")):
        return ["SUNLIGHT_HASH_KEY is a demo or test key: generate a real one."]
    if len(hash_key) < MIN_HASH_KEY_BYTES:
        return [
            f"SUNLIGHT_HASH_KEY must be at least {MIN_HASH_KEY_BYTES} bytes (e.g. python -c "
            "'import secrets; print(secrets.token_urlsafe(32))')."
        ]
    return []


def _log_key_faults(log_key: str) -> list[str]:
    if not log_key:
        return [
            "SUNLIGHT_LOG_SIGNING_KEY is missing: make one with `manage.py generate_log_key "
            "<origin> --env` (docs/verify.md)."
        ]
    if not log_key.startswith(LOG_KEY_PREFIX):
        return ["SUNLIGHT_LOG_SIGNING_KEY is not a signed-note private key (PRIVATE+KEY+...)."]
    name = log_key[len(LOG_KEY_PREFIX) :].partition("+")[0]
    if _is_throwaway(name):
        return ["SUNLIGHT_LOG_SIGNING_KEY is a demo or test key: generate a real one."]
    return []


def check_keys(secret_key: str, hash_key: bytes, log_key: str) -> None:
    """Raise ImproperlyConfigured naming every key that is weak, missing or a demo key."""
    faults = [
        *_secret_key_faults(secret_key),
        *_hash_key_faults(hash_key),
        *_log_key_faults(log_key),
    ]
    if faults:
        raise ImproperlyConfigured(
            "Refusing to start with these keys (production settings):\n- " + "\n- ".join(faults)
        )


def lockout_response(request: HttpRequest, original_response=None, credentials=None):
    """Answer a locked-out login (django-axes' AXES_LOCKOUT_CALLABLE): a translated 429 page."""
    minutes = max(1, int(settings.AXES_COOLOFF_TIME.total_seconds() // 60))
    return render(request, "security/lockout.html", {"minutes": minutes}, status=429)
