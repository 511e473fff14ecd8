"""Authenticate auditors by `Authorization: Token <key>` or `Authorization: Bearer <key>`."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions

from api.models import AuditorToken, hash_key

KEYWORDS = (b"token", b"bearer")
# Record use at most this often, so reads do not turn into writes.
LAST_USED_RESOLUTION = timedelta(minutes=5)


class AuditorTokenAuthentication(authentication.BaseAuthentication):
    """Accept a live auditor token; an unknown, expired or revoked one is a 401.

    An ``Authorization`` header is a claim to be someone: one without a scheme, or with a
    scheme the API does not take (Basic, Digest …), is refused too, never served as anonymous.
    """

    def authenticate(self, request):
        parts = authentication.get_authorization_header(request).split()
        if not parts:
            return None
        if parts[0].lower() not in KEYWORDS:
            raise exceptions.AuthenticationFailed(
                _("不支持的认证方式：请使用 Authorization: Token <令牌>。")
            )
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed(_("令牌格式无效。"))
        try:
            key = parts[1].decode("ascii")
        except UnicodeDecodeError as exc:
            raise exceptions.AuthenticationFailed(_("令牌格式无效。")) from exc
        token = AuditorToken.objects.select_related("user").filter(key_hash=hash_key(key)).first()
        if token is None or not token.user.is_active:
            raise exceptions.AuthenticationFailed(_("令牌无效。"))
        if token.revoked_at is not None:
            raise exceptions.AuthenticationFailed(_("令牌已被吊销。"))
        now = timezone.now()
        if token.expires_at <= now:
            raise exceptions.AuthenticationFailed(_("令牌已过期。"))
        if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
            AuditorToken.objects.filter(pk=token.pk).update(last_used_at=now)
        return token.user, token

    def authenticate_header(self, request) -> str:
        return "Token"
