"""Settings for production: everything from the environment, secure by default.

`manage.py check --deploy --fail-level WARNING` passes with these defaults (scripts/test runs it).
An intranet served without TLS turns HTTPS off explicitly (docs/security.md, "Intranet without
TLS"); the deploy check then warns, naming what was turned off.
"""

from config.env import env_bool, env_int
from config.security import check_keys

from .base import *  # noqa: F403
from .base import DATABASES, REDIS_URL, SECRET_KEY, SUNLIGHT_HASH_KEY, SUNLIGHT_LOG_SIGNING_KEY

# Weak, missing or demo keys refuse to start: gunicorn, manage.py and the task worker alike.
check_keys(SECRET_KEY, SUNLIGHT_HASH_KEY, SUNLIGHT_LOG_SIGNING_KEY)

DEBUG = False
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# HTTPS only: redirect plain HTTP, tell browsers to come back over HTTPS for a year (HSTS), and
# send cookies over HTTPS only. Each has its switch for an intranet without TLS.
SECURE_SSL_REDIRECT = env_bool("DJANGO_SSL_REDIRECT", True)
SECURE_HSTS_SECONDS = env_int("DJANGO_HSTS_SECONDS", 365 * 24 * 3600)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("DJANGO_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = env_bool("DJANGO_HSTS_PRELOAD", True)
SESSION_COOKIE_SECURE = env_bool("DJANGO_SECURE_COOKIES", True)
CSRF_COOKIE_SECURE = env_bool("DJANGO_SECURE_COOKIES", True)
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    import warnings

    warnings.warn("Production should run on PostgreSQL (set DATABASE_URL).", stacklevel=1)

# --- Shared limits and page cache (#15.2): Redis, or a loud warning -------------------------
# Without REDIS_URL every worker process keeps its own rate limits and cached pages: limits
# multiply by the number of workers. Fine for one worker; otherwise set REDIS_URL.
if not REDIS_URL:
    import warnings

    warnings.warn(
        "REDIS_URL is not set: rate limits and cached pages are per worker process, not "
        "shared (docs/operations.md, 'Rate limits and the cache').",
        stacklevel=1,
    )
