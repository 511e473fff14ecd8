"""Access tokens for auditors: stored as a SHA-256 of the key, expiring, revocable."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from funds.access import AUDITORS_GROUP  # noqa: F401  (defined once, in funds.access)
from funds.models import AuditEntry

KEY_PREFIX_LENGTH = 8


def hash_key(key: str) -> str:
    """Return the SHA-256 hex digest of a token key."""
    return hashlib.sha256(key.encode()).hexdigest()


class AuditorTokenQuerySet(models.QuerySet["AuditorToken"]):
    def active(self) -> AuditorTokenQuerySet:
        """Tokens neither expired nor revoked."""
        return self.filter(revoked_at__isnull=True, expires_at__gt=timezone.now())

    def issue(self, *, user, days: int, note: str = "") -> tuple[AuditorToken, str]:
        """Create a token for USER valid DAYS days; return it with the key (shown once)."""
        key = secrets.token_urlsafe(32)
        while key.startswith("-"):  # its prefix is passed on command lines: no option-like keys
            key = secrets.token_urlsafe(32)
        token = self.create(
            user=user,
            key_hash=hash_key(key),
            prefix=key[:KEY_PREFIX_LENGTH],
            expires_at=timezone.now() + timedelta(days=days),
            note=note,
        )
        return token, key


class AuditorToken(models.Model):
    """An API key for one auditor; only its hash and first characters are kept."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="auditor_tokens",
        verbose_name=_("用户"),
    )
    key_hash = models.CharField(_("密钥 SHA-256"), max_length=64, unique=True, editable=False)
    prefix = models.CharField(_("密钥前缀"), max_length=KEY_PREFIX_LENGTH, editable=False)
    note = models.CharField(_("备注"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    expires_at = models.DateTimeField(_("过期时间"))
    revoked_at = models.DateTimeField(_("吊销时间"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("最近使用"), null=True, blank=True)

    objects = AuditorTokenQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("审计令牌")
        verbose_name_plural = _("审计令牌")

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user})"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None and self.expires_at > timezone.now()

    def revoke(self) -> None:
        """Revoke the token now; it stops working at once."""
        if self.revoked_at is None:
            self.revoked_at = timezone.now()
            self.save(update_fields=["revoked_at"])


#: The audit record's kind for a red-flag review, and every kind the audit list takes.
REVIEW_AUDIT_KIND = AuditEntry.Kind.REDFLAG_REVIEW.value
AUDIT_KINDS: dict[str, object] = dict(AuditEntry.Kind.choices)


class RedFlagReview(models.Model):
    """An auditor's review of one red-flag case, with a note: appended, never changed.

    A case is named by its kind and case id (``api.redflags.case_id``); a newer review of the
    same case supersedes the older ones, which stay. The database refuses UPDATE and DELETE
    (triggers, migration 0002). The note is scrubbed of ID-, phone- and account-like numbers and
    known persons' names are masked before it is stored. The user is a plain reference, like
    the audit record's: a review outlives the account.
    """

    kind = models.CharField(_("红旗类型"), max_length=40)
    case = models.CharField(_("案件编号"), max_length=16)
    note = models.TextField(_("说明（已脱敏）"))
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("审计员"),
    )
    username = models.CharField(_("审计员用户名"), max_length=150)
    at = models.DateTimeField(_("时间"), default=timezone.now)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("红旗复核")
        verbose_name_plural = _("红旗复核")
        indexes = [models.Index(fields=["kind", "case", "at"], name="redflag_review_case_at")]

    def __str__(self) -> str:
        return f"{self.kind}/{self.case} {self.username}"
