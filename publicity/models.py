"""Objections raised during a batch's publicity period (公示期异议); the lookup's alarms; the
transparency log's leaves, checkpoints and head (publicity.transparency appends to them)."""

from __future__ import annotations

import base64

from django.db import models
from django.db.models import F
from django.utils import timezone
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


class LogHead(models.Model):
    """The transparency log's one head row: its size and the frontier its next root grows from.

    Appending locks this row, so two publications take turns and never share a leaf index. The
    frontier (the roots of the tree's perfect subtrees, publicity.translog.extend_frontier) lets
    a publication sign the new root without reading the leaves before it; a leaf slipped into
    the table behind the head's back is then outside every signed root, and the proofs served
    from the table stop verifying.
    """

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    size = models.PositiveBigIntegerField(_("叶子数"), default=0)
    frontier = models.BinaryField(_("右边界子树哈希"), default=b"")

    class Meta:
        verbose_name = _("日志头")
        verbose_name_plural = _("日志头")
        constraints = [models.CheckConstraint(condition=models.Q(id=1), name="log_head_one_row")]

    def __str__(self) -> str:
        return str(self.size)


class LogLeaf(models.Model):
    """One published row as a leaf of the transparency log: the exact text hashed, and its hash.

    Append-only: the database refuses UPDATE and DELETE (migration 0003). The batch and the row
    are plain ids, not foreign keys: a leaf outlives whatever happens to them.
    """

    index = models.BigIntegerField(_("叶子序号"), primary_key=True)
    batch_id = models.BigIntegerField(_("批次"))
    # A row is published once, so it is logged once.
    disbursement_id = models.BigIntegerField(_("发放记录"), unique=True)
    leaf = models.TextField(_("叶子内容（规范 JSON）"))
    leaf_hash = models.BinaryField(_("叶子哈希"), max_length=32)
    created_at = models.DateTimeField(_("加入时间"), default=timezone.now)

    class Meta:
        ordering = ["index"]
        verbose_name = _("日志叶子")
        verbose_name_plural = _("日志叶子")
        constraints = [
            models.CheckConstraint(condition=models.Q(index__gte=0), name="log_leaf_index_from_0")
        ]

    def __str__(self) -> str:
        return f"#{self.index}"


class Checkpoint(models.Model):
    """A signed checkpoint of the log (c2sp.org/tlog-checkpoint): its size, root and note."""

    tree_size = models.PositiveBigIntegerField(_("树大小"), db_index=True)
    root_hash = models.BinaryField(_("根哈希"), max_length=32)
    note = models.TextField(_("签名检查点"))
    batch_id = models.BigIntegerField(_("发布的批次"), null=True, blank=True, db_index=True)
    created_at = models.DateTimeField(_("签名时间"), default=timezone.now)

    class Meta:
        ordering = ["-tree_size", "-id"]
        get_latest_by = ["tree_size", "id"]
        verbose_name = _("日志检查点")
        verbose_name_plural = _("日志检查点")

    def __str__(self) -> str:
        return f"{self.tree_size} {self.root_b64}"

    @property
    def root_b64(self) -> str:
        return base64.b64encode(bytes(self.root_hash)).decode()


class PublicationVersion(models.Model):
    """One row counting the acts that changed what the public sees (publicity.pagecache).

    Publish, finalise, withdraw, correct and payment results bump it inside the act's
    transaction (funds.signals.public_data_changed): a cached page keyed on it is never
    served after the act commits, and never replaced before.
    """

    ROW = 1

    number = models.PositiveBigIntegerField(_("版本号"), default=0)
    changed_at = models.DateTimeField(_("变更时间"), default=timezone.now)

    class Meta:
        verbose_name = _("公开数据版本")
        verbose_name_plural = _("公开数据版本")

    def __str__(self) -> str:
        return f"v{self.number}"

    @classmethod
    def current(cls) -> PublicationVersion:
        """Return the version now (number 0 and no time before the first act)."""
        found = cls.objects.filter(pk=cls.ROW).first()
        return found or cls(pk=cls.ROW, number=0, changed_at=None)

    @classmethod
    def bump(cls) -> None:
        """Count one more change, in the caller's transaction (its row lock orders acts)."""
        now = timezone.now()
        changed = cls.objects.filter(pk=cls.ROW).update(number=F("number") + 1, changed_at=now)
        if not changed:
            cls.objects.get_or_create(pk=cls.ROW, defaults={"number": 1, "changed_at": now})
