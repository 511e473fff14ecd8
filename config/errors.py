"""The database away: a 503 with Retry-After, the branded page (JSON on the API), no traceback.

``DatabaseUnavailableMiddleware`` (first in MIDDLEWARE) answers a view that raised a database
connection error; ``server_error`` (``handler500``) answers the same error raised anywhere else
in the stack (a middleware, the session) and renders the plain 500 page for everything else.
Both render ``503.html`` without a request context: no context processor runs, so nothing
reads the database or the session; the page is translated in the language LocaleMiddleware
chose, and links only the site's stylesheet.
"""

from __future__ import annotations

import logging
import sys

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, HttpResponseServerError, JsonResponse
from django.template import loader
from django.utils.translation import gettext as _

log = logging.getLogger(__name__)

#: Seconds a client is asked to wait before trying again.
RETRY_AFTER_SECONDS = 30

try:  # psycopg's own, for errors raised outside Django's wrappers (e.g. a COPY)
    import psycopg

    _DATABASE_DOWN: tuple[type[BaseException], ...] = (
        OperationalError, InterfaceError, psycopg.OperationalError, psycopg.InterfaceError,
    )  # fmt: skip
except ImportError:  # pragma: no cover - psycopg is a dependency
    _DATABASE_DOWN = (OperationalError, InterfaceError)


def is_database_down(error: BaseException | None) -> bool:
    """Whether ERROR (or what caused it) says the database cannot be reached or used now."""
    seen = 0
    while error is not None and seen < 10:
        if isinstance(error, _DATABASE_DOWN):
            return True
        error, seen = error.__cause__ or error.__context__, seen + 1
    return False


def database_unavailable(request: HttpRequest) -> HttpResponse:
    """The 503 answer: JSON under /api/, the static branded page elsewhere."""
    if request.path.startswith("/api/"):
        response: HttpResponse = JsonResponse(
            {"detail": _("数据库暂时无法访问，请稍后再试。")}, status=503
        )
    else:
        response = HttpResponse(loader.render_to_string("503.html"), status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response["Cache-Control"] = "no-store"
    return response


class DatabaseUnavailableMiddleware:
    """Answer 503 when a view fails because the database cannot be reached."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not is_database_down(exception):
            return None
        log.error("database unavailable for %s %s: %s", request.method, request.path,
                  type(exception).__name__)  # fmt: skip
        return database_unavailable(request)


def server_error(request: HttpRequest) -> HttpResponse:
    """handler500: a database error raised outside a view is a 503 too; anything else a 500."""
    if is_database_down(sys.exc_info()[1]):
        return database_unavailable(request)
    return HttpResponseServerError(loader.render_to_string("500.html"))
