"""A blank roster per program (花名册模板): the columns the importer reads, ready for Excel.

Offices that start from this workbook send rosters the importer reads without a question: a
title row naming the township, month and program (placeholders to overwrite), the header
texts of ``aliases`` (the program's own 面积 / 人数 and 标准 columns as its unit says), and the
ID-number and account columns formatted as text, so that Excel keeps all 18 (or 19) digits
instead of turning them into a number that has lost its last ones.
"""

from __future__ import annotations

import io

from django.utils.translation import gettext_lazy as _
from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font

from funds.models import Program

#: Data rows formatted in advance (Excel applies a column's format to cells typed later only
#: where the cells carry it).
TEMPLATE_ROWS = 500
TEXT = "@"
#: Placeholders of the title row: not Chinese characters, so the reader never takes them for a
#: township or a month (``headers.places_in_title``, ``headers.months_in_text``).
TITLE = "××镇××××年××月{program}发放花名册"

# (field, header text): texts of ``funds.importing.aliases``, in the order offices write them.
_PEOPLE = (
    ("seq", "序号"),
    ("village", "村"),
    ("group", "组"),
    ("head_name", "户主姓名"),
    ("head_id", "户主身份证号"),
    ("name", "姓名"),
    ("id_number", "身份证号"),
    ("relation", "与户主关系"),
)
_PAYMENT = (("amount", "金额（元）"), ("account", "一卡通账号"), ("note", "备注"))
_TEXT_FIELDS = ("head_id", "id_number", "account")
_WIDTHS = {"head_id": 22, "id_number": 22, "account": 24, "note": 24, "village": 12}
_ID_NOTE = _("文本格式：请填写18位身份证号码，不要改成数字格式。")
_NOTES = {
    "head_id": _ID_NOTE,
    "id_number": _ID_NOTE,
    "account": _("文本格式：请填写完整账号，不要改成数字格式。"),
    "amount": _("单位：元，保留两位小数。"),
}


def template_columns(program: Program) -> list[tuple[str, str]]:
    """Return (field, header text) of PROGRAM's roster: people, its own quantity and rate, pay."""
    kind, unit = program.quantity_kind, program.unit_text
    own: list[tuple[str, str]] = []
    if kind == "area":
        own = [("quantity", f"面积（{unit}）"), ("rate", f"标准（元/{unit}）")]
    elif kind == "persons":
        own = [("quantity", "人数"), ("rate", f"标准（元/{unit}）")]
    elif kind == "count":
        own = [("quantity", "数量"), ("rate", f"标准（元/{unit}）")]
    return [*_PEOPLE, *own, *_PAYMENT]


def roster_template(program: Program) -> bytes:
    """Return the xlsx bytes of PROGRAM's blank roster: title row, header, text columns."""
    columns = template_columns(program)
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "花名册"
    sheet.append([TITLE.format(program=program.name)])
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(columns))
    sheet["A1"].font = Font(bold=True, size=14)
    sheet["A1"].alignment = Alignment(horizontal="center")
    sheet.append([text for _field, text in columns])
    for index, (field, _text) in enumerate(columns, start=1):
        header = sheet.cell(row=2, column=index)
        header.font = Font(bold=True)
        if field in _NOTES:
            header.comment = Comment(str(_NOTES[field]), "Sunlight")
        letter = header.column_letter
        sheet.column_dimensions[letter].width = _WIDTHS.get(field, 10)
        number_format = _number_format(field)
        if number_format:
            sheet.column_dimensions[letter].number_format = number_format
            for row in range(3, 3 + TEMPLATE_ROWS):
                sheet.cell(row=row, column=index).number_format = number_format
    sheet.freeze_panes = "A3"
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _number_format(field: str) -> str:
    if field in _TEXT_FIELDS:
        return TEXT
    if field == "amount":
        return "0.00"
    if field == "rate":
        return "0.00##"
    return ""
