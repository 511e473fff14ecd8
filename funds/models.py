"""Programs, payment batches and disbursements; the import job that fills them.

Money is ``Decimal`` with two places everywhere. A published row is never edited:
corrections are reversal and replacement rows in a new batch that points at the
batch it corrects.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from funds.importing.mapping import stored_mapping_problems
from villages.models import Household, Person, Township, Village

#: A payment period, year and month (2026-03): the one definition the forms, the command, the
#: API filters and the database constraint use.
PERIOD_PATTERN = r"^[0-9]{4}-(0[1-9]|1[0-2])$"

MONEY = {"max_digits": 14, "decimal_places": 2}


class Program(models.Model):
    """A subsidy or assistance program (项目), with what disclosure rules require."""

    class Category(models.TextChoices):
        AGRICULTURE = "agriculture", _("惠农补贴")
        ASSISTANCE = "assistance", _("社会救助")
        WELFARE = "welfare", _("社会福利")
        DISABILITY = "disability", _("残疾人补贴")
        OTHER = "other", _("其他")

    class FundingLevel(models.TextChoices):
        CENTRAL = "central", _("中央")
        PROVINCIAL = "provincial", _("省级")
        MUNICIPAL = "municipal", _("市级")
        COUNTY = "county", _("县级")
        MIXED = "mixed", _("多级共担")

    name = models.CharField(_("项目名称"), max_length=100, unique=True)
    slug = models.SlugField(_("标识"), max_length=60, unique=True)
    category = models.CharField(_("类别"), max_length=20, choices=Category.choices)
    funding_level = models.CharField(_("资金级次"), max_length=20, choices=FundingLevel.choices)
    year = models.PositiveSmallIntegerField(_("年度"), null=True, blank=True)
    rate = models.DecimalField(_("补贴标准"), null=True, blank=True, **MONEY)
    unit = models.CharField(_("计量单位"), max_length=20, blank=True, help_text=_("如：亩、人、月"))
    cap = models.DecimalField(_("单笔上限"), null=True, blank=True, **MONEY)
    rows_per_person = models.PositiveSmallIntegerField(
        _("每人每期笔数上限"),
        null=True,
        blank=True,
        default=1,
        help_text=_("同一人在同一期间最多可领取几笔（如按农机台数发放可多于一笔）；留空表示不限"),
    )
    min_age = models.PositiveSmallIntegerField(_("最低年龄"), null=True, blank=True)
    max_age = models.PositiveSmallIntegerField(_("最高年龄"), null=True, blank=True)
    department = models.CharField(_("主管部门"), max_length=100, blank=True)
    policy_basis = models.TextField(_("政策依据"), blank=True)
    application_guide = models.TextField(_("申领指南"), blank=True)
    complaints_channel = models.TextField(_("投诉渠道"), blank=True)
    is_builtin = models.BooleanField(_("内置项目"), default=False)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("补贴项目")
        verbose_name_plural = _("补贴项目")

    def __str__(self) -> str:
        return self.name

    @property
    def quantity_kind(self) -> str:
        """Say what a row's quantity counts by the program's unit: area, persons, count or ''."""
        unit = self.unit.strip()
        if not unit:
            return ""
        if unit in AREA_UNITS:
            return "area"
        return "persons" if unit.startswith("人") else "count"

    @property
    def unit_text(self) -> str:
        """Return the unit without brackets, to stand inside a column's (元/…): 台（套） → 台/套."""
        return self.unit.strip().replace("（", "/").replace("(", "/").strip("）)").strip()


#: Units of land: a program paid in one of them is a per-area subsidy (面积 × 标准).
AREA_UNITS = ("亩", "公顷", "平方米")


class BatchQuerySet(models.QuerySet["Batch"]):
    def published(self) -> BatchQuerySet:
        """Batches the public may see: in publicity or final."""
        return self.filter(status__in=Batch.PUBLIC_STATUSES)

    def live(self) -> BatchQuerySet:
        """Batches not withdrawn: drafts, in publicity or final."""
        return self.exclude(status=Batch.Status.WITHDRAWN)

    def of_file(self, sha256: str) -> Batch | None:
        """Return the live batch imported from the file with this SHA-256, if any."""
        return self.live().filter(source_sha256=sha256).first()


class Batch(models.Model):
    """One payment roster (发放批次) as imported from one source file."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("草稿")
        PUBLICITY = "publicity", _("公示中")
        FINAL = "final", _("已定稿")
        WITHDRAWN = "withdrawn", _("已撤回")

    PUBLIC_STATUSES = (Status.PUBLICITY, Status.FINAL)

    program = models.ForeignKey(
        Program, on_delete=models.PROTECT, related_name="batches", verbose_name=_("项目")
    )
    period = models.CharField(_("发放期间"), max_length=7, help_text=_("YYYY-MM"))
    year = models.PositiveSmallIntegerField(_("年度"), db_index=True)
    township = models.ForeignKey(
        Township, on_delete=models.PROTECT, related_name="batches", verbose_name=_("乡镇")
    )
    title = models.CharField(_("标题"), max_length=200, blank=True)
    source_name = models.CharField(_("源文件名"), max_length=255)
    # One live batch per file: a file whose batch was withdrawn may be imported again.
    source_sha256 = models.CharField(_("源文件 SHA-256"), max_length=64, db_index=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("上传人"),
    )
    status = models.CharField(
        _("状态"), max_length=20, choices=Status.choices, default=Status.DRAFT, db_index=True
    )
    publicity_start = models.DateField(_("公示开始"), null=True, blank=True)
    publicity_end = models.DateField(_("公示结束"), null=True, blank=True)
    published_at = models.DateTimeField(_("发布时间"), null=True, blank=True)
    corrects = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="corrections",
        verbose_name=_("更正的批次"),
    )
    reason = models.TextField(
        _("更正原因（已脱敏）"),
        blank=True,
        help_text=_("更正批次公开显示的原因；姓名、身份证号、电话、账号已隐去"),
    )
    row_count = models.PositiveIntegerField(_("行数"), default=0)
    household_count = models.PositiveIntegerField(_("户数"), default=0)
    person_count = models.PositiveIntegerField(_("人数"), default=0)
    total_amount = models.DecimalField(_("合计金额"), default=Decimal("0.00"), **MONEY)
    created_at = models.DateTimeField(_("导入时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    objects = BatchQuerySet.as_manager()

    class Meta:
        ordering = ["-period", "-id"]
        verbose_name = _("发放批次")
        verbose_name_plural = _("发放批次")
        indexes = [models.Index(fields=["program", "period"])]
        # What staff may do to a batch; funds.access checks them with the batch's township.
        permissions = [
            ("upload_roster", _("上传花名册")),
            ("confirm_import", _("确认导入花名册")),
            ("publish_batch", _("发布批次")),
            ("withdraw_batch", _("撤回批次")),
            ("finalize_batch", _("批次定稿")),
            ("correct_batch", _("更正批次")),
            ("record_payment_results", _("导入银行发放结果")),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(period__regex=PERIOD_PATTERN), name="batch_period_format"
            ),
            models.CheckConstraint(
                condition=Q(total_amount__gte=0) | Q(corrects__isnull=False),
                name="batch_total_not_negative",
            ),
            models.UniqueConstraint(
                fields=["source_sha256"],
                condition=~Q(status="withdrawn"),
                name="batch_one_live_batch_per_file",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.program} {self.period} {self.township}"

    @property
    def is_public(self) -> bool:
        return self.status in self.PUBLIC_STATUSES

    @property
    def is_correction(self) -> bool:
        return self.corrects_id is not None


#: The columns a summary groups and sums on, carried by its partial indexes.
SUMMARY_KEYS = ["village", "program", "period", "household", "amount"]


class DisbursementQuerySet(models.QuerySet["Disbursement"]):
    def published(self) -> DisbursementQuerySet:
        """Rows of published batches only."""
        return self.filter(batch__status__in=Batch.PUBLIC_STATUSES)

    def named_persons(self) -> QuerySet[Person]:
        """Return the persons these rows name: beneficiaries, payees and their households' heads.

        ``Disbursement.objects.published().named_persons()`` is the one definition of a
        published person: someone a published roster names. A person known only from drafts
        or withdrawn rosters is not one, even in a household that has published rows.
        """
        return Person.objects.filter(
            Exists(self.filter(person=OuterRef("pk")))
            | Exists(self.filter(payee=OuterRef("pk")))
            | Exists(self.filter(household__head=OuterRef("pk")))
        )


class Disbursement(models.Model):
    """One payment to one beneficiary, as one row of a roster."""

    class Status(models.TextChoices):
        PAID = "paid", _("已发放")
        FAILED = "failed", _("发放失败")
        STOPPED = "stopped", _("停发")

    # batch, household and person (and program and village below) are checked by the database
    # once per statement rather than once per row: see funds.importing.refchecks.
    batch = models.ForeignKey(
        Batch,
        on_delete=models.CASCADE,
        related_name="disbursements",
        verbose_name=_("批次"),
        db_constraint=False,
    )
    # Program, period and village are copied from the batch and household so that the
    # database can enforce "paid at most once" and filter big tables without joins.
    # The composite indexes in Meta lead with these keys, so the single-column indexes
    # Django would add are left out: every index costs time on every imported row.
    # Program and village are copies of batch.program and household.village: the loader and
    # corrections copy them, and tests check that they always agree.
    program = models.ForeignKey(
        Program,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("项目"),
        db_index=False,
        db_constraint=False,
    )
    period = models.CharField(_("发放期间"), max_length=7)
    village = models.ForeignKey(
        Village,
        on_delete=models.PROTECT,
        related_name="disbursements",
        verbose_name=_("村"),
        db_index=False,
        db_constraint=False,
    )
    household = models.ForeignKey(
        Household,
        on_delete=models.PROTECT,
        related_name="disbursements",
        verbose_name=_("农户"),
        db_index=False,
        db_constraint=False,
    )
    person = models.ForeignKey(
        Person,
        on_delete=models.PROTECT,
        related_name="disbursements",
        verbose_name=_("享受人"),
        db_index=False,
        db_constraint=False,
    )
    payee = models.ForeignKey(
        Person,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("收款人"),
        db_index=False,  # a partial index in Meta: most rows have no separate payee
        db_constraint=False,  # funds.importing.refchecks: no per-row trigger on every (NULL) payee
    )
    # The beneficiary's name as this row's own roster writes it, masked, and its keyed hash:
    # a person is one Person by ID hash, but rosters of other years may name them otherwise
    # (a changed or corrected name), and a row shows what its roster said. Rows made before
    # these columns existed carry their person's name (migration 0015).
    name_masked = models.CharField(_("姓名（脱敏）"), max_length=50, default="", blank=True)
    name_hash = models.CharField(_("姓名密钥散列"), max_length=80, default="", blank=True)
    quantity = models.DecimalField(
        _("数量"), max_digits=14, decimal_places=4, null=True, blank=True
    )
    rate = models.DecimalField(_("标准"), max_digits=14, decimal_places=4, null=True, blank=True)
    amount = models.DecimalField(_("金额"), **MONEY)
    pay_date = models.DateField(_("发放日期"), null=True, blank=True)
    account_masked = models.CharField(_("账号（脱敏）"), max_length=40, blank=True)
    account_hash = models.CharField(_("账号密钥散列"), max_length=80, blank=True)
    status = models.CharField(
        _("发放状态"), max_length=10, choices=Status.choices, default=Status.PAID
    )
    is_reversal = models.BooleanField(_("冲销行"), default=False)
    corrects = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="corrections",
        verbose_name=_("更正的记录"),
        db_index=False,  # a partial index in Meta: only correction rows have one
        db_constraint=False,  # funds.importing.refchecks, as payee
    )
    # The row a chain of corrections began with: every reversal and replacement of a row, and
    # of its replacements, names it, so a page finds a row's whole history in one query. A
    # plain row id, as the transparency log keeps them, not a foreign key: imports never set
    # it, and funds.publishing.correct_batch sets it from rows it has just read.
    origin_row = models.PositiveBigIntegerField(_("最初的记录"), null=True, blank=True)
    note = models.CharField(_("备注（已脱敏）"), max_length=500, blank=True)
    source_sheet = models.CharField(_("来源工作表"), max_length=100, blank=True)
    source_row = models.PositiveIntegerField(_("来源行号"), null=True, blank=True)

    objects = DisbursementQuerySet.as_manager()

    class Meta:
        ordering = ["id"]
        verbose_name = _("发放记录")
        verbose_name_plural = _("发放记录")
        indexes = [
            models.Index(fields=["village", "period"]),
            models.Index(fields=["household", "period"]),
            models.Index(fields=["person", "program", "period"]),
            # API: a program's rows in one village over a period range (the auditors' list).
            models.Index(
                fields=["program", "village", "period"], name="disb_program_village_period"
            ),
            # API summaries: index-only scans group a program's or period's rows by village
            # or batch and sum amounts without touching the table (amount is carried, not
            # sorted on: a smaller tree to maintain on every imported row).
            models.Index(
                fields=["program", "period", "village", "batch"],
                include=["amount"],
                name="disb_summary_cover",
            ),
            # account_hash has an index made by migration 0007 rather than here: on PostgreSQL
            # a hash index (only ever compared with =), which costs an import ~0.2 s per
            # 100,000 rows less than a B-tree of 67-byte random keys; a B-tree on SQLite.
            # Partial indexes: small, and no varchar_pattern_ops twin as db_index would add.
            models.Index(fields=["payee"], condition=Q(payee__isnull=False), name="disb_payee"),
            models.Index(
                fields=["corrects"], condition=Q(corrects__isnull=False), name="disb_corrects"
            ),
            models.Index(
                fields=["origin_row"], condition=Q(origin_row__isnull=False), name="disb_origin"
            ),
            # Summaries give each group's failed and reversed amounts (api.selectors.named_groups):
            # without these, each is a full scan of the table however few rows failed or were
            # reversed (6.2 s at 10,000,000 rows; bench/README.md, "Scale benchmark"). Partial
            # and covering: about 1 % of rows, read without touching the table.
            models.Index(
                fields=["batch"],
                include=SUMMARY_KEYS,
                condition=Q(status="failed"),
                name="disb_failed",
            ),
            models.Index(
                fields=["batch"],
                include=SUMMARY_KEYS,
                condition=Q(is_reversal=True),
                name="disb_reversal",
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["batch", "person", "program", "period"],
                condition=Q(is_reversal=False),
                name="disbursement_once_per_program_period_in_batch",
            ),
            models.CheckConstraint(
                condition=Q(amount__gte=0) | Q(is_reversal=True),
                name="disbursement_amount_not_negative_unless_reversal",
            ),
            models.CheckConstraint(
                condition=Q(is_reversal=False) | Q(corrects__isnull=False),
                name="disbursement_reversal_points_at_corrected_row",
            ),
            models.CheckConstraint(
                condition=Q(corrects__isnull=True) | Q(origin_row__isnull=False),
                name="disbursement_correction_names_its_origin",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name_masked} {self.program_id} {self.period} {self.amount}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        # A row made one at a time without its roster's name (the admin cannot; code and tests
        # may) takes its person's, as migration 0015 did for the rows before it. Imports and
        # corrections write the names themselves, in bulk.
        if not self.name_hash and self.person_id is not None:
            self.name_masked, self.name_hash = self.person.name_masked, self.person.name_hash
        super().save(*args, **kwargs)


class ImportStatus(models.TextChoices):
    """Where an import stands: one vocabulary for the job row and the import report."""

    PENDING = "pending", _("排队中")
    PARSING = "parsing", _("解析中")
    CHECKED = "checked", _("检查通过（未写入）")  # a dry run: nothing is ever written
    NEEDS_MAPPING = "needs_mapping", _("待指定列")  # the upload is kept until staff map it
    READY = "ready", _("待确认")
    REJECTED = "rejected", _("未通过校验")
    IMPORTING = "importing", _("导入中")
    IMPORTED = "imported", _("已导入")
    DUPLICATE = "duplicate", _("重复文件")
    FAILED = "failed", _("出错")
    ABANDONED = "abandoned", _("已放弃")  # left waiting for mapping; the upload is deleted


class ImportJob(models.Model):
    """An uploaded roster on its way in: parse → validate → preview → confirm."""

    Status = ImportStatus

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    program = models.ForeignKey(
        Program, on_delete=models.PROTECT, related_name="+", verbose_name=_("项目")
    )
    period = models.CharField(_("发放期间"), max_length=7)
    township_name = models.CharField(_("乡镇"), max_length=100, blank=True)
    publish = models.BooleanField(_("导入后发布"), default=False)
    file = models.FileField(_("文件"), upload_to="imports/%Y/%m/")
    original_name = models.CharField(_("原文件名"), max_length=255)
    sha256 = models.CharField(_("SHA-256"), max_length=64, db_index=True)
    status = models.CharField(
        _("状态"), max_length=20, choices=Status.choices, default=Status.PENDING
    )
    progress = models.PositiveSmallIntegerField(_("进度（%）"), default=0)
    message = models.CharField(_("当前步骤"), max_length=200, blank=True)
    report = models.JSONField(_("校验报告"), default=dict, blank=True)
    mapping = models.JSONField(
        _("指定的列"), default=dict, blank=True, help_text=_("工作人员指定的列：表头 → 字段")
    )
    staged = models.FileField(_("暂存数据"), upload_to="staged/", blank=True)
    batch = models.ForeignKey(
        Batch,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("批次"),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("上传人"),
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("导入任务")
        verbose_name_plural = _("导入任务")

    def __str__(self) -> str:
        return f"{self.original_name} ({self.get_status_display()})"


class MappingTemplateQuerySet(models.QuerySet["MappingTemplate"]):
    def for_signature(self, signature: str, *, program: Program) -> MappingTemplate | None:
        """Return the template for a header signature: the program's own, else one for all."""
        found = self.filter(Q(program=program) | Q(program__isnull=True), signature=signature)
        # The program's own template first: NULL sorts last ascending on SQLite, first on
        # PostgreSQL, so order on "has no program" instead.
        return found.order_by(models.F("program").desc(nulls_last=True)).first()

    def remember(
        self, *, name: str, program: Program | None, signature: str, mapping: dict, user=None
    ) -> MappingTemplate:
        """Save MAPPING as the template for PROGRAM and SIGNATURE, named NAME; update it if any.

        Raise ValidationError when NAME belongs to another template, or the mapping is unsound.
        """
        template = self.filter(program=program, signature=signature).first()
        if template is None:
            creator = user if getattr(user, "pk", None) else None
            template = MappingTemplate(program=program, signature=signature, created_by=creator)
        template.name, template.mapping = name, dict(mapping)
        template.full_clean()
        template.save()
        return template


class MappingTemplate(models.Model):
    """A column mapping staff chose for one header layout, applied to the next roster like it.

    The reader finds a template by its sheet's header signature (a digest of the header labels,
    ``parsed.ParsedRoster.signature``): the program's own template, else one for any program.
    """

    name = models.CharField(_("模板名称"), max_length=100, unique=True)
    program = models.ForeignKey(
        Program,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="mapping_templates",
        verbose_name=_("项目"),
        help_text=_("留空则适用于所有项目"),
    )
    signature = models.CharField(_("表头特征"), max_length=64, db_index=True)
    mapping = models.JSONField(_("列对应关系"), default=dict, help_text=_("表头 → 字段"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("创建人"),
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    objects = MappingTemplateQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name = _("列对应模板")
        verbose_name_plural = _("列对应模板")
        constraints = [
            models.UniqueConstraint(
                fields=["program", "signature"], name="mapping_template_once_per_program"
            ),
            # NULLs are distinct in a unique constraint: one program-less template per header
            # needs a constraint of its own.
            models.UniqueConstraint(
                fields=["signature"],
                condition=Q(program__isnull=True),
                name="mapping_template_once_for_any_program",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        problems = stored_mapping_problems(self.mapping)
        if problems:
            raise ValidationError({"mapping": problems})


class PaymentState(models.TextChoices):
    """Where one payment stands now: the one vocabulary of pages, API and exports."""

    PAID = "paid", _("已发放")
    FAILED = "failed", _("发放失败")
    RESENT = "resent", _("已重发")
    STOPPED = "stopped", _("停发")


class PaymentReturn(models.Model):
    """A bank return file (回盘文件) imported against a published batch: imported once."""

    batch = models.ForeignKey(
        Batch, on_delete=models.PROTECT, related_name="payment_returns", verbose_name=_("批次")
    )
    original_name = models.CharField(_("原文件名"), max_length=255)
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    line_count = models.PositiveIntegerField(_("行数"), default=0)
    failed_count = models.PositiveIntegerField(_("失败笔数"), default=0)
    resent_count = models.PositiveIntegerField(_("重发笔数"), default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("导入人"),
    )
    created_at = models.DateTimeField(_("导入时间"), auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("银行回盘文件")
        verbose_name_plural = _("银行回盘文件")
        constraints = [
            models.UniqueConstraint(fields=["batch", "sha256"], name="payment_return_once"),
        ]

    def __str__(self) -> str:
        return self.original_name


class PaymentResultQuerySet(models.QuerySet["PaymentResult"]):
    def in_order(self) -> PaymentResultQuerySet:
        """Oldest first: the last one is a row's current state."""
        return self.order_by("result_date", "id")

    def histories(self, row_ids: Iterable[int]) -> dict[int, list[PaymentResult]]:
        """Map each of ROW_IDS that has results to them, oldest first, in one query."""
        found: dict[int, list[PaymentResult]] = {}
        for result in self.filter(disbursement_id__in=list(row_ids)).in_order():
            found.setdefault(result.disbursement_id, []).append(result)
        return found

    def public_histories(self, row_ids: Iterable[int]) -> dict[int, list[dict[str, Any]]]:
        """Map each of ROW_IDS to its history as public pages and the API show it.

        Date, kind and reason only: the scrubbed free-text note stays on staff pages.
        """
        kinds, reasons = dict(PaymentResult.Kind.choices), dict(PaymentResult.Reason.choices)
        return {
            pk: [
                {
                    "date": r.result_date,
                    "kind": r.kind,
                    "kind_label": str(kinds[r.kind]),
                    "reason": r.reason,
                    "reason_label": str(reasons[r.reason]) if r.reason else "",
                    "amount": r.amount,
                }
                for r in history
            ]
            for pk, history in self.histories(row_ids).items()
        }

    def amounts_by(
        self, rows: QuerySet[Disbursement], *, key: str, totals: Mapping[Any, Decimal]
    ) -> dict[Any, dict[str, Decimal]]:
        """Return paid, failed and re-sent amounts of ROWS per group, in two queries.

        KEY is the Disbursement lookup rows are grouped on ("batch_id", "village_id" …) and
        TOTALS each group's sum of amounts; groups not in TOTALS are left out.
        """
        zero = Decimal("0.00")
        rows = rows.order_by()
        failed = {group: zero for group in totals}
        resent = dict(failed)
        marked = rows.filter(status=Disbursement.Status.FAILED).values_list(key)
        for group, amount in marked.annotate(sum=models.Sum("amount")):
            if group in failed:
                failed[group] += amount
        latest: dict[int, tuple[Any, str, str, Decimal]] = {}
        found = self.filter(disbursement__in=rows.values("pk")).in_order()
        for group, pk, status, kind, amount in found.values_list(
            f"disbursement__{key}", "disbursement_id", "disbursement__status", "kind", "amount"
        ):
            latest[pk] = (group, status, kind, amount)
        for group, status, kind, amount in latest.values():
            if group not in failed:
                continue
            if status == Disbursement.Status.FAILED:
                failed[group] -= amount
            if kind == PaymentResult.Kind.FAILED:
                failed[group] += amount
            else:
                resent[group] += amount
        return {
            group: {
                "paid_amount": total - failed[group],
                "failed_amount": failed[group],
                "resent_amount": resent[group],
            }
            for group, total in totals.items()
        }

    def latest_kinds(self, rows: QuerySet[Disbursement]) -> dict[int, str]:
        """Map each of ROWS that has results to its latest result's kind, in one query."""
        found = self.filter(disbursement__in=rows.order_by().values("pk")).in_order()
        return dict(found.values_list("disbursement_id", "kind"))

    def amounts(
        self, rows: QuerySet[Disbursement], *, total: Decimal, failed_in_roster: Decimal
    ) -> dict[str, Decimal]:
        """Return paid, failed and re-sent amounts of ROWS, from their results in one query.

        TOTAL and FAILED_IN_ROSTER are the rows' sum and the sum of rows a roster already
        marked failed (one aggregate the caller runs anyway). A row counts by its current
        state; paid is what was not failed, re-sends included.
        """
        latest: dict[int, tuple[str, str, Decimal]] = {}
        found = self.filter(disbursement__in=rows.order_by().values("pk")).in_order()
        for pk, status, kind, amount in found.values_list(
            "disbursement_id", "disbursement__status", "kind", "amount"
        ):
            latest[pk] = (status, kind, amount)
        failed, resent = failed_in_roster or Decimal("0.00"), Decimal("0.00")
        for status, kind, amount in latest.values():
            if status == Disbursement.Status.FAILED:
                failed -= amount
            if kind == PaymentResult.Kind.FAILED:
                failed += amount
            else:
                resent += amount
        return {"paid_amount": total - failed, "failed_amount": failed, "resent_amount": resent}


class PaymentResult(models.Model):
    """What a bank said of one payment: it failed, or it was re-sent and paid.

    Entries are only ever added: a disbursement row is never edited, and its current state
    is its latest entry (by result date, then order of import), else the row's own status.
    """

    class Kind(models.TextChoices):
        FAILED = "failed", _("发放失败")
        RESENT = "resent", _("已重发")

    class Reason(models.TextChoices):
        ACCOUNT_CLOSED = "account_closed", _("账户已销户")
        NAME_MISMATCH = "name_mismatch", _("户名不符")
        ACCOUNT_FROZEN = "account_frozen", _("账户冻结")
        INVALID_ACCOUNT = "invalid_account", _("账号有误")
        OTHER = "other", _("其他")

    disbursement = models.ForeignKey(
        Disbursement,
        on_delete=models.PROTECT,
        related_name="payment_results",
        verbose_name=_("发放记录"),
    )
    batch = models.ForeignKey(
        Batch, on_delete=models.PROTECT, related_name="payment_results", verbose_name=_("批次")
    )
    payment_return = models.ForeignKey(
        PaymentReturn,
        on_delete=models.PROTECT,
        related_name="results",
        verbose_name=_("回盘文件"),
    )
    kind = models.CharField(_("结果"), max_length=10, choices=Kind.choices)
    amount = models.DecimalField(_("金额"), **MONEY)
    result_date = models.DateField(_("结果日期"))
    reason = models.CharField(_("失败原因"), max_length=20, choices=Reason.choices, blank=True)
    note = models.CharField(_("说明（已脱敏）"), max_length=200, blank=True)
    source_sheet = models.CharField(_("来源工作表"), max_length=100, blank=True)
    source_row = models.PositiveIntegerField(_("来源行号"), null=True, blank=True)
    created_at = models.DateTimeField(_("导入时间"), auto_now_add=True)

    objects = PaymentResultQuerySet.as_manager()

    class Meta:
        ordering = ["result_date", "id"]
        verbose_name = _("发放结果")
        verbose_name_plural = _("发放结果")
        indexes = [models.Index(fields=["disbursement", "result_date"])]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gte=0), name="payment_result_amount"),
            models.CheckConstraint(
                condition=Q(kind="failed") | Q(reason=""), name="payment_result_reason_on_failure"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.disbursement_id} {self.get_kind_display()} {self.result_date}"

    @property
    def reason_label(self) -> str:
        return self.get_reason_display() if self.reason else ""


def current_state(row_status: str, history: Sequence[PaymentResult | dict] | None) -> str:
    """Return a payment's state: its latest result, else what its roster said."""
    if history:
        last = history[-1]
        return last["kind"] if isinstance(last, dict) else last.kind
    return row_status


class AuditEntry(models.Model):
    """One staff act, appended once and never changed: who did what, when, where and why.

    The database refuses UPDATE and DELETE of these rows (triggers, migration 0010). Foreign
    keys carry no database constraint and DO_NOTHING on delete, so an entry outlives the user,
    batch or township it names without ever being touched. ``reason`` is scrubbed and
    ``details`` holds ids and counts only: no personal data. Write through ``funds.audit.record``.
    """

    class Kind(models.TextChoices):
        UPLOAD = "upload", _("上传花名册")
        CONFIRM = "confirm", _("确认导入")
        PUBLISH = "publish", _("发布")
        WITHDRAW = "withdraw", _("撤回")
        FINALISE = "finalise", _("定稿")
        CORRECT = "correct", _("更正")
        ANSWER_OBJECTION = "answer_objection", _("答复异议")
        MAPPING_TEMPLATE_CREATE = "mapping_template_create", _("新建列对应模板")
        MAPPING_TEMPLATE_CHANGE = "mapping_template_change", _("修改列对应模板")
        MAPPING_TEMPLATE_DELETE = "mapping_template_delete", _("删除列对应模板")
        TOKEN_ISSUE = "token_issue", _("签发审计令牌")
        TOKEN_REVOKE = "token_revoke", _("吊销审计令牌")
        PAYMENT_RESULTS = "payment_results", _("导入发放结果")
        MAINTENANCE = "maintenance", _("维护命令")
        OVERRIDE = "override", _("越权处理")
        REDFLAG_REVIEW = "redflag_review", _("复核红旗")

    at = models.DateTimeField(_("时间"), default=timezone.now, db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("操作人"),
    )
    username = models.CharField(_("操作人用户名"), max_length=150, blank=True)
    kind = models.CharField(_("操作"), max_length=40, choices=Kind.choices)
    township = models.ForeignKey(
        Township,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("乡镇"),
    )
    batch = models.ForeignKey(
        Batch,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        blank=True,
        related_name="audit_entries",
        verbose_name=_("批次"),
    )
    object_type = models.CharField(_("对象类型"), max_length=100, blank=True)
    object_id = models.CharField(_("对象编号"), max_length=64, blank=True)
    reason = models.TextField(_("原因（已脱敏）"), blank=True)
    details = models.JSONField(_("详情"), default=dict, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("操作记录")
        verbose_name_plural = _("操作记录")
        indexes = [
            models.Index(fields=["batch", "at"], name="audit_batch_at"),
            models.Index(fields=["township", "at"], name="audit_township_at"),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.username} {self.get_kind_display()}"
