"""Objections raised during a batch's publicity period (公示期异议); the lookup's alarms."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from funds.models import Batch
from villages.models import Household, Village


class Objection(models.Model):
    """An objection to a published batch; its text is scrubbed before it is stored."""

    class Status(models.TextChoices):
        OPEN = "open", _("待处理")
        ANSWERED = "answered", _("已答复")
        UPHELD = "upheld", _("异议成立")
        DISMISSED = "dismissed", _("异议不成立")

    batch = models.ForeignKey(
        Batch, on_delete=models.CASCADE, related_name="objections", verbose_name=_("批次")
    )
    village = models.ForeignKey(
        Village, on_delete=models.SET_NULL, null=True, blank=True, verbose_name=_("村")
    )
    text = models.TextField(_("异议内容（已脱敏）"))
    contact_masked = models.CharField(_("联系方式（脱敏）"), max_length=40, blank=True)
    contact_hash = models.CharField(_("联系方式密钥散列"), max_length=80, blank=True)
    status = models.CharField(_("状态"), max_length=20, choices=Status.choices, default=Status.OPEN)
    response = models.TextField(_("答复"), blank=True)
    created_at = models.DateTimeField(_("提出时间"), auto_now_add=True)
    answered_at = models.DateTimeField(_("答复时间"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("异议")
        verbose_name_plural = _("异议")

    def __str__(self) -> str:
        return f"{self.batch} #{self.pk}"


class LookupAlarm(models.Model):
    """A lookup limit reached: the hourly ceiling, or one target's (a name, an ID, a household).

    Raised once per target and window, when the limit is first passed. It holds no raw data:
    a name or ID target is the start of its keyed hash, a household its id.
    """

    class Kind(models.TextChoices):
        CEILING = "ceiling", _("全站每小时查询上限")
        NAME = "name", _("同一姓名查询次数上限")
        ID_NUMBER = "id_number", _("同一身份证号查询次数上限")
        HOUSEHOLD = "household", _("同一农户查询次数上限")

    kind = models.CharField(_("告警类型"), max_length=20, choices=Kind.choices)
    target = models.CharField(_("对象（密钥散列前缀）"), max_length=24, blank=True)
    household = models.ForeignKey(
        Household,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("农户"),
    )
    limit = models.PositiveIntegerField(_("限额"))
    window_seconds = models.PositiveIntegerField(_("时间窗口（秒）"))
    raised_at = models.DateTimeField(_("告警时间"), auto_now_add=True)
    reviewed = models.BooleanField(_("已处理"), default=False)

    class Meta:
        ordering = ["-raised_at", "-id"]
        verbose_name = _("查询告警")
        verbose_name_plural = _("查询告警")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.target or self.household_id or ''}".strip()
