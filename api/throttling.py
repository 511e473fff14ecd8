"""Rate limits by role: anonymous by address, users by account, auditors with more room.

The address is the client's behind the trusted proxies (privacy.clients), as a keyed hash:
DRF's own get_ident believes any X-Forwarded-For (its NUM_PROXIES is not used here).
"""

from __future__ import annotations

from django.conf import settings
from rest_framework.settings import api_settings
from rest_framework.throttling import BaseThrottle, SimpleRateThrottle

from api.permissions import is_auditor
from privacy import clients
from publicity import lookup


class RoleRateThrottle(SimpleRateThrottle):
    """Throttle with the `anon`, `user` or `auditor` rate, whichever fits the caller."""

    def get_rate(self):
        # Read the rates at request time so that settings overrides take effect.
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)

    def allow_request(self, request, view):
        if is_auditor(request):
            self.scope = "auditor"
        elif request.user and request.user.is_authenticated:
            self.scope = "user"
        else:
            self.scope = "anon"
        self.rate = self.get_rate()
        self.num_requests, self.duration = self.parse_rate(self.rate)
        return super().allow_request(request, view)

    def __init__(self):
        # The scope is chosen per request in allow_request.
        pass

    def get_ident(self, request):
        return clients.client_key(request)

    def get_cache_key(self, request, view):
        if request.user and request.user.is_authenticated:
            ident = request.user.pk
        else:
            ident = self.get_ident(request)
        return self.cache_format % {"scope": self.scope, "ident": ident}


class ExportRateThrottle(BaseThrottle):
    """The `export` limit (SUNLIGHT_THROTTLE_EXPORT) on anonymous downloads, one budget with
    the public site's CSV/XLSX downloads (publicity.lookup.export_refused)."""

    scope = "export"

    def allow_request(self, request, view):
        return not lookup.export_refused(request)

    def wait(self):
        # The budget is counted in a fixed window: at most the window's length.
        return lookup.parse_rate(settings.SUNLIGHT_THROTTLE_EXPORT)[1]
