"""Public pages and anonymous API answers, cached on the publication version.

What the public sees changes only by an act on a batch: publish, finalise, withdraw, correct
(funds.publishing) and payment results (funds.payments). Each act sends
``funds.signals.publication_changed`` inside its transaction, and publicity.receivers bumps
the one row of :class:`publicity.models.PublicationVersion` there. A cached answer is keyed on
that version, so the first request after an act commits renders afresh, in every process.

Why a bumped row rather than a version derived from an aggregate (as api.conditional's
batch-state aggregate is): payment results and corrections change public pages without
changing the batch table's counts or sums, and an aggregate that saw them would have to read
the disbursement and payment-result tables on every request. Reading one row by its primary
key costs less than any aggregate, is exact for every act, and commits or rolls back with the
act (the row lock also orders concurrent acts). Edits staff make outside the acts (a village
or program renamed in the admin) bump it after they commit (publicity.receivers); anything
else (a re-mask of names) shows at the latest after SUNLIGHT_PAGE_CACHE_SECONDS.

The key holds the version (number and time: a restored backup cannot meet pages cached from
a later state), today's date (a publicity period ends at midnight), the language, the
scheme, host, path and query, and that the caller is anonymous: staff, auditors and anyone
with a session or a pending message get a page rendered for them, never a shared copy. A page
that sets a cookie or carries a CSRF token (the lookup, the objection form) is not stored.
Pages and API answers send an ETag and Last-Modified and answer 304 when the copy a browser
or a reverse proxy holds is current. Downloads stream: they are revalidated (304), not stored.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, time
from functools import wraps

from django.conf import settings
from django.contrib.messages.storage.cookie import CookieStorage
from django.core.cache import cache
from django.http import HttpResponse, HttpResponseNotModified
from django.utils import timezone, translation
from django.utils.cache import patch_cache_control, patch_vary_headers
from django.utils.http import http_date, parse_etags, parse_http_date_safe

from publicity.models import PublicationVersion

PREFIX = "sunlight:answer:"
#: Response headers kept with a stored page.
#: The API's X-Sunlight-* headers say the moment an answer reflects (the moment it was computed,
#: which stays true until the next act bumps the version) and what it was asked.
KEPT_HEADERS = (
    "Content-Type",
    "Content-Language",
    "Content-Disposition",
    "X-Sunlight-As-Of",
    "X-Sunlight-As-Of-Tree-Size",
    "X-Sunlight-Filters",
)


def not_modified(request, etag: str, last_modified: datetime | None) -> bool:
    """Say whether the caller's copy is current (If-None-Match first, then If-Modified-Since)."""
    if_none_match = request.META.get("HTTP_IF_NONE_MATCH")
    if if_none_match:
        tags = parse_etags(if_none_match)
        return "*" in tags or etag in tags or f"W/{etag}" in tags
    since = parse_http_date_safe(request.META.get("HTTP_IF_MODIFIED_SINCE", ""))
    if since is not None and last_modified is not None:
        return int(last_modified.timestamp()) <= since
    return False


def stamp(response, etag: str, last_modified: datetime | None):
    """Set the ETag and Last-Modified of RESPONSE."""
    response["ETag"] = etag
    if last_modified is not None:
        response["Last-Modified"] = http_date(last_modified.timestamp())
    return response


def digest(*parts) -> str:
    return hashlib.sha256("\x1f".join(str(part) for part in parts).encode()).hexdigest()[:40]


def enabled() -> bool:
    return settings.SUNLIGHT_PAGE_CACHE_SECONDS > 0


def anonymous(request) -> bool:
    """Say whether REQUEST is a stranger's: no account, no session, no message waiting, no
    credentials (only such requests share cached answers)."""
    cookies = request.COOKIES
    if settings.SESSION_COOKIE_NAME in cookies or CookieStorage.cookie_name in cookies:
        return False
    if request.META.get("HTTP_AUTHORIZATION"):
        return False
    user = getattr(request, "user", None)
    return user is None or not user.is_authenticated


def version_parts(version: PublicationVersion) -> tuple:
    return (version.number, version.changed_at.isoformat() if version.changed_at else "")


def shared_parts(request) -> tuple:
    """What every shared key names besides the version: the day, language, host and path."""
    return (
        timezone.localdate().isoformat(),
        translation.get_language(),
        request.scheme,
        request.get_host(),
        request.get_full_path(),
        "anonymous",
    )


def page_stamp(request, version: PublicationVersion) -> tuple[str, datetime]:
    """Return the ETag and Last-Modified of a public page at VERSION."""
    etag = f'"{digest("page", *version_parts(version), *shared_parts(request))}"'
    midnight = timezone.make_aware(datetime.combine(timezone.localdate(), time.min))
    changed = version.changed_at
    return etag, max(changed, midnight) if changed else midnight


def stored(key: str):
    """Return the answer stored under KEY as a response, or None."""
    kept = cache.get(PREFIX + key)
    if kept is None:
        return None
    response = HttpResponse(kept["content"], status=kept["status"])
    for name, value in kept["headers"].items():
        response[name] = value
    return response


def store(key: str, response) -> None:
    """Keep a rendered RESPONSE under KEY for SUNLIGHT_PAGE_CACHE_SECONDS."""
    headers = {name: response[name] for name in KEPT_HEADERS if response.has_header(name)}
    kept = {"status": response.status_code, "content": response.content, "headers": headers}
    cache.set(PREFIX + key, kept, timeout=settings.SUNLIGHT_PAGE_CACHE_SECONDS)


def storable(request, response) -> bool:
    """Say whether RESPONSE may be shared: a plain 200 with no cookie, no CSRF token and
    nothing marked private."""
    if response.status_code != 200 or response.cookies:
        return False
    if request.META.get("CSRF_COOKIE_NEEDS_UPDATE"):  # the page rendered a CSRF token
        return False
    control = response.get("Cache-Control", "")
    return "private" not in control and "no-store" not in control


def public_page(view):
    """Serve VIEW's page from the shared cache while the publication version holds, with an
    ETag and Last-Modified, and 304 when the caller's copy is current."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if request.method not in ("GET", "HEAD") or not enabled() or not anonymous(request):
            return view(request, *args, **kwargs)
        etag, last_modified = page_stamp(request, PublicationVersion.current())
        if not_modified(request, etag, last_modified):
            return finish(HttpResponseNotModified(), etag, last_modified)
        key = etag.strip('"')
        response = stored(key)
        if response is not None:
            return finish(response, etag, last_modified)
        response = view(request, *args, **kwargs)
        if not storable(request, response):
            return response
        if not response.streaming:
            store(key, response)
        return finish(response, etag, last_modified)

    return wrapper


def finish(response, etag: str, last_modified: datetime):
    """Stamp a shared page: revalidated by browsers and proxies each time it is shown."""
    stamp(response, etag, last_modified)
    patch_cache_control(response, no_cache=True)
    patch_vary_headers(response, ("Accept-Language", "Cookie"))
    return response
