"""Read-only representations; persons appear only by masked values, never by hash."""

from __future__ import annotations

import decimal

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from api.models import AUDIT_KINDS, RedFlagReview
from api.parameters import WholeNumberField
from api.reviews import NOTE_MAX
from api.selectors import Change, Role
from funds.models import AuditEntry, Batch, Disbursement, PaymentResult, PaymentState, Program
from villages.models import Household, Person, Township, Village

CENT = decimal.Decimal("0.01")


class ProgramSerializer(serializers.ModelSerializer):
    class Meta:
        model = Program
        fields = [
            "id",
            "name",
            "slug",
            "category",
            "funding_level",
            "year",
            "rate",
            "unit",
            "cap",
            "min_age",
            "max_age",
            "department",
            "policy_basis",
            "application_guide",
            "complaints_channel",
        ]
        extra_kwargs = {
            "id": {"help_text": _("项目 id。")},
            "name": {"help_text": _("项目名称。")},
            "slug": {"help_text": _("项目标识。")},
            "category": {"help_text": _("类别。")},
            "funding_level": {"help_text": _("资金级次。")},
            "year": {"help_text": _("年度。")},
            "rate": {"help_text": _("补贴标准（元，按计量单位）。")},
            "unit": {"help_text": _("计量单位，如 亩、人·月。")},
            "cap": {"help_text": _("单笔上限（元）。")},
            "min_age": {"help_text": _("享受人最低年龄。")},
            "max_age": {"help_text": _("享受人最高年龄。")},
            "department": {"help_text": _("主管部门。")},
            "policy_basis": {"help_text": _("政策依据。")},
            "application_guide": {"help_text": _("申领指南。")},
            "complaints_channel": {"help_text": _("投诉渠道。")},
        }


class TownshipSerializer(serializers.ModelSerializer):
    class Meta:
        model = Township
        fields = ["id", "name", "code", "county"]
        extra_kwargs = {
            "id": {"help_text": _("乡镇 id。")},
            "name": {"help_text": _("乡镇名称。")},
            "code": {"help_text": _("区划代码。")},
            "county": {"help_text": _("所属县（市、区）。")},
        }


class VillageSerializer(serializers.ModelSerializer):
    class Meta:
        model = Village
        fields = ["id", "name", "code", "township"]
        extra_kwargs = {
            "id": {"help_text": _("村（社区）id。")},
            "name": {"help_text": _("村（社区）名称。")},
            "code": {"help_text": _("区划代码。")},
            "township": {"help_text": _("所属乡镇 id。")},
        }


class HouseholdSerializer(serializers.ModelSerializer):
    head_name_masked = serializers.CharField(
        source="head.name_masked",
        allow_null=True,
        default=None,
        read_only=True,
        help_text=_("户主姓名（脱敏）。"),
    )

    class Meta:
        model = Household
        fields = ["id", "village", "group", "head", "head_name_masked"]
        extra_kwargs = {
            "id": {"help_text": _("农户 id。")},
            "village": {"help_text": _("所属村 id。")},
            "group": {"help_text": _("村民小组。")},
            "head": {"help_text": _("户主的人员 id。")},
        }


class PersonSerializer(serializers.ModelSerializer):
    """A person by masked values only: no birth year, age or sex, for auditors either.

    Beside the masked ID and the public county code, a birth year and a sex leave a few dozen
    ID numbers to try (docs/privacy.md); the stored values serve eligibility checks only.
    """

    relation = serializers.CharField(
        source="relation_to_head", read_only=True, help_text=_("与户主关系。")
    )

    class Meta:
        model = Person
        fields = ["id", "name_masked", "id_masked", "relation", "household"]
        extra_kwargs = {
            "id": {"help_text": _("人员 id。")},
            "name_masked": {"help_text": _("姓名（脱敏）。")},
            "id_masked": {"help_text": _("身份证号（脱敏）。")},
            "household": {"help_text": _("所属农户 id。")},
        }


MONEY_TEXT = {"max_digits": 20, "decimal_places": 2, "read_only": True}


class BatchSerializer(serializers.ModelSerializer):
    paid_amount = serializers.DecimalField(
        source="payment_amounts.paid_amount", **MONEY_TEXT,
        help_text=_("已发放金额（元）：合计减去当前发放失败的金额，含重发成功的。"),
    )  # fmt: skip
    failed_amount = serializers.DecimalField(
        source="payment_amounts.failed_amount", **MONEY_TEXT,
        help_text=_("当前发放失败的金额（元）：银行退回且尚未重发成功的。"),
    )  # fmt: skip
    resent_amount = serializers.DecimalField(
        source="payment_amounts.resent_amount", **MONEY_TEXT,
        help_text=_("失败后重发成功的金额（元），已计入已发放金额。"),
    )  # fmt: skip

    class Meta:
        model = Batch
        fields = [
            "id",
            "program",
            "period",
            "year",
            "township",
            "title",
            "source_sha256",
            "status",
            "publicity_start",
            "publicity_end",
            "published_at",
            "corrects",
            "row_count",
            "household_count",
            "person_count",
            "total_amount",
            "paid_amount",
            "failed_amount",
            "resent_amount",
        ]
        extra_kwargs = {
            "id": {"help_text": _("批次 id。")},
            "program": {"help_text": _("项目 id。")},
            "period": {"help_text": _("发放期间 YYYY-MM。")},
            "year": {"help_text": _("年度。")},
            "township": {"help_text": _("乡镇 id。")},
            "title": {"help_text": _("标题。")},
            "source_sha256": {"help_text": _("源文件的 SHA-256，可与手中的花名册核对。")},
            "status": {
                "help_text": _("状态：publicity 公示中、final 已定稿（审计员还可见其他状态）。")
            },
            "publicity_start": {"help_text": _("公示开始日期。")},
            "publicity_end": {"help_text": _("公示结束日期。")},
            "published_at": {"help_text": _("发布时间。")},
            "corrects": {"help_text": _("本批次所更正的批次 id。")},
            "row_count": {"help_text": _("行数。")},
            "household_count": {"help_text": _("户数。")},
            "person_count": {"help_text": _("人数。")},
            "total_amount": {"help_text": _("合计金额（元，两位小数的字符串）。")},
        }


DISBURSEMENT_FIELDS = [
    "id",
    "batch",
    "program",
    "period",
    "village",
    "household",
    "person",
    "person_name_masked",
    "person_id_masked",
    "payee",
    "quantity",
    "rate",
    "amount",
    "pay_date",
    "account_masked",
    "status",
    "is_reversal",
    "corrects",
    "payment_state",
    "payment_history",
]
# Columns a disbursement's representation reads, fetched with values(): hashes and notes
# are never read, and no model instance is built per row. The name is the row's own, as its
# roster wrote it; the person's masked ID number is added per page (api.selectors.with_persons),
# after the sort and limit.
DISBURSEMENT_VALUES = [
    "id",
    "name_masked",
    "batch_id",
    "program_id",
    "period",
    "village_id",
    "household_id",
    "person_id",
    "payee_id",
    "quantity",
    "rate",
    "amount",
    "pay_date",
    "account_masked",
    "status",
    "is_reversal",
    "corrects_id",
]


class PaymentHistorySerializer(serializers.Serializer):
    date = serializers.DateField(help_text=_("银行回盘的结果日期。"))
    kind = serializers.ChoiceField(
        choices=PaymentResult.Kind.choices, help_text=_("结果：failed 发放失败、resent 已重发。")
    )
    reason = serializers.ChoiceField(
        choices=[("", ""), *PaymentResult.Reason.choices],
        help_text=_(
            "失败原因：account_closed 账户已销户、name_mismatch 户名不符、account_frozen 账户冻结、"
            "invalid_account 账号有误、other 其他；重发时为空。"
        ),
    )
    reason_label = serializers.CharField(help_text=_("失败原因的文字。"))
    amount = serializers.DecimalField(
        max_digits=14, decimal_places=2, help_text=_("金额（元，两位小数的字符串）。")
    )


class DisbursementSerializer(serializers.ModelSerializer):
    payment_state = serializers.ChoiceField(
        choices=PaymentState.choices,
        read_only=True,
        help_text=_(
            "当前发放状态：paid 已发放、failed 发放失败、resent 已重发、stopped 停发；"
            "有银行回盘结果时取最近一条，否则为花名册所列状态。"
        ),
    )
    payment_history = PaymentHistorySerializer(
        many=True, read_only=True, help_text=_("银行回盘的发放结果，按日期从早到晚。")
    )
    person_name_masked = serializers.CharField(
        source="name_masked",
        read_only=True,
        help_text=_("享受人姓名（脱敏），按本行所在花名册的写法。"),
    )
    person_id_masked = serializers.CharField(
        source="person.id_masked", read_only=True, help_text=_("享受人身份证号（脱敏）。")
    )

    class Meta:
        model = Disbursement
        fields = DISBURSEMENT_FIELDS
        extra_kwargs = {
            "id": {"help_text": _("发放记录 id。")},
            "batch": {"help_text": _("批次 id。")},
            "program": {"help_text": _("项目 id。")},
            "period": {"help_text": _("发放期间 YYYY-MM。")},
            "village": {"help_text": _("村 id。")},
            "household": {"help_text": _("农户 id。")},
            "person": {"help_text": _("享受人 id。")},
            "payee": {"help_text": _("收款人 id（与享受人不同时）。")},
            "quantity": {"help_text": _("数量（如面积、人数·月数）。")},
            "rate": {"help_text": _("标准（元/单位）。")},
            "amount": {"help_text": _("金额（元，两位小数的字符串）。")},
            "pay_date": {"help_text": _("发放日期。")},
            "account_masked": {"help_text": _("收款账号（脱敏）。")},
            "status": {"help_text": _("发放状态。")},
            "is_reversal": {"help_text": _("是否冲销行（更正时的负数行）。")},
            "corrects": {"help_text": _("所更正的发放记录 id。")},
        }

    def to_representation(self, row: dict) -> dict:
        # Same output as the declared fields, written out from a values() row: the generic
        # field machinery and model instances cost most of a 100-row page's time.
        quantity, rate, pay_date = row["quantity"], row["rate"], row["pay_date"]
        return {
            "id": row["id"],
            "batch": row["batch_id"],
            "program": row["program_id"],
            "period": row["period"],
            "village": row["village_id"],
            "household": row["household_id"],
            "person": row["person_id"],
            "person_name_masked": row["person_name_masked"],
            "person_id_masked": row["person_id_masked"],
            "payee": row["payee_id"],
            "quantity": None if quantity is None else f"{quantity:.4f}",
            "rate": None if rate is None else f"{rate:.4f}",
            "amount": f"{row['amount']:.2f}",
            "pay_date": None if pay_date is None else pay_date.isoformat(),
            "account_masked": row["account_masked"],
            "status": row["status"],
            "is_reversal": row["is_reversal"],
            "corrects": row["corrects_id"],
            "payment_state": row["payment_state"],
            "payment_history": [
                {
                    "date": h["date"].isoformat(),
                    "kind": h["kind"],
                    "reason": h["reason"],
                    "reason_label": h["reason_label"],
                    "amount": f"{h['amount']:.2f}",
                }
                for h in row["payment_history"]
            ],
        }


@extend_schema_field(
    {
        "oneOf": [{"type": "integer"}, {"type": "string"}],
        "description": "分组的 id；按期间汇总时为期间字符串 YYYY-MM。",
    }
)
class GroupIdField(serializers.Field):
    def to_representation(self, value):
        return value


class SummaryRowSerializer(serializers.Serializer):
    id = GroupIdField(help_text=_("分组的 id；按期间汇总时为期间字符串 YYYY-MM。"))
    name = serializers.CharField(
        allow_null=True, help_text=_("分组名称；按农户汇总时为户主姓名（脱敏）。")
    )
    total = serializers.DecimalField(
        max_digits=20, decimal_places=2, help_text=_("合计金额（元，两位小数的字符串）。")
    )
    count = serializers.IntegerField(help_text=_("发放记录条数。"))
    paid_amount = serializers.DecimalField(
        max_digits=20, decimal_places=2,
        help_text=_("已发放金额（元）：合计减去当前发放失败的金额，含重发成功的。"),
    )  # fmt: skip
    failed_amount = serializers.DecimalField(
        max_digits=20, decimal_places=2,
        help_text=_("当前发放失败的金额（元）：银行退回且尚未重发成功的。"),
    )  # fmt: skip
    resent_amount = serializers.DecimalField(
        max_digits=20, decimal_places=2,
        help_text=_("失败后重发成功的金额（元），已计入已发放金额。"),
    )  # fmt: skip
    reversed_amount = serializers.DecimalField(
        max_digits=20, decimal_places=2,
        help_text=_("更正冲销的金额（元，负数），已计入合计：合计 = 原发放 + 冲销 + 更正后金额。"),
    )  # fmt: skip


class RuleValueField(serializers.DecimalField):
    """A red-flag rule's value: yuan to the cent, or whole years for an age rule (an int)."""

    def __init__(self, **kwargs):
        super().__init__(max_digits=None, decimal_places=None, allow_null=True, **kwargs)

    def to_representation(self, value):
        if isinstance(value, int):
            return str(value)
        return format(decimal.Decimal(value).quantize(CENT), "f")


class RedFlagCountSerializer(serializers.Serializer):
    kind = serializers.CharField(help_text=_("红旗类型，用于 /api/v1/redflags/<kind>/。"))
    title = serializers.CharField(help_text=_("说明。"))
    rows = serializers.IntegerField(help_text=_("涉及的发放记录条数。"))
    url = serializers.URLField(help_text=_("明细链接。"))


class RedFlagRowSerializer(serializers.Serializer):
    group = serializers.CharField(
        help_text=_("同一问题的分组键，含义随红旗类型而定（见 docs/api.md），同组的行排在一起。")
    )
    id = serializers.IntegerField(help_text=_("发放记录 id。"))
    batch = serializers.IntegerField(source="batch_id", help_text=_("批次 id。"))
    program = serializers.IntegerField(source="program_id", help_text=_("项目 id。"))
    period = serializers.CharField(help_text=_("发放期间 YYYY-MM。"))
    village = serializers.IntegerField(source="village_id", help_text=_("村 id。"))
    village_name = serializers.CharField(source="village.name", help_text=_("村名称。"))
    household = serializers.IntegerField(source="household_id", help_text=_("农户 id。"))
    person = serializers.IntegerField(source="person_id", help_text=_("享受人 id。"))
    person_name_masked = serializers.CharField(
        source="name_masked", help_text=_("享受人姓名（脱敏），按本行所在花名册的写法。")
    )
    person_id_masked = serializers.CharField(
        source="person.id_masked", help_text=_("享受人身份证号（脱敏）。")
    )
    account_masked = serializers.CharField(help_text=_("收款账号（脱敏）。"))
    quantity = serializers.DecimalField(
        max_digits=14, decimal_places=4, allow_null=True, help_text=_("数量。")
    )
    rate = serializers.DecimalField(
        max_digits=14, decimal_places=4, allow_null=True, help_text=_("标准。")
    )
    amount = serializers.DecimalField(
        max_digits=14, decimal_places=2, help_text=_("金额（元，两位小数的字符串）。")
    )
    status = serializers.CharField(help_text=_("发放状态。"))
    rule = serializers.CharField(
        help_text=_(
            "触发的规则：rate_times_quantity、rate_per_person、cap、quantity_times_rate、"
            "min_age、max_age，或行与行比较的红旗类型本身。"
        )
    )
    expected = RuleValueField(
        help_text=_("规则允许的值：金额规则为元（两位小数），年龄规则为岁；行间比较为空。")
    )
    gap = RuleValueField(help_text=_("实际值减允许值（元或岁）；行间比较为空。"))
    case = serializers.CharField(
        help_text=_(
            "案件编号：由红旗类型与构成案件的 id 算出的 SHA-256 前 16 位十六进制，"
            "不随请求和此后的导入改变；用于 /api/v1/redflags/<kind>/<case>/reviews/。"
        )
    )
    reviewed = serializers.SerializerMethodField(help_text=_("案件是否已有审计员复核。"))
    last_review_at = serializers.DateTimeField(
        allow_null=True, help_text=_("最近一次复核的时间；未复核为 null。")
    )
    last_review_by = serializers.CharField(
        allow_null=True, help_text=_("最近一次复核的审计员用户名；未复核为 null。")
    )

    def get_reviewed(self, row) -> bool:
        return row.last_review_at is not None


class RedFlagIndexSerializer(serializers.Serializer):
    results = RedFlagCountSerializer(many=True, help_text=_("每类红旗一项。"))


@extend_schema_field(
    {
        "type": "string",
        "minLength": 1,
        "maxLength": NOTE_MAX,
        # Something besides white space, and no NUL character (refused, as PostgreSQL would).
        "pattern": r"^[^\x00]*[^\s\x00][^\x00]*$",
    }
)
class NoteField(serializers.CharField):
    pass


class RedFlagReviewNoteSerializer(serializers.Serializer):
    note = NoteField(
        max_length=NOTE_MAX,
        help_text=_(
            "复核说明，必填，最多 1000 字；保存前隐去身份证号、电话、账号一类的号码，"
            "已知人员的姓名脱敏。"
        ),
    )


class RedFlagReviewSerializer(serializers.ModelSerializer):
    class Meta:
        model = RedFlagReview
        fields = ["id", "kind", "case", "at", "username", "note"]
        extra_kwargs = {
            "id": {"help_text": _("复核 id。")},
            "kind": {"help_text": _("红旗类型。")},
            "case": {"help_text": _("案件编号。")},
            "at": {"help_text": _("复核时间。")},
            "username": {"help_text": _("审计员用户名。")},
            "note": {"help_text": _("复核说明（已脱敏）。")},
        }


class AuditEntrySerializer(serializers.ModelSerializer):
    kind = serializers.ChoiceField(
        choices=list(AUDIT_KINDS.items()), read_only=True, help_text=_("操作类型。")
    )
    kind_display = serializers.SerializerMethodField(help_text=_("操作类型的名称。"))

    def get_kind_display(self, entry: AuditEntry) -> str:
        return str(AUDIT_KINDS.get(entry.kind, entry.kind))

    class Meta:
        model = AuditEntry
        fields = [
            "id", "at", "username", "kind", "kind_display", "township", "batch",
            "object_type", "object_id", "reason", "details",
        ]  # fmt: skip
        extra_kwargs = {
            "id": {"help_text": _("记录 id，按写入顺序递增。")},
            "at": {"help_text": _("操作时间。")},
            "username": {"help_text": _("操作人用户名；系统操作为空。")},
            "township": {"help_text": _("乡镇 id。")},
            "batch": {"help_text": _("批次 id。")},
            "object_type": {"help_text": _("所操作对象的类型，如 funds.ImportJob。")},
            "object_id": {"help_text": _("所操作对象的 id。")},
            "reason": {"help_text": _("原因（已隐去身份证号、电话、账号）。")},
            "details": {"help_text": _("详情：编号与数量，不含个人信息。")},
        }


# The transparency log (docs/verify.md): proofs as RFC 9162 gives them, hashes in base64.


class LogProofQuerySerializer(serializers.Serializer):
    tree_size = WholeNumberField(
        min_value=1,
        required=False,
        help_text=_("对照这个树大小的已签名检查点证明（默认最新检查点）。"),
    )


class LogProofSerializer(serializers.Serializer):
    leaf = serializers.CharField(help_text=_("叶子：被哈希的规范 JSON 原文（UTF-8）。"))
    leaf_index = serializers.IntegerField(help_text=_("叶子在日志中的序号（从 0 起）。"))
    tree_size = serializers.IntegerField(help_text=_("证明所对照的已签名检查点的树大小。"))
    leaf_hash = serializers.CharField(help_text=_("叶子哈希 SHA-256(0x00 ‖ leaf)，base64。"))
    root = serializers.CharField(help_text=_("该检查点签名的根哈希，base64。"))
    proof = serializers.ListField(
        child=serializers.CharField(), help_text=_("审计路径（RFC 9162 §2.1.3），base64。")
    )


class LogConsistencyQuerySerializer(serializers.Serializer):
    first = WholeNumberField(min_value=1, help_text=_("较早的已签名树大小。"))
    second = WholeNumberField(min_value=1, help_text=_("较晚的已签名树大小。"))


class LogConsistencySerializer(serializers.Serializer):
    first = serializers.IntegerField(help_text=_("较早的树大小。"))
    second = serializers.IntegerField(help_text=_("较晚的树大小。"))
    first_root = serializers.CharField(help_text=_("较早检查点签名的根哈希，base64。"))
    second_root = serializers.CharField(help_text=_("较晚检查点签名的根哈希，base64。"))
    proof = serializers.ListField(
        child=serializers.CharField(), help_text=_("一致性证明（RFC 9162 §2.1.4），base64。")
    )


class BulkScopeSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=["year", "township"], help_text=_("按年度或按乡镇。"))
    value = serializers.IntegerField(help_text=_("年份，或乡镇 id。"))
    label = serializers.CharField(help_text=_("年份，或乡镇名称。"))


class BulkFileSerializer(serializers.Serializer):
    name = serializers.CharField(help_text=_("文件名。"))
    scope = BulkScopeSerializer(help_text=_("文件的范围。"))
    format = serializers.ChoiceField(choices=["csv", "parquet"], help_text=_("格式。"))
    content_type = serializers.CharField(help_text=_("下载时的 Content-Type。"))
    rows = serializers.IntegerField(help_text=_("数据行数（不含表头）。"))
    bytes = serializers.IntegerField(help_text=_("文件大小（字节）。"))
    sha256 = serializers.CharField(help_text=_("文件的 SHA-256（十六进制）。"))
    generated_at = serializers.DateTimeField(help_text=_("生成时间。"))
    url = serializers.URLField(help_text=_("下载地址。"))


class BulkStateSerializer(serializers.Serializer):
    as_of = serializers.DateTimeField(help_text=_("文件反映的时刻：此前发布、现在仍公开的批次。"))
    tree_size = serializers.IntegerField(help_text=_("当时透明日志的树大小。"))
    latest_publication = serializers.DateTimeField(
        allow_null=True, help_text=_("最近一次发布的时间。")
    )
    public_batches = serializers.IntegerField(help_text=_("已公开的批次数。"))


class BulkColumnSerializer(serializers.Serializer):
    name = serializers.CharField(help_text=_("列名。"))
    type = serializers.CharField(help_text=_("类型（Arrow / Parquet）。"))
    meaning_zh = serializers.CharField(help_text=_("含义（中文）。"))
    meaning_en = serializers.CharField(help_text=_("含义（英文）。"))
    masking_zh = serializers.CharField(help_text=_("脱敏说明（中文），不脱敏的列为空。"))
    masking_en = serializers.CharField(help_text=_("脱敏说明（英文），不脱敏的列为空。"))


class BulkManifestSerializer(serializers.Serializer):
    generation = serializers.CharField(allow_null=True, help_text=_("本次生成的编号。"))
    generated_at = serializers.DateTimeField(allow_null=True, help_text=_("生成时间。"))
    state = BulkStateSerializer(
        allow_null=True, help_text=_("文件反映的公开状态；尚未生成时为空。")
    )
    files = BulkFileSerializer(many=True, help_text=_("各文件。"))
    dictionary = BulkColumnSerializer(many=True, help_text=_("数据字典：各列。"))


class ExportJobStartSerializer(serializers.Serializer):
    id = serializers.UUIDField(help_text=_("导出任务的 id。"))
    status = serializers.CharField(help_text=_("queued：已排队。"))
    rows = serializers.IntegerField(help_text=_("请求时符合条件的行数。"))
    url = serializers.URLField(help_text=_("任务状态的地址（同 Location 响应头）。"))


class ExportJobSerializer(serializers.Serializer):
    id = serializers.UUIDField(help_text=_("导出任务的 id。"))
    status = serializers.ChoiceField(
        choices=["queued", "running", "done", "failed"],
        help_text=_("queued 排队中，running 生成中，done 已完成，failed 失败。"),
    )
    format = serializers.ChoiceField(choices=["csv", "xlsx"], help_text=_("文件格式。"))
    rows = serializers.IntegerField(help_text=_("请求时符合条件的行数。"))
    rows_done = serializers.IntegerField(help_text=_("已写入的行数。"))
    progress = serializers.IntegerField(help_text=_("进度（0–100）。"))
    as_of = serializers.DateTimeField(
        help_text=_("文件反映的时刻（请求的 as_of，否则为请求时刻）。")
    )
    filters = serializers.ListField(
        source="query",
        child=serializers.ListField(child=serializers.CharField()),
        help_text=_("请求所用的参数：[名称, 值] 对。"),
    )
    created_at = serializers.DateTimeField(help_text=_("请求时间。"))
    expires_at = serializers.DateTimeField(help_text=_("任务与文件删除的时间。"))
    download = serializers.URLField(allow_null=True, help_text=_("完成后的下载地址；否则为空。"))


class ApiIndexSerializer(serializers.Serializer):
    endpoints = serializers.ListField(
        child=serializers.DictField(), help_text=_("各接口：name、url、description。")
    )
    docs = serializers.URLField(help_text=_("交互式接口文档。"))
    schema = serializers.URLField(help_text=_("OpenAPI 描述。"))


class ProvenanceActSerializer(serializers.Serializer):
    at = serializers.DateTimeField(help_text=_("时间。"))
    kind = serializers.CharField(help_text=_("操作类型（见 /api/v1/audit/）。"))
    username = serializers.CharField(help_text=_("操作人用户名；系统操作为空。"))
    reason = serializers.CharField(help_text=_("原因（已脱敏）。"))


class ProvenanceImportSerializer(serializers.Serializer):
    file = serializers.CharField(help_text=_("导入的文件名。"))
    uploaded_at = serializers.DateTimeField(allow_null=True, help_text=_("上传时间。"))
    warnings = serializers.DictField(
        child=serializers.IntegerField(), help_text=_("导入时的提示，按类型计数。")
    )
    acknowledged = serializers.ListField(
        child=serializers.CharField(), help_text=_("确认导入时逐条核对的行（工作表:行）。")
    )


class BatchProvenanceSerializer(serializers.Serializer):
    batch = serializers.IntegerField(help_text=_("批次 id。"))
    status = serializers.CharField(help_text=_("批次现在的状态。"))
    acts = ProvenanceActSerializer(many=True, help_text=_("对本批次的每一次操作，按时间。"))
    imported = ProvenanceImportSerializer(help_text=_("导入情况。"))
    objections = serializers.DictField(
        child=serializers.IntegerField(), help_text=_("异议，按处理状态计数。")
    )
    corrects = serializers.IntegerField(allow_null=True, help_text=_("本批次更正的原批次 id。"))
    corrected_by = serializers.ListField(
        child=serializers.IntegerField(), help_text=_("更正本批次的批次 id。")
    )


# The change feed


class ChangeBatchSerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text=_("批次 id。"))
    title = serializers.CharField(help_text=_("标题。"))
    program = serializers.IntegerField(help_text=_("项目 id。"))
    period = serializers.CharField(help_text=_("发放期间 YYYY-MM。"))
    township = serializers.IntegerField(help_text=_("乡镇 id。"))
    status = serializers.ChoiceField(
        choices=Batch.Status.choices, help_text=_("批次现在的状态（不是当时的）。")
    )


class ChangeWhoSerializer(serializers.Serializer):
    role = serializers.ChoiceField(
        choices=Role.choices,
        help_text=_(
            "操作人的角色（其账号现在所在的组）：township_staff 乡镇工作人员、county_staff 县级"
            "工作人员、staff 其他工作人员、system 系统。"
        ),
    )
    office = serializers.CharField(
        help_text=_("所在单位：乡镇工作人员为批次所在乡镇，县级工作人员为其县；其他为空。")
    )
    username = serializers.CharField(
        required=False, help_text=_("操作人用户名：只给审计员与工作人员，匿名用户没有此项。")
    )


class ChangeSerializer(serializers.Serializer):
    """One change of what is public, written out from an audit entry and its joined batches."""

    id = serializers.IntegerField(help_text=_("操作记录 id（审计员可在 /api/v1/audit/ 查到）。"))
    kind = serializers.ChoiceField(
        choices=Change.choices,
        help_text=_(
            "变化：publication 发布、correction 发布更正（批次更正了 corrects）、"
            "withdrawal 撤回、finalisation 定稿。"
        ),
    )
    at = serializers.DateTimeField(help_text=_("时间。"))
    batch = ChangeBatchSerializer(help_text=_("变化的批次（更正为更正批次）。"))
    corrects = ChangeBatchSerializer(
        allow_null=True, help_text=_("更正时被更正的批次；其他为 null。")
    )
    reason = serializers.CharField(
        help_text=_("撤回或更正的原因（已隐去号码、已知姓名脱敏）；其他为空。")
    )
    who = ChangeWhoSerializer(help_text=_("谁做的：匿名用户只见角色与单位。"))

    def to_representation(self, entry: AuditEntry) -> dict:
        batch = entry.batch
        role = entry.role
        office = {
            Role.TOWNSHIP_STAFF: batch.township.name,
            Role.COUNTY_STAFF: batch.township.county,
        }.get(role, "")
        who = {"role": role, "office": office}
        if self.context.get("auditor"):
            who["username"] = entry.username
        reason = {
            Change.WITHDRAWAL: entry.reason,
            Change.CORRECTION: batch.reason,
        }.get(entry.change, "")
        return {
            "id": entry.pk,
            "kind": entry.change,
            "at": serializers.DateTimeField().to_representation(entry.at),
            "batch": _change_batch(batch),
            "corrects": _change_batch(batch.corrects) if batch.corrects_id else None,
            "reason": reason,
            "who": who,
        }


def _change_batch(batch: Batch) -> dict:
    return {
        "id": batch.pk,
        "title": batch.title,
        "program": batch.program_id,
        "period": batch.period,
        "township": batch.township_id,
        "status": batch.status,
    }
