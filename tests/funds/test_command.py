"""The import_payments command: exit codes, JSON lines, dry runs, duplicates, column mapping."""

from __future__ import annotations

import json
from decimal import Decimal
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from funds.importing.parsed import Issue
from funds.models import Batch, Disbursement, MappingTemplate
from tests.factories import make_program
from tests.funds.importing.support import (
    household_row,
    roster,
    roster_file,
    table_counts,
    use_roster,
)

pytestmark = pytest.mark.django_db


def operator() -> str:
    """Return the username of a superuser for the command's --user."""
    User = get_user_model()
    User.objects.get_or_create(username="cli", defaults={"is_staff": True, "is_superuser": True})
    return "cli"


def run(*args) -> tuple[int, list[dict], str]:
    out = StringIO()
    try:
        call_command("import_payments", *args, "--user", operator(), stdout=out, stderr=StringIO())
    except CommandError as error:
        return error.returncode, _lines(out), str(error)
    return 0, _lines(out), ""


def _lines(out: StringIO) -> list[dict]:
    text = out.getvalue().strip()
    return [json.loads(line) for line in text.splitlines()] if text.startswith("{") else []


def test_an_imported_file_exits_0_with_one_json_line(monkeypatch, tmp_path):
    use_roster(monkeypatch, roster([household_row(1, amount="10.5"), household_row(2)]))
    program = make_program("耕地测试")
    code, lines, _ = run(str(roster_file(tmp_path)), "--program", program.name, "--period",
                         "2026-03", "--json")  # fmt: skip
    assert code == 0
    (line,) = lines
    assert line["status"] == "imported" and line["rows"] == 2 and line["total"] == "110.50"
    assert line["households"] == 2 and line["persons"] == 2
    assert line["batch"] == Batch.objects.get().pk
    assert line["errors"] == [] and line["warnings"] == []


def test_dry_run_exits_0_as_checked_and_writes_no_batch(monkeypatch, tmp_path):
    use_roster(monkeypatch, roster([household_row(1)]))
    program = make_program()
    code, lines, _ = run(str(roster_file(tmp_path)), "--program", program.slug, "--period",
                         "2026-03", "--dry-run", "--json")  # fmt: skip
    assert code == 0 and lines[0]["status"] == "checked" and lines[0]["batch"] is None
    assert Batch.objects.count() == 0


def test_a_duplicate_exits_0_and_a_rejection_exits_1(monkeypatch, tmp_path):
    program = make_program()
    good, bad = roster_file(tmp_path, "a.csv", "1"), roster_file(tmp_path, "b.csv", "2")
    use_roster(monkeypatch, roster([household_row(1)]))
    args = ["--program", program.name, "--period", "2026-03", "--json"]
    assert run(str(good), *args)[0] == 0
    code, lines, _ = run(str(good), *args)
    assert code == 0 and lines[0]["status"] == "duplicate" and lines[0]["batch"]

    use_roster(
        monkeypatch,
        roster([household_row(5)], errors=[Issue("Sheet1", 6, "金额", "金额不是数字", "amount")]),
    )
    code, lines, _ = run(str(bad), str(good), *args)
    assert code == 1
    assert [line["status"] for line in lines] == ["rejected", "duplicate"]
    assert lines[0]["errors"] == [
        {"sheet": "Sheet1", "row": 6, "column": "金额", "message": "金额不是数字"}
    ]
    assert Batch.objects.count() == 1


def test_an_unknown_program_exits_2_and_lists_the_known_ones(tmp_path):
    make_program("高龄测试")
    code, _lines, message = run(
        str(roster_file(tmp_path)), "--program", "不存在", "--period", "2026-03"
    )
    assert code == 2 and "高龄测试" in message and "耕地地力保护补贴" in message


@pytest.mark.parametrize("period", ["2026-13", "2026/03", "26-03", "2026-3"])
def test_a_bad_period_exits_2(tmp_path, period):
    program = make_program()
    code, _lines, message = run(
        str(roster_file(tmp_path)), "--program", program.name, "--period", period
    )
    assert code == 2 and "YYYY-MM" in message


def test_a_missing_file_exits_2(tmp_path):
    program = make_program()
    code, _, _ = run(str(tmp_path / "nope.xlsx"), "--program", program.name, "--period", "2026-03")
    assert code == 2


def test_publish_puts_the_batch_in_publicity(monkeypatch, tmp_path):
    use_roster(monkeypatch, roster([household_row(1)]))
    program = make_program()
    run(str(roster_file(tmp_path)), "--program", program.name, "--period", "2026-03", "--publish")
    assert Batch.objects.get().status == Batch.Status.PUBLICITY


def test_the_human_output_names_the_file_and_the_outcome(monkeypatch, tmp_path):
    use_roster(monkeypatch, roster([household_row(1)]))
    program = make_program()
    out = StringIO()
    call_command("import_payments", str(roster_file(tmp_path)), "--program", program.name,
                 "--period", "2026-03", "--user", operator(), stdout=out)  # fmt: skip
    assert "roster.csv" in out.getvalue() and "已导入" in out.getvalue()


# --- Column mapping: --map, --template, --save-template ---------------------------------------


def _unsettled_file(tmp_path, name: str = "甲乙.csv", first: int = 0):
    from tests.funds.test_mapping import roster_csv

    path = tmp_path / name
    path.write_text(roster_csv(first=first), encoding="utf-8")
    return path


def _args(program, *more: str, period: str = "2026-03") -> list[str]:
    return ["--program", program.name, "--period", period, "--township", "城关镇", *more]


def test_a_roster_that_needs_mapping_exits_1_lists_its_columns_and_writes_nothing(tmp_path):
    program = make_program()
    operator()
    before = table_counts()
    code, lines, message = run(str(_unsettled_file(tmp_path)), *_args(program, "--json"))
    assert code == 1 and "--map" in message
    (line,) = lines
    assert line["status"] == "needs_mapping" and line["batch"] is None
    assert "amount" in line["unsettled"]
    columns = {c["label"]: c for c in line["columns"]}
    assert list(columns) == ["村", "姓名", "身份证号码", "甲", "乙"]
    assert columns["乙"]["letter"] == "E" and columns["乙"]["field"] == ""
    assert columns["姓名"]["field"] == "name"
    assert all("samples" not in c for c in line["columns"]), "no cell value in a script's log"
    assert table_counts() == before


def test_the_human_output_of_a_roster_that_needs_mapping_says_how_to_map_it(tmp_path):
    program = make_program()
    out = StringIO()
    with pytest.raises(CommandError):
        call_command("import_payments", str(_unsettled_file(tmp_path)), *_args(program),
                     "--user", operator(), stdout=out, stderr=StringIO())  # fmt: skip
    text = out.getvalue()
    assert "需要指定列" in text and "甲" in text and "E" in text
    assert "金额 (amount)" in text and '--map "表头=字段"' in text


def test_map_options_settle_the_columns_and_the_json_says_which_mapping_was_used(tmp_path):
    program = make_program()
    options = _args(program, "--map", "乙=amount", "--map", "甲=ignore", "--json")
    code, lines, _ = run(str(_unsettled_file(tmp_path)), *options)
    assert code == 0, lines
    (line,) = lines
    assert line["status"] == "imported" and line["total"] == "304.50"
    assert line["mapping"]["乙"] == "amount" and line["mapping"]["姓名"] == "name"
    assert line["template"] == "" and line["unsettled"] == [] and "columns" not in line
    amounts = sorted(Disbursement.objects.values_list("amount", flat=True))
    assert amounts == [Decimal("100.50"), Decimal("101.50"), Decimal("102.50")]


def test_a_saved_template_is_used_by_name_and_then_found_by_header(tmp_path):
    program = make_program()
    code, lines, _ = run(str(_unsettled_file(tmp_path, "a.csv")),
                         *_args(program, "--map", "乙=amount", "--save-template", "甲乙表",
                                "--json"))  # fmt: skip
    assert code == 0 and lines[0]["saved_template"] == "甲乙表"
    template = MappingTemplate.objects.get()
    assert template.program == program and template.mapping["乙"] == "amount"

    # Other months: a second roster of one program, month and township needs a stated reason.
    code, lines, _ = run(str(_unsettled_file(tmp_path, "b.csv", first=10)),
                         *_args(program, "--template", "甲乙表", "--json",
                                period="2026-04"))  # fmt: skip
    assert code == 0 and lines[0]["template"] == "甲乙表" and lines[0]["total"] == "334.50"

    code, lines, _ = run(str(_unsettled_file(tmp_path, "c.csv", first=20)),
                         *_args(program, "--json", period="2026-05"))  # fmt: skip
    assert code == 0 and lines[0]["status"] == "imported" and lines[0]["template"] == "甲乙表"
    assert Batch.objects.count() == 3


def test_a_dry_run_with_a_map_checks_without_writing_or_saving(tmp_path):
    program = make_program()
    code, lines, _ = run(str(_unsettled_file(tmp_path)),
                         *_args(program, "--map", "乙=amount", "--dry-run", "--json"))  # fmt: skip
    assert code == 0 and lines[0]["status"] == "checked" and lines[0]["total"] == "304.50"
    assert not Batch.objects.exists()
    options = _args(program, "--map", "乙=amount", "--dry-run", "--save-template", "x")
    code, _, _ = run(str(_unsettled_file(tmp_path)), *options)
    assert code == 2 and not MappingTemplate.objects.exists()


@pytest.mark.parametrize(
    "options",
    [
        ["--map", "乙=money"],
        ["--map", "乙"],
        ["--template", "没有这个模板"],
        ["--template", "别人的"],
    ],
    ids=["unknown-field", "no-equals", "unknown-template", "another-programs-template"],
)
def test_a_bad_map_or_template_exits_2_before_reading_anything(tmp_path, options):
    program = make_program()
    MappingTemplate.objects.create(
        name="别人的", program=make_program("高龄测试"), signature="s", mapping={"乙": "amount"}
    )
    code, lines, _ = run(str(_unsettled_file(tmp_path)), *_args(program, *options, "--json"))
    assert code == 2 and lines == []
    assert not Batch.objects.exists()
