"""Column mapping by staff, remembered: the checks, the templates, the staff flow end to end.

The rosters here are real CSV files read by the real reader: headers "甲" and "乙" that no rule
knows, so the amount column cannot be settled and the roster stops for mapping.
"""

from __future__ import annotations

import json
import re
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError
from django.urls import reverse
from django.utils import timezone

from funds.forms import MappingForm
from funds.importing import jobs, tasks
from funds.importing.mapping import (
    IGNORE,
    PERSONAL,
    mapping_problems,
    parse_map_option,
    stored_mapping_problems,
)
from funds.models import Batch, Disbursement, ImportJob, MappingTemplate
from tests.factories import make_program, person_name, unique_id_number
from tests.funds.importing.support import table_counts

HEADER = ("村", "姓名", "身份证号码", "甲", "乙")


def roster_csv(count: int = 3, *, first: int = 0, header: tuple[str, ...] = HEADER) -> str:
    """Return a roster whose money columns are headed 甲 (a subsidy rate) and 乙 (paid)."""
    lines = [",".join(header)]
    for n in range(first, first + count):
        lines.append(f"红星村,{person_name(n)},{unique_id_number(n)},99.00,{100 + n}.50")
    return "\n".join(lines) + "\n"


def upload(client, program, content: str, name: str = "花名册.csv"):
    data = {
        "program": program.pk,
        "period": "2026-03",
        "township": "城关镇",
        "file": SimpleUploadedFile(name, content.encode(), content_type="text/csv"),
    }
    return client.post(reverse("funds:upload"), data)


def choices(job: ImportJob, **by_label: str) -> dict[str, str]:
    """Return the mapping form's data: its pre-filled guesses, changed for BY_LABEL."""
    form = MappingForm(job=job)
    data = {}
    for layout in form.layouts:
        for name, column in zip(layout.names, layout.columns, strict=True):
            data[name] = by_label.get(column["label"], form.fields[name].initial)
    return data


def post_mapping(client, job: ImportJob, *, save_as: str = "", **by_label: str):
    data = choices(job, **by_label)
    if save_as:
        data |= {"save_template": "on", "template_name": save_as}
    return client.post(reverse("funds:job_mapping", args=[job.pk]), data)


def page(client, job: ImportJob) -> str:
    return client.get(reverse("funds:job_detail", args=[job.pk])).content.decode()


# --- The checks (no database) ------------------------------------------------------------------


NAME_ID = [("姓名", "name"), ("身份证", "id_number")]


@pytest.mark.parametrize(
    ("pairs", "expected"),
    [
        ([*NAME_ID, ("乙", "amount")], []),
        ([("户主", "head_name"), ("户主身份证", "head_id"), ("乙", "amount")], []),
        ([*NAME_ID, ("甲", "amount"), ("乙", "amount")], ["金额"]),
        ([*NAME_ID, ("乙", IGNORE)], ["金额"]),
        ([*NAME_ID, ("乙", "amount"), ("丙", "salary")], ["salary"]),
        ([("姓名", "name"), ("身份证", PERSONAL), ("乙", "amount")], ["身份证号码"]),
    ],
    ids=["sound", "head-columns-stand-in", "amount-twice", "no-amount", "unknown", "no-id"],
)
def test_a_sheet_mapping_needs_each_required_field_once_and_known_targets(pairs, expected):
    problems = mapping_problems(pairs)
    assert len(problems) == len(expected)
    for problem, word in zip(problems, expected, strict=True):
        assert word in problem


def test_the_parts_of_a_total_may_be_several_columns():
    pairs = [("姓名", "name"), ("身份证", "id_number"), ("合计", "amount")]
    assert mapping_problems([*pairs, ("生活补贴", "part"), ("护理补贴", "part")]) == []
    assert mapping_problems([*pairs, ("实发", "amount")]) != []


def test_a_map_option_is_a_label_and_a_known_target():
    assert parse_map_option(" 实发金额 = amount ") == ("实发金额", "amount")
    assert parse_map_option("a=b=ignore") == ("a=b", IGNORE)
    for bad in ("实发金额", "=amount", "实发金额=money"):
        with pytest.raises(ValueError):
            parse_map_option(bad)


@pytest.mark.parametrize(
    "mapping", [{}, [], {"乙": "money"}, {"甲": "amount", "乙": "amount"}, {" ": "amount"}]
)
def test_a_stored_mapping_must_be_an_object_of_labels_to_known_targets(mapping):
    assert stored_mapping_problems(mapping)
    assert stored_mapping_problems({"乙": "amount", "甲": PERSONAL}) == []


# --- Templates and their admin -----------------------------------------------------------------


@pytest.mark.django_db
def test_a_template_is_found_for_its_program_else_for_any_program_never_for_another():
    mine, other = make_program("低保测试"), make_program("高龄测试")
    MappingTemplate.objects.create(
        name="高龄", program=other, signature="s1", mapping={"乙": "amount"}
    )
    assert MappingTemplate.objects.for_signature("s1", program=mine) is None
    anyone = MappingTemplate.objects.create(name="通用", signature="s1", mapping={"甲": "amount"})
    assert MappingTemplate.objects.for_signature("s1", program=mine) == anyone
    own = MappingTemplate.objects.create(name="低保", program=mine, signature="s1", mapping={})
    assert MappingTemplate.objects.for_signature("s1", program=mine) == own
    assert MappingTemplate.objects.for_signature("s2", program=mine) is None


@pytest.mark.django_db
def test_one_template_per_header_for_a_program_and_one_for_any_program():
    program = make_program()
    MappingTemplate.objects.create(name="a", program=program, signature="s", mapping={})
    MappingTemplate.objects.create(name="b", signature="s", mapping={})
    with pytest.raises(IntegrityError):
        MappingTemplate.objects.create(name="c", signature="s", mapping={})


@pytest.mark.django_db
def test_remember_updates_the_programs_template_and_refuses_a_taken_name():
    program = make_program()
    first = MappingTemplate.objects.remember(
        name="甲乙表", program=program, signature="s", mapping={"乙": "amount"}
    )
    again = MappingTemplate.objects.remember(
        name="甲乙表（新）", program=program, signature="s", mapping={"甲": "amount"}
    )
    assert again.pk == first.pk and again.mapping == {"甲": "amount"}
    with pytest.raises(ValidationError):
        MappingTemplate.objects.remember(
            name="甲乙表（新）", program=program, signature="other", mapping={"乙": "amount"}
        )
    with pytest.raises(ValidationError):
        MappingTemplate.objects.remember(
            name="坏的", program=program, signature="t", mapping={"乙": "money"}
        )
    assert MappingTemplate.objects.count() == 1


@pytest.mark.django_db
def test_the_admin_lists_searches_and_edits_templates_and_refuses_an_unknown_field(staff_client):
    program = make_program()
    template = MappingTemplate.objects.create(
        name="甲乙表", program=program, signature="abc123", mapping={"乙": "amount"}
    )
    MappingTemplate.objects.create(name="别的表", signature="zzz", mapping={"丙": "amount"})
    listing = staff_client.get(reverse("admin:funds_mappingtemplate_changelist"), {"q": "甲乙"})
    text = listing.content.decode()
    assert listing.status_code == 200 and "甲乙表" in text and "别的表" not in text

    url = reverse("admin:funds_mappingtemplate_change", args=[template.pk])
    form = {"name": "甲乙表", "program": program.pk, "signature": "abc123"}
    refused = staff_client.post(url, {**form, "mapping": json.dumps({"乙": "salary"})})
    assert refused.status_code == 200 and "salary" in refused.content.decode()
    template.refresh_from_db()
    assert template.mapping == {"乙": "amount"}

    saved = staff_client.post(
        url, {**form, "mapping": json.dumps({"乙": "amount", "甲": "ignore"})}
    )
    assert saved.status_code == 302
    template.refresh_from_db()
    assert template.mapping == {"乙": "amount", "甲": "ignore"}


@pytest.mark.django_db
def test_a_template_added_in_the_admin_records_who_made_it(staff_client, staff_user):
    response = staff_client.post(
        reverse("admin:funds_mappingtemplate_add"),
        {"name": "新模板", "program": "", "signature": "s9", "mapping": '{"乙": "amount"}'},
    )
    assert response.status_code == 302
    assert MappingTemplate.objects.get().created_by == staff_user


# --- The staff flow ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_roster_the_rules_cannot_settle_waits_for_mapping_and_writes_nothing(staff_client):
    program = make_program()
    before = table_counts()
    upload(staff_client, program, roster_csv())
    job = ImportJob.objects.get()
    assert job.status == ImportJob.Status.NEEDS_MAPPING
    assert job.file, "the upload is kept to be read again once mapped"
    assert not job.staged
    assert "amount" in job.report["unsettled"]
    counts = table_counts()
    assert counts.pop("funds.ImportJob") == before.pop("funds.ImportJob") + 1
    assert counts.pop("funds.AuditEntry") == before.pop("funds.AuditEntry") + 1, "the upload"
    assert counts == before

    text = page(staff_client, job)
    labels = {c["label"]: c for c in job.report["columns"]}
    assert set(labels) == set(HEADER)
    assert labels["乙"]["samples"][:1] == ["100.50"]
    for n in range(3):
        for raw in (person_name(n), unique_id_number(n)):
            assert raw not in text and raw not in json.dumps(job.report, ensure_ascii=False)
    assert labels["姓名"]["samples"][0] in text and "*" in labels["姓名"]["samples"][0]
    assert unique_id_number(0)[:3] + "*" in text
    assert "确认导入" not in text and "重新上传" not in text


@pytest.mark.django_db
def test_every_column_select_has_a_label_and_guesses_are_pre_filled(staff_client):
    upload(staff_client, make_program(), roster_csv())
    job = ImportJob.objects.get()
    text = page(staff_client, job)
    selects = re.findall(r'<select name="(col-[^"]+)"[^>]*id="([^"]+)"', text)
    assert len(selects) == len(HEADER)
    for _name, element_id in selects:
        assert f'<label for="{element_id}">' in text
    assert re.search(r'<option value="name" selected>', text)
    assert "<script>" not in text and "style=" not in text


@pytest.mark.django_db
def test_mapped_columns_give_the_right_amounts_and_the_next_roster_goes_straight_through(
    staff_client,
):
    program = make_program()
    upload(staff_client, program, roster_csv())
    job = ImportJob.objects.get()

    response = post_mapping(staff_client, job, save_as="甲乙花名册", 甲=IGNORE, 乙="amount")
    assert response.status_code == 302
    job.refresh_from_db()
    assert job.status == ImportJob.Status.READY, job.report.get("errors")
    assert not job.file, "the upload goes once the mapped roster is staged"
    assert job.mapping["乙"] == "amount" and job.mapping["甲"] == IGNORE
    assert job.report["total"] == "304.50" and job.report["saved_template"] == "甲乙花名册"
    assert "samples" not in job.report["columns"][0], "samples only while waiting for mapping"
    template = MappingTemplate.objects.get()
    assert template.program == program and template.signature == job.report["signature"]
    assert "甲乙花名册" in page(staff_client, job)

    staff_client.post(reverse("funds:job_confirm", args=[job.pk]), {"new_township": "on"})
    job.refresh_from_db()
    amounts = sorted(Disbursement.objects.filter(batch=job.batch).values_list("amount", flat=True))
    assert amounts == [Decimal("100.50"), Decimal("101.50"), Decimal("102.50")]

    upload(staff_client, program, roster_csv(first=10), name="四月.csv")
    following = ImportJob.objects.exclude(pk=job.pk).get()
    assert following.status == ImportJob.Status.READY
    assert following.report["template"] == "甲乙花名册" and following.report["total"] == "334.50"
    assert "甲乙花名册" in page(staff_client, following)


@pytest.mark.django_db
def test_confirming_the_guesses_as_they_are_works_when_they_are_sound(staff_client, monkeypatch):
    program = make_program()
    upload(staff_client, program, roster_csv())
    job = ImportJob.objects.get()
    # Pretend the importer had guessed 乙 as the amount: staff only confirm.
    columns = [{**c, "field": "amount"} if c["label"] == "乙" else c for c in job.report["columns"]]
    ImportJob.objects.filter(pk=job.pk).update(report={**job.report, "columns": columns})
    job.refresh_from_db()
    post_mapping(staff_client, job)
    job.refresh_from_db()
    assert job.status == ImportJob.Status.READY and job.report["total"] == "304.50"
    assert not MappingTemplate.objects.exists(), "no template unless asked"


@pytest.mark.parametrize(
    ("by_label", "message"),
    [({"甲": "amount", "乙": "amount"}, "只能对应一列"), ({"乙": IGNORE}, "没有指定")],
    ids=["two-amount-columns", "no-amount-column"],
)
@pytest.mark.django_db
def test_an_unsound_mapping_is_refused_and_the_job_keeps_waiting(staff_client, by_label, message):
    upload(staff_client, make_program(), roster_csv())
    job = ImportJob.objects.get()
    response = post_mapping(staff_client, job, save_as="x", **by_label)
    assert response.status_code == 200 and message in response.content.decode()
    job.refresh_from_db()
    assert job.status == ImportJob.Status.NEEDS_MAPPING and job.file and job.mapping == {}
    assert not MappingTemplate.objects.exists() and not Batch.objects.exists()


@pytest.mark.django_db
def test_a_template_name_taken_by_another_header_is_refused(staff_client):
    MappingTemplate.objects.create(name="甲乙花名册", signature="other", mapping={"乙": "amount"})
    upload(staff_client, make_program(), roster_csv())
    job = ImportJob.objects.get()
    response = post_mapping(staff_client, job, save_as="甲乙花名册", 乙="amount")
    assert response.status_code == 200 and "已有名为" in response.content.decode()
    job.refresh_from_db()
    assert job.status == ImportJob.Status.NEEDS_MAPPING


@pytest.mark.django_db
def test_another_programs_template_is_not_applied_unless_it_is_for_any_program(staff_client):
    mine, other = make_program("低保测试"), make_program("高龄测试")
    upload(staff_client, other, roster_csv())
    first = ImportJob.objects.get()
    post_mapping(staff_client, first, save_as="高龄甲乙", 甲=IGNORE, 乙="amount")
    template = MappingTemplate.objects.get()

    upload(staff_client, mine, roster_csv(first=20), name="b.csv")
    assert ImportJob.objects.latest("created_at").status == ImportJob.Status.NEEDS_MAPPING

    MappingTemplate.objects.filter(pk=template.pk).update(program=None)
    upload(staff_client, mine, roster_csv(first=40), name="c.csv")
    job = ImportJob.objects.latest("created_at")
    assert job.status == ImportJob.Status.READY and job.report["template"] == "高龄甲乙"


@pytest.mark.django_db
def test_only_staff_may_see_or_map_a_waiting_roster(client, staff_client, django_user_model):
    upload(staff_client, make_program(), roster_csv())
    job = ImportJob.objects.get()
    data = choices(job, 乙="amount")
    clerk = django_user_model.objects.create_user(username="clerk", password="clerk-pass-123")
    client.force_login(clerk)
    assert client.get(reverse("funds:job_detail", args=[job.pk])).status_code == 403
    response = client.post(reverse("funds:job_mapping", args=[job.pk]), data)
    assert response.status_code == 403
    assert client.post(reverse("funds:job_abandon", args=[job.pk])).status_code == 403
    job.refresh_from_db()
    assert job.status == ImportJob.Status.NEEDS_MAPPING and job.mapping == {}


@pytest.mark.django_db
def test_a_job_not_waiting_for_mapping_cannot_be_mapped(staff_client):
    upload(staff_client, make_program(), roster_csv())
    job = ImportJob.objects.get()
    data = choices(job, 乙="amount")
    post_mapping(staff_client, job, 乙="amount")
    job.refresh_from_db()
    assert job.status == ImportJob.Status.READY
    response = staff_client.post(reverse("funds:job_mapping", args=[job.pk]), data)
    assert "该任务当前不需要指定列" in response.content.decode()
    job.refresh_from_db()
    assert job.status == ImportJob.Status.READY


@pytest.mark.django_db
def test_a_mapping_that_leaves_row_errors_rejects_the_roster_and_deletes_the_upload(staff_client):
    upload(staff_client, make_program(), roster_csv())
    job = ImportJob.objects.get()
    post_mapping(staff_client, job, save_as="错的", 甲=IGNORE, 乙=IGNORE, 村="amount")
    job.refresh_from_db()
    assert job.status == ImportJob.Status.REJECTED and not job.file
    assert not MappingTemplate.objects.exists(), "only a mapping that works is remembered"


@pytest.mark.django_db
def test_abandoning_a_waiting_roster_deletes_its_upload(staff_client):
    upload(staff_client, make_program(), roster_csv())
    job = ImportJob.objects.get()
    stored = Path(job.file.path)
    assert stored.exists()
    response = staff_client.post(reverse("funds:job_abandon", args=[job.pk]))
    assert response.status_code == 302
    job.refresh_from_db()
    assert job.status == ImportJob.Status.ABANDONED and not job.file
    assert not stored.exists()
    again = staff_client.post(reverse("funds:job_abandon", args=[job.pk]), follow=True)
    assert "该任务已导入、正在处理或已放弃，不能再放弃" in again.content.decode()


@pytest.mark.django_db
def test_uploads_left_waiting_too_long_are_deleted_by_the_next_upload(staff_client):
    program = make_program()
    upload(staff_client, program, roster_csv())
    old = ImportJob.objects.get()
    stale = timezone.now() - jobs.MAPPING_WAIT - timedelta(minutes=1)
    ImportJob.objects.filter(pk=old.pk).update(updated_at=stale)
    upload(staff_client, program, roster_csv(first=5), name="b.csv")
    old.refresh_from_db()
    assert old.status == ImportJob.Status.ABANDONED and not old.file
    fresh = ImportJob.objects.exclude(pk=old.pk).get()
    assert fresh.status == ImportJob.Status.NEEDS_MAPPING and fresh.file


@pytest.mark.django_db
def test_a_mapping_whose_staging_fails_deletes_the_upload(staff_client, monkeypatch):
    upload(staff_client, make_program(), roster_csv())
    job = ImportJob.objects.get()

    def broken(**_kwargs):
        raise RuntimeError("reader bug")

    monkeypatch.setattr(tasks, "remap_roster", broken)
    post_mapping(staff_client, job, 乙="amount")
    job.refresh_from_db()
    assert job.status == ImportJob.Status.FAILED and not job.file


@pytest.mark.django_db
def test_two_amount_columns_are_never_guessed_between_staff_choose_one(staff_client):
    header = ("村", "姓名", "身份证号码", "补贴金额", "发放金额")
    upload(staff_client, make_program(), roster_csv(header=header))
    job = ImportJob.objects.get()
    assert job.status == ImportJob.Status.NEEDS_MAPPING and job.report["unsettled"] == ["amount"]

    as_guessed = post_mapping(staff_client, job)
    assert "只能对应一列" in as_guessed.content.decode(), "both guesses say amount: refused"
    job.refresh_from_db()
    assert job.status == ImportJob.Status.NEEDS_MAPPING

    post_mapping(staff_client, job, 补贴金额=IGNORE)
    job.refresh_from_db()
    assert job.status == ImportJob.Status.READY and job.report["total"] == "304.50"


@pytest.mark.django_db
def test_two_columns_with_the_same_header_cannot_be_told_apart_and_staff_are_told_so(
    staff_client,
):
    """A mapping is by header text: two columns headed 金额 must be renamed in the sheet."""
    header = ("村", "姓名", "身份证号码", "金额", "金额")
    upload(staff_client, make_program(), roster_csv(header=header))
    job = ImportJob.objects.get()
    assert job.status == ImportJob.Status.NEEDS_MAPPING
    data = choices(job)
    data["col-0-3"] = IGNORE  # the first 金额 column; the second stays "amount"
    response = staff_client.post(reverse("funds:job_mapping", args=[job.pk]), data)
    assert "无法分别指定" in response.content.decode()
    job.refresh_from_db()
    assert job.status == ImportJob.Status.NEEDS_MAPPING and job.file
