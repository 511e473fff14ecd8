"""Rate limits by role: anonymous by address, users by account, auditors with more room."""

from __future__ import annotations

from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle

from api.permissions import is_auditor


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

    def get_cache_key(self, request, view):
        if request.user and request.user.is_authenticated:
            ident = request.user.pk
        else:
            ident = self.get_ident(request)
        return self.cache_format % {"scope": self.scope, "ident": ident}
