"""Top-level URLs: the public site, staff pages, the API, the admin.

Media (uploads, error reports) is never served from here, not even under DEBUG: error reports are
downloaded through the staff views that check permissions (funds.views.job_error_report).
"""

from django.contrib import admin
from django.urls import include, path
from django.views.decorators.csrf import csrf_exempt
from django.views.i18n import set_language

urlpatterns = [
    path("admin/", admin.site.urls),
    # No CSRF token: switching the language sets a preference, not an act, and a page free of
    # tokens can be cached and shared (publicity/pagecache.py).
    path("i18n/setlang/", csrf_exempt(set_language), name="set_language"),
    path("staff/imports/", include("funds.urls")),
    path("api/", include("api.urls")),
    path("", include("publicity.urls")),
]
# A database connection error raised outside a view is a 503 too (config.errors).
handler500 = "config.errors.server_error"
