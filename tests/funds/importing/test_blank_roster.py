"""The Excel roster template per program: the columns the importer reads, ID and account
columns formatted as text, a title row to fill in; a filled copy imports as it is."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from funds.importing.blankroster import TEMPLATE_ROWS, roster_template, template_columns
from funds.importing.headers import header_field, months_in_text, places_in_title
from funds.importing.jobs import import_roster
from funds.models import Disbursement
from tests.factories import make_program, person_name, unique_id_number

AREA = {"unit": "亩", "rate": Decimal("105.50")}


def _program(kind: str):
    if kind == "area":
        return make_program("耕地地力保护补贴模板测试", slug="tpl-area", **AREA)
    if kind == "persons":
        return make_program("高龄津贴模板测试", slug="tpl-persons", unit="人·月")
    if kind == "count":
        return make_program("农机购置补贴模板测试", slug="tpl-count", unit="台（套）")
    return make_program("临时救助模板测试", slug="tpl-plain")


def _sheet(program):
    return load_workbook(io.BytesIO(roster_template(program))).active


def _header(sheet) -> list[str]:
    return [cell.value for cell in sheet[2]]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("kind", "quantity", "rate"),
    [
        ("area", "面积（亩）", "标准（元/亩）"),
        ("persons", "人数", "标准（元/人·月）"),
        ("count", "数量", "标准（元/台/套）"),
        ("plain", None, None),
    ],
)
def test_template_has_the_program_own_columns(kind, quantity, rate):
    header = _header(_sheet(_program(kind)))
    assert header[:8] == [
        "序号",
        "村",
        "组",
        "户主姓名",
        "户主身份证号",
        "姓名",
        "身份证号",
        "与户主关系",
    ]
    assert header[-3:] == ["金额（元）", "一卡通账号", "备注"]
    middle = header[8:-3]
    assert middle == ([quantity, rate] if quantity else [])


@pytest.mark.django_db
@pytest.mark.parametrize("kind", ["area", "persons", "count", "plain"])
def test_every_template_header_is_read_by_the_importer_as_its_field(kind):
    for field, text in template_columns(_program(kind)):
        assert header_field(text) == field, text


@pytest.mark.django_db
def test_id_and_account_columns_are_text_so_excel_keeps_all_digits():
    sheet = _sheet(_program("area"))
    header = _header(sheet)
    for label in ("户主身份证号", "身份证号", "一卡通账号"):
        letter = sheet.cell(row=2, column=header.index(label) + 1).column_letter
        cells = [sheet[f"{letter}{row}"] for row in range(3, 3 + TEMPLATE_ROWS)]
        assert {cell.number_format for cell in cells} == {"@"}, label
    amount = sheet.cell(row=3, column=header.index("金额（元）") + 1)
    assert amount.number_format != "@"


@pytest.mark.django_db
def test_title_row_names_program_with_placeholders_the_importer_does_not_read():
    program = _program("area")
    title = _sheet(program)["A1"].value
    assert program.name in title and "镇" in title and "年" in title and "月" in title
    assert places_in_title(title) == ("", "")
    assert months_in_text(title) == set()


def _fill(program, rows: list[tuple], *, title: str) -> bytes:
    workbook = load_workbook(io.BytesIO(roster_template(program)))
    sheet = workbook.active
    sheet["A1"] = title
    for offset, values in enumerate(rows):
        for column, value in enumerate(values, start=1):
            sheet.cell(row=3 + offset, column=column, value=value)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


@pytest.mark.django_db(transaction=True)
def test_a_filled_copy_of_the_template_imports_every_row_with_its_amount(tmp_path):
    program = _program("area")
    heads = [(person_name(n), unique_id_number(n)) for n in range(900, 905)]
    spouse = (person_name(905), unique_id_number(905, sex="F"))
    account = "6217000012345678901"  # 19 digits: a number would lose the last ones in Excel
    rows = []
    for k, (name, number) in enumerate(heads):
        area = Decimal("2.5") + k
        amount = (area * AREA["rate"]).quantize(Decimal("0.01"))
        group = "一组" if k < 3 else "二组"
        rows.append(
            (k + 1, "红星村", group, name, number, name, number, "户主", area, AREA["rate"],
             amount, account, "")
        )  # fmt: skip
    head_name, head_id = heads[0]
    rows.append(
        (6, "红星村", "一组", head_name, head_id, *spouse, "配偶", Decimal("1.5"), AREA["rate"],
         Decimal("158.25"), "", "代领")
    )  # fmt: skip
    path = tmp_path / "城关镇耕地地力2026年3月.xlsx"
    path.write_bytes(_fill(program, rows, title=f"城关镇2026年3月{program.name}发放花名册"))

    report = import_roster(path=path, program=program, period="2026-03")

    assert report.ok, report.errors
    assert report.township == "城关镇"
    assert report.rows == 6 and not report.errors
    assert not [w for w in report.warnings if w.get("code") == "period_mismatch"]
    paid = Disbursement.objects.filter(batch_id=report.batch).order_by("source_row")
    expected = [r[10] for r in rows]
    assert [row.amount for row in paid] == expected
    assert report.total == sum(expected, Decimal("0.00"))
    assert [row.quantity for row in paid][:2] == [Decimal("2.5"), Decimal("3.5")]
    assert {row.rate for row in paid} == {AREA["rate"]}
    assert {row.account_masked for row in paid if row.account_masked} == {"6217***********8901"}
    assert [row.household.group for row in paid][:4] == ["一组", "一组", "一组", "二组"]


@pytest.mark.django_db
def test_public_program_page_offers_the_template_download(client):
    program = _program("area")
    url = reverse("publicity:program_template", args=[program.slug])
    assert url == f"/programs/{program.slug}/template.xlsx"
    page = client.get(reverse("publicity:program", args=[program.slug])).content.decode()
    assert url in page
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    assert "attachment" in response["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    assert "面积（亩）" in _header(sheet)


@pytest.mark.django_db
def test_template_of_an_unknown_program_is_not_found(client):
    assert client.get("/programs/no-such-program/template.xlsx").status_code == 404


@pytest.mark.django_db
def test_staff_upload_page_links_each_program_template(staff_client):
    program = _program("area")
    page = staff_client.get(reverse("funds:upload")).content.decode()
    section = page[page.index('id="roster-templates"') :]
    assert reverse("publicity:program_template", args=[program.slug]) in section
    assert program.name in section
