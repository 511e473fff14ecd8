"""Header texts that offices use for each roster field, kept as data.

To teach the importer a new header, add it to the list of its field: the match ignores
whitespace and line breaks, full-width/half-width forms, a trailing unit in brackets
("金额（元）" is "金额") and a trailing colon or asterisk. Order matters only for display: the
first alias of each field is its canonical label in error messages.
"""

from __future__ import annotations

#: field -> header texts. The fields are those of ``funds.importing.parsed.ParsedRow``, and a few
#: a header may name that are read only to check or to find another: ``seq`` (row numbers),
#: ``gross``, ``deduction``, ``part`` and ``amount_words`` (checked against the amount), and
#: ``disability_number`` (残疾证号: the holder's ID number and two digits, used when a roster
#: has no ID column). Exact texts only: ``headers.classify`` reads the rest by rules.
FIELD_ALIASES: dict[str, list[str]] = {
    "seq": ["序号", "编号", "顺序号"],
    "township": ["乡镇", "乡(镇)", "乡镇(街道)", "镇", "乡", "街道", "乡镇名称", "所在乡镇"],
    "village": [
        "村",
        "行政村",
        "所在村",
        "社区",
        "村(社区)",
        "村居",
        "村名",
        "村委会",
        "村(居)委会",
        "村(居)",
        "行政村名称",
        "村组",
        "所属村",
    ],
    "group": ["组", "村民小组", "小组", "组别", "自然村", "村民组", "所在组"],
    "head_name": ["户主姓名", "户主", "户主名称", "家庭户主"],
    "head_id": [
        "户主身份证号码",
        "户主身份证号",
        "户主公民身份号码",
        "户主证件号码",
        "户主身份证",
    ],
    "name": [
        "享受人",
        "享受人姓名",
        "人员姓名",
        "姓名",
        "补贴对象",
        "补贴对象姓名",
        "救助对象",
        "成员姓名",
        "家庭成员姓名",
        "对象姓名",
        "领取人姓名",
        "农户姓名",
    ],
    "id_number": [
        "身份证号码",
        "公民身份号码",
        "证件号码",
        "身份证号",
        "身份证",
        "享受人身份证号码",
        "享受人身份证号",
        "公民身份证号码",
        "居民身份证号码",
        "证件号",
        "身份证件号码",
    ],
    "relation": ["与户主关系", "关系", "与户主的关系", "家庭关系", "成员关系"],
    "payee_name": ["收款人", "收款人姓名", "代领人", "领款人", "持卡人", "持卡人姓名"],
    "account": [
        "一卡通账号",
        "银行账号",
        "存折账号",
        "账号",
        "卡号",
        "一卡通卡号",
        "银行卡号",
        "社保卡号",
        "收款账号",
        "存折号",
        "账户",
        "帐号",
        "一卡通帐号",
        "银行帐号",
    ],
    "amount": [
        "补贴金额",
        "发放金额",
        "实发金额",
        "金额",
        "补助金额",
        "合计金额",
        "救助金额",
        "本次发放金额",
        "发放金额合计",
        "补贴资金",
        "金额合计",
    ],
    "gross": ["应发金额", "应发", "应发合计", "应补金额", "核定金额"],
    "deduction": ["扣款", "扣款金额", "代扣款", "扣除金额", "代扣金额"],
    "amount_words": ["金额（大写）", "大写金额", "金额大写", "大写"],
    "disability_number": ["残疾证号", "残疾人证号", "残疾证号码", "残疾人证号码"],
    "quantity": [
        "补贴面积",
        "计补面积",
        "面积",
        "数量",
        "计税面积",
        "确权面积",
        "种植面积",
        "补贴数量",
        "人数",
        "月数",
    ],
    "rate": ["补贴标准", "标准", "单价", "发放标准", "补助标准", "每亩补贴"],
    "pay_date": ["发放日期", "发放时间", "日期", "拨付日期", "到账日期"],
    "status": ["发放状态", "状态", "发放结果", "是否成功"],
    "note": ["备注", "说明", "附注", "备注说明"],
}

#: Title texts of the fields, for messages (the first alias, written as staff expect it).
FIELD_LABELS: dict[str, str] = {field: names[0] for field, names in FIELD_ALIASES.items()}
FIELD_LABELS.update(
    {"name": "姓名", "id_number": "身份证号码", "amount": "金额", "part": "分项金额"}
)

#: Words that open a signature footer or a note under the table; such rows are ignored.
FOOTER_WORDS: tuple[str, ...] = (
    "负责人",
    "审核人",
    "审核",
    "制表人",
    "制表",
    "日期",
    "填报单位",
    "填表单位",
    "经办人",
    "签字",
    "签章",
    "盖章",
    "复核人",
    "复核",
    "填表人",
    "主管领导",
    "单位负责人",
    "村委会",
    "监督人",
    "公示",
    "注:",
    "注：",
    "说明:",
    "说明：",
    "备注:",
    "备注：",
    "联系电话",
)

#: Words that mark a totals row.
TOTAL_WORDS: tuple[str, ...] = ("合计", "总计", "小计", "本页合计", "累计")

#: Payment status texts -> ParsedRow.status.
STATUS_WORDS: dict[str, str] = {
    "": "paid",
    "成功": "paid",
    "已发放": "paid",
    "发放成功": "paid",
    "已发": "paid",
    "正常": "paid",
    "是": "paid",
    "已到账": "paid",
    "失败": "failed",
    "发放失败": "failed",
    "退回": "failed",
    "已退回": "failed",
    "退票": "failed",
    "否": "failed",
    "停发": "stopped",
    "暂停": "stopped",
    "停止发放": "stopped",
    "已停发": "stopped",
}

#: What a bank return file's result column says of a payment -> "failed" or "succeeded".
#: A success of a payment that had failed is a re-send (重发); of one that had not, nothing new.
RESULT_WORDS: dict[str, str] = {
    "失败": "failed",
    "发放失败": "failed",
    "代发失败": "failed",
    "交易失败": "failed",
    "重发失败": "failed",
    "未成功": "failed",
    "不成功": "failed",
    "退回": "failed",
    "已退回": "failed",
    "退票": "failed",
    "退汇": "failed",
    "否": "failed",
    "成功": "succeeded",
    "发放成功": "succeeded",
    "代发成功": "succeeded",
    "交易成功": "succeeded",
    "重发成功": "succeeded",
    "补发成功": "succeeded",
    "已重发": "succeeded",
    "已补发": "succeeded",
    "已发放": "succeeded",
    "已到账": "succeeded",
    "是": "succeeded",
}

#: Words in a failure reason -> the reason recorded (``funds.models.PaymentResult.Reason``),
#: tried in order; a reason none of them names is "other", its text kept scrubbed.
REASON_WORDS: tuple[tuple[tuple[str, ...], str], ...] = (
    (("销户", "注销", "已销", "销卡"), "account_closed"),
    (("户名不符", "户名不一致", "姓名不符", "户名错误", "户名有误", "名称不符"), "name_mismatch"),
    (("冻结", "止付", "挂失"), "account_frozen"),
    (("账号有误", "账号错误", "帐号错误", "帐号有误", "账号不存在", "无此账", "无此帐",
      "账户不存在", "卡号错误", "卡号有误", "账号无效"), "invalid_account"),
)  # fmt: skip
