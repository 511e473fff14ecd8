"""Who may see what: everyone reads published data; auditors and staff see red flags."""

from __future__ import annotations

from rest_framework import permissions

from api.models import AUDITORS_GROUP, AuditorToken


def is_auditor(request) -> bool:
    """Say whether the request comes from staff, an auditor token or the auditors group."""
    user = request.user
    if not user or not user.is_authenticated:
        return False
    if user.is_staff or isinstance(request.auth, AuditorToken):
        return True
    cached = getattr(request, "_is_auditor", None)
    if cached is None:
        cached = user.groups.filter(name=AUDITORS_GROUP).exists()
        request._is_auditor = cached
    return cached


class IsAuditor(permissions.BasePermission):
    """Allow auditors and staff only."""

    def has_permission(self, request, view) -> bool:
        return is_auditor(request)


class CanReviewRedFlags(permissions.BasePermission):
    """Allow auditors only: an auditor's token, or an account in the auditors group.

    Staff read red flags but do not mark them reviewed: the office that paid does not close the
    cases raised against its own rosters.
    """

    def has_permission(self, request, view) -> bool:
        user = request.user
        if not user or not user.is_authenticated:
            return False
        if isinstance(request.auth, AuditorToken):
            return True
        return user.groups.filter(name=AUDITORS_GROUP).exists()


class CanReadAuditRecord(permissions.BasePermission):
    """Allow an auditor's token, or an account holding ``funds.view_auditentry``."""

    def has_permission(self, request, view) -> bool:
        user = request.user
        if not user or not user.is_authenticated:
            return False
        return isinstance(request.auth, AuditorToken) or user.has_perm("funds.view_auditentry")
