"""The import_payments command: exit codes, JSON lines, dry runs, duplicates."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from funds.importing.parsed import Issue
from funds.models import Batch
from tests.factories import make_program
from tests.funds.importing.support import household_row, roster, roster_file, use_roster

pytestmark = pytest.mark.django_db


def run(*args) -> tuple[int, list[dict], str]:
    out = StringIO()
    try:
        call_command("import_payments", *args, stdout=out, stderr=StringIO())
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
                 "--period", "2026-03", stdout=out)  # fmt: skip
    assert "roster.csv" in out.getvalue() and "已导入" in out.getvalue()
