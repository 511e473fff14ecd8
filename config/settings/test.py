"""Settings for the test suite. The keys below are TEST-ONLY and public on purpose."""

import os
import tempfile

os.environ.setdefault("DJANGO_SECRET_KEY", "test-only-not-secret-django-key")
os.environ.setdefault("SUNLIGHT_HASH_KEY", "test-only-not-secret-hash-key")
os.environ.setdefault(
    "SUNLIGHT_LOG_SIGNING_KEY",
    "PRIVATE+KEY+test-only.sunlight.invalid+e40fa9ec+AS/lbjAlp/1cFX5XQi6AsMEdrfibHiB8thd5smaO3mox",
)
os.environ.setdefault("SUNLIGHT_VAR_DIR", os.path.join(tempfile.gettempdir(), "sunlight-test-var"))

from .base import *  # noqa: F403
from .base import INSTALLED_APPS, REST_FRAMEWORK, STATIC_ROOT

# The demo data and its load_demo command (tests use its roster generator); never production.
INSTALLED_APPS = [*INSTALLED_APPS, "demo"]

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
REST_FRAMEWORK = {**REST_FRAMEWORK}

# WhiteNoise warns about a missing static root; tests serve static files through finders.
STATIC_ROOT.mkdir(parents=True, exist_ok=True)

# Tests that crawl every download are not held by the export budget; its own tests set it.
SUNLIGHT_THROTTLE_EXPORT = "100000/hour"
