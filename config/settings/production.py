"""Settings for production: everything from the environment, secure by default."""

from config.env import env_bool, env_int

from .base import *  # noqa: F403
from .base import DATABASES, REDIS_URL

DEBUG = False
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_SECURE = env_bool("DJANGO_SECURE_COOKIES", True)
CSRF_COOKIE_SECURE = env_bool("DJANGO_SECURE_COOKIES", True)
SECURE_HSTS_SECONDS = env_int("DJANGO_HSTS_SECONDS", 0)
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
