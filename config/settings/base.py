"""Settings shared by every environment; all values come from the environment."""

from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

from config.env import env_bool, env_dates, env_int, env_list, env_str, replica_databases
from privacy.clients import trusted_proxies
from privacy.masking import DEFAULT_POLICY

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(env_str("SUNLIGHT_VAR_DIR", str(BASE_DIR / "var")))

SECRET_KEY = env_str("DJANGO_SECRET_KEY")
DEBUG = env_bool("DJANGO_DEBUG", False)
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", "")

# Personal data: the key for the keyed hashes (HMAC-SHA256) of ID numbers, accounts
# and names. Its version is stored beside every hash so keys can be rotated.
SUNLIGHT_HASH_KEY = env_str("SUNLIGHT_HASH_KEY").encode()
SUNLIGHT_HASH_KEY_VERSION = env_int("SUNLIGHT_HASH_KEY_VERSION", 1)
# Masking policy (privacy.masking.MaskingPolicy fields): its defaults are the policy's own, so
# they are written in one place; an ID keeps 3 + 1 characters (docs/privacy.md says why).
SUNLIGHT_MASKING = {
    "name": env_str("SUNLIGHT_MASK_NAME", DEFAULT_POLICY.name),
    "id_keep_head": env_int("SUNLIGHT_MASK_ID_HEAD", DEFAULT_POLICY.id_keep_head),
    "id_keep_tail": env_int("SUNLIGHT_MASK_ID_TAIL", DEFAULT_POLICY.id_keep_tail),
    "account_keep_head": env_int("SUNLIGHT_MASK_ACCOUNT_HEAD", DEFAULT_POLICY.account_keep_head),
    "account_keep_tail": env_int("SUNLIGHT_MASK_ACCOUNT_TAIL", DEFAULT_POLICY.account_keep_tail),
}
# Import limits (defences before parsing).
SUNLIGHT_MAX_UPLOAD_BYTES = env_int("SUNLIGHT_MAX_UPLOAD_BYTES", 50 * 1024 * 1024)
SUNLIGHT_MAX_UNCOMPRESSED_BYTES = env_int("SUNLIGHT_MAX_UNCOMPRESSED_BYTES", 500 * 1024 * 1024)
SUNLIGHT_MAX_ROWS = env_int("SUNLIGHT_MAX_ROWS", 1_000_000)
# Staged rows and error reports are deleted this many days after their job last changed.
SUNLIGHT_IMPORT_FILE_RETENTION_DAYS = env_int("SUNLIGHT_IMPORT_FILE_RETENTION_DAYS", 7)
# An API export matching more rows than this runs as a background job (202 + the job's URL);
# the job's file is deleted this many hours after it was asked for.
SUNLIGHT_EXPORT_SYNC_MAX_ROWS = env_int("SUNLIGHT_EXPORT_SYNC_MAX_ROWS", 50_000)
SUNLIGHT_EXPORT_RETENTION_HOURS = env_int("SUNLIGHT_EXPORT_RETENTION_HOURS", 24)
# A job parsing or importing whose heartbeat (its updated_at, beaten as progress is reported)
# is older than this was left by a worker that died: the sweep marks it failed, retryable. Each
# worker sweeps when it starts and then every SUNLIGHT_STALE_SWEEP_SECONDS.
SUNLIGHT_STALE_JOB_SECONDS = env_int("SUNLIGHT_STALE_JOB_SECONDS", 900)
SUNLIGHT_STALE_SWEEP_SECONDS = env_int("SUNLIGHT_STALE_SWEEP_SECONDS", 60)
SUNLIGHT_MAX_COLUMNS = env_int("SUNLIGHT_MAX_COLUMNS", 200)
SUNLIGHT_MAX_CELLS = env_int("SUNLIGHT_MAX_CELLS", 30_000_000)
SUNLIGHT_MAX_MERGED_RANGES = env_int("SUNLIGHT_MAX_MERGED_RANGES", 10_000)
SUNLIGHT_PARSE_MEMORY_MB = env_int("SUNLIGHT_PARSE_MEMORY_MB", 2048)
# The publicity period, in working days of the official calendar (funds/workdays.py); a
# deployment adds its own holidays and make-up working days (YYYY-MM-DD, comma-separated).
SUNLIGHT_PUBLICITY_DAYS = env_int("SUNLIGHT_PUBLICITY_DAYS", 7)
SUNLIGHT_EXTRA_HOLIDAYS = env_dates("SUNLIGHT_EXTRA_HOLIDAYS")
SUNLIGHT_EXTRA_WORKDAYS = env_dates("SUNLIGHT_EXTRA_WORKDAYS")
# Programs a person may not receive in the same period, as pairs of program slugs joined by "+",
# comma-separated (the auditors' red flag exclusive_programs): 低保 with 特困 by default.
SUNLIGHT_EXCLUSIVE_PROGRAMS = [
    tuple(pair.split("+", 1)) for pair in env_list("SUNLIGHT_EXCLUSIVE_PROGRAMS", "dibao+tekun")
]
# The transparency log (docs/verify.md): the Ed25519 key that signs its checkpoints, as a
# signed-note private key (PRIVATE+KEY+<name>+<id>+<base64>, made by `manage.py
# generate_log_key`), and the log's origin line (the key's name when unset). No default: without
# a key nothing can be published, since a publication must be signed into the log.
SUNLIGHT_LOG_SIGNING_KEY = env_str("SUNLIGHT_LOG_SIGNING_KEY", "")
SUNLIGHT_LOG_ORIGIN = env_str("SUNLIGHT_LOG_ORIGIN", "")
# Public-site rate limits, counted in the cache. The lookup is limited per client address (in
# the rate window), per target (the looked-up ID, the keyed hash of the name, the household the
# ID belongs to; in the target window) and in all per hour; reaching a target's limit or the
# ceiling raises an alarm (docs/operations.md, "Lookup limits and alarms").
SUNLIGHT_LOOKUP_PER_CLIENT = env_int("SUNLIGHT_LOOKUP_PER_CLIENT", 10)
SUNLIGHT_LOOKUP_PER_ID = env_int("SUNLIGHT_LOOKUP_PER_ID", 5)
SUNLIGHT_LOOKUP_PER_NAME = env_int("SUNLIGHT_LOOKUP_PER_NAME", 5)
SUNLIGHT_LOOKUP_PER_HOUSEHOLD = env_int("SUNLIGHT_LOOKUP_PER_HOUSEHOLD", 10)
SUNLIGHT_LOOKUP_TARGET_WINDOW_SECONDS = env_int("SUNLIGHT_LOOKUP_TARGET_WINDOW_SECONDS", 86400)
SUNLIGHT_LOOKUP_PER_HOUR = env_int("SUNLIGHT_LOOKUP_PER_HOUR", 1000)
SUNLIGHT_OBJECTIONS_PER_CLIENT = env_int("SUNLIGHT_OBJECTIONS_PER_CLIENT", 5)
SUNLIGHT_RATE_WINDOW_SECONDS = env_int("SUNLIGHT_RATE_WINDOW_SECONDS", 3600)

# --- Clients behind proxies, shared limits and the public-page cache (#15.2, #15.3) ---------
# Who may speak for a client through X-Forwarded-For (privacy/clients.py): empty trusts no one
# (REMOTE_ADDR only); a number is a count of proxy hops; or a comma list of addresses/CIDRs.
SUNLIGHT_TRUSTED_PROXIES = env_str("SUNLIGHT_TRUSTED_PROXIES", "")
trusted_proxies(SUNLIGHT_TRUSTED_PROXIES)  # a bad value refuses to start, naming the setting
# Downloads (public CSV/XLSX and the API's exports), per anonymous client, shared by both.
SUNLIGHT_THROTTLE_EXPORT = env_str("SUNLIGHT_THROTTLE_EXPORT", "10/hour")
# Public pages and anonymous API answers are cached for at most this long, keyed on the
# publication version (publicity/pagecache.py); 0 turns the cache off.
SUNLIGHT_PAGE_CACHE_SECONDS = env_int("SUNLIGHT_PAGE_CACHE_SECONDS", 3600)
# Redis (limits and cached pages, shared by every process); local memory when unset.
# Unreachable Redis degrades to a per-process cache with a warning (config/cache.py).
REDIS_URL = env_str("REDIS_URL", "")
SUNLIGHT_CACHE_WARN_SECONDS = env_int("SUNLIGHT_CACHE_WARN_SECONDS", 60)
CACHES = {
    "default": (
        {
            "BACKEND": "config.cache.FallbackRedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "sunlight",
            "OPTIONS": {"socket_connect_timeout": 0.25, "socket_timeout": 0.5},
        }
        if REDIS_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}
# --- end of #15.2/#15.3 settings -------------------------------------------------------------

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "import_export",
    "villages",
    "funds",  # before django_tasks_db: its db_worker command (which sweeps stale jobs) wins
    "publicity",
    "api",
    "django_tasks",
    "django_tasks_db",
]

MIDDLEWARE = [
    # First, so that it answers a view's database error before any other middleware sees it.
    "config.errors.DatabaseUnavailableMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # After authentication: a logged-in user's pages are read from the primary.
    "config.routing.ReplicaReadMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# SQLite is the embedded default; PostgreSQL is production (set DATABASE_URL).
DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'sunlight.sqlite3'}"),
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web process read while the task worker writes.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
# Read replicas (PostgreSQL streaming replicas of DATABASE_URL, comma-separated URLs): public
# and API reads go to them, everything else to the primary (config/routing.py; docs/deploy.md).
DATABASES.update(
    replica_databases(
        env_list("DATABASE_REPLICA_URLS", ""), conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60)
    )
)
SUNLIGHT_DB_REPLICAS = [alias for alias in DATABASES if alias != "default"]
DATABASE_ROUTERS = ["config.routing.ReplicaRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

TASKS = {
    "default": {
        "BACKEND": env_str("SUNLIGHT_TASKS_BACKEND", "django_tasks_db.DatabaseBackend"),
        "QUEUES": ["default"],
    }
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "admin:login"

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("简体中文")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_ROOT = VAR_DIR / "media"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env_str("SUNLIGHT_THROTTLE_ANON", "120/minute"),
        "user": env_str("SUNLIGHT_THROTTLE_USER", "600/minute"),
        "auditor": env_str("SUNLIGHT_THROTTLE_AUDITOR", "3000/minute"),
    },
}
SYSTEM_FONTS = (
    '-apple-system, "Segoe UI", "PingFang SC", "Microsoft YaHei", "Noto Sans CJK SC", sans-serif'
)
SPECTACULAR_SETTINGS = {
    "TITLE": "Sunlight API",
    "DESCRIPTION": "Read-only API over published welfare-fund payments (masked).",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # One enum for a batch's status wherever it is served (batches, the change feed).
    "ENUM_NAME_OVERRIDES": {"BatchStatusEnum": "api.schema.BATCH_STATUSES"},
    # The system's fonts, not Redoc's default web fonts: nothing is fetched from elsewhere.
    "REDOC_UI_SETTINGS": {
        "theme": {
            "typography": {
                "fontFamily": SYSTEM_FONTS,
                "headings": {"fontFamily": SYSTEM_FONTS},
                "code": {"fontFamily": "ui-monospace, Menlo, Consolas, monospace"},
            }
        }
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("SUNLIGHT_LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# ==== Secure by default (issue #15.1): CSP and login throttling. ===============================
# Keep this block together at merge (other settings above may change around it).
# Content-Security-Policy (django-csp): nothing inline, nothing from elsewhere. Every script and
# style is a static file; the API docs load theirs the same way (templates/api/, static/api/).
# QR codes and Swagger UI's icons are data: images. docs/security.md explains each directive.
INSTALLED_APPS += ["csp", "axes"]  # axes has models: the login attempts
MIDDLEWARE.insert(  # right after SecurityMiddleware, so every answer gets the header
    MIDDLEWARE.index("django.middleware.security.SecurityMiddleware") + 1,
    "csp.middleware.CSPMiddleware",
)
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    }
}
# Swagger UI: no badge from the public validator (an image from elsewhere, which the policy blocks).
SPECTACULAR_SETTINGS["SWAGGER_UI_SETTINGS"] = {"deepLinking": True, "validatorUrl": None}
# Login guessing (django-axes): after SUNLIGHT_LOGIN_FAILURE_LIMIT failed logins for one user
# name from one client address, that pair is locked out for SUNLIGHT_LOGIN_COOLOFF_MINUTES and
# gets the translated lockout page (HTTP 429). Covers /admin/login/, the staff's only login.
MIDDLEWARE.append("axes.middleware.AxesMiddleware")  # axes wants to be last
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env_int("SUNLIGHT_LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("SUNLIGHT_LOGIN_COOLOFF_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_HTTP_RESPONSE_CODE = 429
AXES_LOCKOUT_CALLABLE = "config.security.lockout_response"
# The client address of a request, as every other limit reads it: the peer, or the client the
# trusted proxies (SUNLIGHT_TRUSTED_PROXIES) name in X-Forwarded-For.
AXES_CLIENT_IP_CALLABLE = "privacy.clients.login_address"
# An address is personal data: axes keeps a keyed-hash pseudo-address (login_address), keeps no
# log of successful sign-ins, and writes no addresses to the log.
AXES_DISABLE_ACCESS_LOG = True
AXES_VERBOSE = False
# ==== end of the secure-by-default block ========================================================
