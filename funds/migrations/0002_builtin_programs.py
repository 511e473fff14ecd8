from decimal import Decimal

from django.db import migrations

# The built-in programs as funds.catalogue listed them when this migration was written: a copy,
# so that a later edit of the catalogue cannot change what this migration creates. New or
# changed built-in programs need a data migration of their own.
HOTLINE = "12345 政务服务便民热线；县财政局惠民惠农资金监管举报电话（见公示栏）"

PROGRAMS = [
    {
        "slug": "cultivated-land",
        "name": "耕地地力保护补贴",
        "category": "agriculture",
        "funding_level": "central",
        "rate": Decimal("105.00"),
        "unit": "亩",
        "department": "县农业农村局、县财政局",
        "policy_basis": "《财政部 农业部关于全面推开农业“三项补贴”改革工作的通知》（财农〔2016〕26号）",
        "application_guide": (
            "对象：拥有耕地承包权的种地农民。标准：按计税面积或确权面积，每亩补贴标准以当年县级方案为准。"
            "程序：村级申报、乡镇审核、县级审定、“一卡通”发放。咨询：乡镇农业综合服务站。"
        ),
        "complaints_channel": HOTLINE,
    },
    {
        "slug": "dibao",
        "name": "农村最低生活保障",
        "category": "assistance",
        "funding_level": "mixed",
        "rate": None,
        "unit": "人·月",
        "department": "县民政局",
        "policy_basis": "《社会救助暂行办法》（国务院令第649号）；《最低生活保障审核确认办法》（民发〔2021〕57号）",
        "application_guide": (
            "对象：家庭人均收入低于当地农村低保标准且财产符合规定的农村居民。标准：按差额发放。"
            "程序：向乡镇（街道）申请，入户调查、民主评议、公示7天、审核确认。咨询：乡镇民政办。"
        ),
        "complaints_channel": HOTLINE,
    },
    {
        "slug": "tekun",
        "name": "特困人员救助供养",
        "category": "assistance",
        "funding_level": "mixed",
        "rate": None,
        "unit": "人·月",
        "department": "县民政局",
        "policy_basis": "《国务院关于进一步健全特困人员救助供养制度的意见》（国发〔2016〕14号）",
        "application_guide": (
            "对象：无劳动能力、无生活来源、无法定赡养抚养扶养义务人或其无履行能力的老年人、残疾人和未成年人。"
            "程序：本人或委托村委会向乡镇申请，公示后审核确认。咨询：乡镇民政办。"
        ),
        "complaints_channel": HOTLINE,
    },
    {
        "slug": "elderly-allowance",
        "name": "高龄津贴",
        "category": "welfare",
        "funding_level": "county",
        "rate": None,
        "unit": "人·月",
        "min_age": 80,
        "department": "县民政局",
        "policy_basis": "《中华人民共和国老年人权益保障法》；本省高龄津贴制度实施办法",
        "application_guide": (
            "对象：具有本县户籍、年满80周岁的老年人。标准：按年龄段分档，以县级方案为准。"
            "程序：本人或家属持身份证、户口簿向村委会申报，乡镇审核。咨询：乡镇民政办。"
        ),
        "complaints_channel": HOTLINE,
    },
    {
        "slug": "disability-two",
        "name": "残疾人两项补贴",
        "category": "disability",
        "funding_level": "mixed",
        "rate": None,
        "unit": "人·月",
        "department": "县残疾人联合会、县民政局",
        "policy_basis": "《国务院关于全面建立困难残疾人生活补贴和重度残疾人护理补贴制度的意见》（国发〔2015〕52号）",
        "application_guide": (
            "对象：低保家庭中的残疾人（生活补贴）；残疾等级为一、二级且需长期照护的重度残疾人（护理补贴）。"
            "程序：持第二代残疾人证向乡镇申请，县残联、民政审核。咨询：乡镇残联专干。"
        ),
        "complaints_channel": HOTLINE,
    },
    {
        "slug": "farm-machinery",
        "name": "农机购置补贴",
        "category": "agriculture",
        "funding_level": "central",
        "rate": None,
        "unit": "台（套）",
        "cap": Decimal("150000.00"),
        "department": "县农业农村局",
        "policy_basis": "农业农村部办公厅 财政部办公厅《农机购置与应用补贴实施意见》",
        "application_guide": (
            "对象：从事农业生产的个人和农业生产经营组织。标准：按补贴额一览表定额补贴，单机补贴有上限。"
            "程序：自主购机、申请补贴、核验、兑付。咨询：县农机推广站。"
        ),
        "complaints_channel": HOTLINE,
    },
    {
        "slug": "ecological-forest",
        "name": "生态公益林补偿",
        "category": "agriculture",
        "funding_level": "mixed",
        "rate": Decimal("16.00"),
        "unit": "亩",
        "department": "县林业局",
        "policy_basis": "《中央财政林业改革发展资金管理办法》",
        "application_guide": "对象：公益林区划界定范围内的林权权利人。标准：按面积补偿。咨询：乡镇林业站。",
        "complaints_channel": HOTLINE,
    },
]


def add_builtin_programs(apps, schema_editor):
    Program = apps.get_model("funds", "Program")
    for entry in PROGRAMS:
        Program.objects.update_or_create(
            slug=entry["slug"], defaults={**entry, "is_builtin": True}
        )


def remove_builtin_programs(apps, schema_editor):
    apps.get_model("funds", "Program").objects.filter(is_builtin=True, batches=None).delete()


class Migration(migrations.Migration):
    dependencies = [("funds", "0001_initial")]
    operations = [migrations.RunPython(add_builtin_programs, remove_builtin_programs)]
