"""No API answer, export, filter or schema tells a person's birth year, age, birth date or sex.

With the county public and the masked ID's kept digits, a birth year and a sex left about 33
ID numbers consistent with one person (docs/privacy.md). Auditors do not get them either:
no red flag or audit question needs them served (the age rule is judged on the server).
"""

from __future__ import annotations

import csv
import io
import re

import pytest
from openpyxl import load_workbook

from api.redflags import RED_FLAGS
from tests.api.test_privacy import urls

pytestmark = pytest.mark.django_db

# A key, parameter or column naming any of these tells what no public surface may tell.
FORBIDDEN_KEY = re.compile(r"birth|(^|_)sex($|_)|gender|(^|_)age($|_)|born", re.IGNORECASE)
# A program's age rule (高龄津贴: 80 and over) is its published policy, not anyone's age.
PROGRAM_RULES = {"min_age", "max_age"}
FORBIDDEN_HEADER = re.compile(r"出生|性别|年龄|生日|birth|sex|gender|\bage\b", re.IGNORECASE)


def keys(value) -> set[str]:
    """Return every key of every object inside a decoded JSON VALUE."""
    if isinstance(value, dict):
        return set(value) | {k for v in value.values() for k in keys(v)}
    if isinstance(value, list):
        return {k for v in value for k in keys(v)}
    return set()


@pytest.mark.parametrize("who", ["anonymous", "auditor"])
def test_no_json_answer_carries_a_birth_year_age_or_sex(api, auditor_api, world, who):
    """Lists, details, summaries and red flags: no key of any answer names one."""
    client = api if who == "anonymous" else auditor_api
    found: dict[str, set[str]] = {}
    checked = 0
    for url in urls(world):
        response = client.get(url)
        if response.status_code != 200 or "json" not in response.get("Content-Type", ""):
            continue
        checked += 1
        bad = {key for key in keys(response.json()) - PROGRAM_RULES if FORBIDDEN_KEY.search(key)}
        if bad:
            found[url] = bad
    assert found == {}
    assert checked > 20


def test_a_person_is_a_masked_name_a_masked_id_a_relation_and_a_household(api, auditor_api, world):
    for client in (api, auditor_api):
        person = client.get("/api/v1/persons/").json()["results"][0]
        assert set(person) == {"id", "name_masked", "id_masked", "relation", "household"}


def test_age_rule_rows_say_which_rows_break_the_rule_not_the_birth_year(auditor_api, world):
    rows = auditor_api.get("/api/v1/redflags/age_rule/").json()["results"]
    assert {row["id"] for row in rows} == world.flagged["age_rule"]
    assert not [key for row in rows for key in row if FORBIDDEN_KEY.search(key)]


def test_exports_have_no_birth_age_or_sex_column(api, world):
    text = b"".join(api.get("/api/v1/disbursements/export.csv").streaming_content)
    csv_header = next(csv.reader(io.StringIO(text.decode("utf-8-sig"))))
    book = load_workbook(
        io.BytesIO(b"".join(api.get("/api/v1/disbursements/export.xlsx").streaming_content)),
        read_only=True,
    )
    xlsx_header = [str(v) for v in next(book.active.values)]
    for header in (csv_header, xlsx_header):
        assert len(header) > 10
        assert [h for h in header if FORBIDDEN_HEADER.search(h)] == []


def test_the_schema_offers_no_such_field_filter_or_ordering(client):
    """A filter or ordering on birth year narrows the candidates as surely as a column."""
    spec = client.get("/api/schema/?format=json").json()
    fields = {
        f"{name}.{field}"
        for name, component in spec["components"]["schemas"].items()
        for field in component.get("properties", {})
        if FORBIDDEN_KEY.search(field) and not (name == "Program" and field in PROGRAM_RULES)
    }
    parameters = {
        f"{path} ?{parameter['name']}"
        for path, item in spec["paths"].items()
        for operation in item.values()
        for parameter in operation.get("parameters", [])
        if FORBIDDEN_KEY.search(parameter["name"])
        or (
            parameter["name"] == "ordering"
            and any(FORBIDDEN_KEY.search(v) for v in parameter["schema"].get("enum", []))
        )
    }
    assert fields == set() and parameters == set()


@pytest.mark.parametrize("kind", list(RED_FLAGS))
def test_no_red_flag_can_be_asked_to_filter_by_age_or_sex(auditor_api, world, kind):
    """Asking for persons born in a year, of a sex or an age is refused: it narrows nothing."""
    asked = auditor_api.get(f"/api/v1/redflags/{kind}/?birth_year=1950&sex=F&age=76")
    assert asked.status_code == 400
    assert set(asked.json()) == {"birth_year", "sex", "age"}
