"""No double payment reaches the public: content, not file bytes, decides what is a duplicate."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from funds import duplicates
from funds.importing.jobs import import_roster
from funds.models import Batch, Disbursement
from funds.publishing import Replacement, correct_batch, publish_batch, withdraw_batch
from tests.factories import make_batch, make_program, make_village, person_name, unique_id_number
from tests.funds.importing.support import household_row, roster, roster_file, use_roster
from villages.models import Person

pytestmark = pytest.mark.django_db


def _rows(numbers, amount="100.00"):
    return [(person_name(n), unique_id_number(n), Decimal(amount)) for n in numbers]


@pytest.fixture
def program():
    return make_program()


@pytest.fixture
def published(program):
    return make_batch(program, make_village(), _rows(range(5)), status=Batch.Status.PUBLICITY)


def _draft(program, numbers, *, village=None, period="2026-03"):
    village = village or make_village()
    return make_batch(program, village, _rows(numbers), status=Batch.Status.DRAFT, period=period)


# --- publishing --------------------------------------------------------------------------------


def test_the_same_roster_saved_again_cannot_be_published_twice(program, published):
    again = _draft(program, range(5))
    with pytest.raises(ValidationError) as refused:
        publish_batch(batch=again)
    assert refused.value.code == "duplicate_content"
    message = refused.value.messages[0]
    assert f"#{published.pk}" in message and "5" in message
    assert Batch.objects.get(pk=again.pk).status == Batch.Status.DRAFT


def test_a_stated_reason_overrides_the_block_and_is_recorded(program, published):
    from funds.models import AuditEntry

    again = _draft(program, range(5))
    publish_batch(batch=again, override_reason="补发三月份遗漏的款项")
    assert Batch.objects.get(pk=again.pk).status == Batch.Status.PUBLICITY
    override = AuditEntry.objects.get(kind="override", batch=again)
    assert override.reason == "补发三月份遗漏的款项" and override.details["act"] == "publish"


def test_a_person_paid_elsewhere_in_the_period_blocks_even_in_another_township(program, published):
    elsewhere = make_village("清水村", township="旧县镇")
    other = _draft(program, [4, 5, 6], village=elsewhere)
    found = duplicates.for_batch(other)
    assert found.batches == [] and found.persons == 1
    assert found.examples[0]["row"] is not None and "*" in found.examples[0]["name"]
    with pytest.raises(ValidationError):
        publish_batch(batch=other)


def test_another_period_or_program_or_a_withdrawn_batch_is_no_duplicate(program, published):
    assert not duplicates.for_batch(_draft(program, range(5), period="2026-04"))
    assert not duplicates.for_batch(_draft(make_program("另一个项目"), range(5)))
    again = _draft(program, range(5))
    withdraw_batch(batch=published)
    assert not duplicates.for_batch(again)
    publish_batch(batch=again)


def test_a_program_declares_how_many_rows_a_person_may_have_in_a_period(program, published):
    program.rows_per_person = 2  # one per machine, say: two machines each
    program.save()
    second = _draft(program, range(5))
    assert not duplicates.for_batch(second)
    publish_batch(batch=second)
    third = _draft(program, range(5))
    assert duplicates.for_batch(third).persons == 5
    program.rows_per_person = None  # no limit
    program.save()
    assert not duplicates.for_batch(third)


def test_a_correction_is_not_a_duplicate_of_what_it_corrects(program, published):
    row = published.disbursements.order_by("id").first()
    correction = correct_batch(
        original=published, changes={row.pk: Replacement(Decimal("80.00"))},
        source_name="更正.xlsx", source_sha256="c" * 64,
    )  # fmt: skip
    publish_batch(batch=correction)
    # After the correction, the person has one net payment: a new roster paying them is one too
    # many, and the count says one person, not two rows.
    found = duplicates.for_batch(_draft(program, [0]))
    assert found.persons == 1


# --- importing ---------------------------------------------------------------------------------


def test_the_preview_names_the_live_batch_a_resaved_roster_repeats(monkeypatch, tmp_path, program):
    use_roster(monkeypatch, roster([household_row(n) for n in range(3)]))
    first = import_roster(path=roster_file(tmp_path, salt="a"), program=program, period="2026-03")
    again = import_roster(
        path=roster_file(tmp_path, salt="b"), program=program, period="2026-03", dry_run=True
    )
    conflict = again.conflicts
    assert conflict["batches"][0]["id"] == first.batch
    assert conflict["batches"][0]["status"] == Batch.Status.DRAFT
    assert conflict["persons"] == 3


def test_importing_a_resaved_roster_is_refused_unless_a_reason_is_given(
    monkeypatch, tmp_path, program
):
    use_roster(monkeypatch, roster([household_row(n) for n in range(3)]))
    import_roster(path=roster_file(tmp_path, salt="a"), program=program, period="2026-03")
    refused = import_roster(path=roster_file(tmp_path, salt="b"), program=program, period="2026-03")
    assert refused.status == "rejected"
    assert refused.errors[0]["code"] == "duplicate_content"
    assert Batch.objects.count() == 1 and Disbursement.objects.count() == 3

    allowed = import_roster(
        path=roster_file(tmp_path, salt="b"), program=program, period="2026-03",
        override_reason="同一批人的第二笔补贴",
    )  # fmt: skip
    assert allowed.status == "imported"
    assert Batch.objects.count() == 2


def test_a_file_whose_batch_was_withdrawn_can_be_imported_again(monkeypatch, tmp_path, program):
    use_roster(monkeypatch, roster([household_row(n) for n in range(3)]))
    path = roster_file(tmp_path)
    first = import_roster(path=path, program=program, period="2026-03")
    again = import_roster(path=path, program=program, period="2026-03")
    assert again.status == "duplicate"
    assert again.duplicate_of == {"id": first.batch, "status": Batch.Status.DRAFT}

    withdraw_batch(batch=Batch.objects.get(pk=first.batch))
    reimported = import_roster(path=path, program=program, period="2026-03")
    assert reimported.status == "imported" and reimported.batch != first.batch


@pytest.mark.parametrize(
    ("name", "title", "flagged"),
    [
        ("2026年3月耕地补贴.csv", "", False),
        ("2026年03月耕地补贴.csv", "", False),
        ("2026年4月耕地补贴.csv", "", True),
        ("roster-2025-03.csv", "", True),
        ("roster.csv", "城关镇2026年2月耕地地力保护补贴发放花名册", True),
        ("roster.csv", "城关镇2026年3月耕地地力保护补贴发放花名册", False),
        ("roster.csv", "城关镇2026年度耕地地力保护补贴", False),
    ],
)
def test_a_title_or_file_name_naming_another_month_is_a_warning(
    monkeypatch, tmp_path, program, name, title, flagged
):
    use_roster(monkeypatch, roster([household_row(1)], titles={"Sheet1": title}))
    report = import_roster(
        path=roster_file(tmp_path, name=name), program=program, period="2026-03", dry_run=True
    )
    warned = [w for w in report.warnings if w["code"] == "period_mismatch"]
    assert bool(warned) == flagged
    if warned:
        assert "2026-03" in warned[0]["message"]


# --- the staff pages ---------------------------------------------------------------------------


def _upload(client, program, content):
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.urls import reverse

    upload = SimpleUploadedFile("花名册.csv", content.encode(), content_type="text/csv")
    data = {"program": program.pk, "period": "2026-03", "township": "", "file": upload}
    client.post(reverse("funds:upload"), data)
    from funds.models import ImportJob

    return ImportJob.objects.order_by("-created_at").first()


def test_the_clerk_sees_the_repeat_and_must_give_a_reason_to_confirm(
    staff_client, monkeypatch, program
):
    from django.urls import reverse

    use_roster(monkeypatch, roster([household_row(n) for n in range(3)]))
    first = _upload(staff_client, program, "姓名,金额\n张三,1\n")
    staff_client.post(reverse("funds:job_confirm", args=[first.pk]), {"new_township": "on"})
    assert Batch.objects.count() == 1

    again = _upload(staff_client, program, "姓名,金额\n张三,1\n\n")  # saved again: other bytes
    page = staff_client.get(reverse("funds:job_detail", args=[again.pk])).content.decode()
    assert "可能重复发放" in page and f"#{Batch.objects.get().pk}" in page

    refused = staff_client.post(
        reverse("funds:job_confirm", args=[again.pk]), {"new_township": "on", "publish": "on"}
    )
    assert refused.status_code == 200 and "override_reason" in refused.context["form"].errors
    assert Batch.objects.count() == 1 and Disbursement.objects.count() == 3

    # A person of the roster, by their real name, and an ID number: neither may be kept.
    reason = f"第二季度补发，{person_name(0)} 身份证 110101199003071234"
    assert any(p.name_matches(person_name(0)) for p in Person.objects.all())
    staff_client.post(
        reverse("funds:job_confirm", args=[again.pk]),
        {"new_township": "on", "override_reason": reason},
    )
    again.refresh_from_db()
    assert again.status == "imported" and Batch.objects.count() == 2
    from funds.models import AuditEntry

    override = AuditEntry.objects.get(kind="override")
    assert override.batch_id == again.batch_id and override.username == "staff"
    assert "第二季度补发" in override.reason
    assert "110101199003071234" not in override.reason and person_name(0) not in override.reason
    assert override.details["repeats"] == [Batch.objects.order_by("id").first().pk]


def test_the_duplicate_message_says_where_the_earlier_batch_stands(monkeypatch, tmp_path, program):
    from funds.importing.jobs import duplicate_message

    use_roster(monkeypatch, roster([household_row(1)]))
    path = roster_file(tmp_path)
    first = import_roster(path=path, program=program, period="2026-03")
    publish_batch(batch=Batch.objects.get(pk=first.batch))
    message = duplicate_message(import_roster(path=path, program=program, period="2026-03"))
    assert f"#{first.batch}" in message and "公示中" in message


def test_an_import_published_at_once_compares_and_records_its_override_once(
    monkeypatch, tmp_path, program
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from funds.models import AuditEntry

    use_roster(monkeypatch, roster([household_row(n) for n in range(3)]))
    import_roster(path=roster_file(tmp_path, salt="a"), program=program, period="2026-03")
    with CaptureQueriesContext(connection) as queries:
        report = import_roster(
            path=roster_file(tmp_path, salt="b"), program=program, period="2026-03",
            publish=True, override_reason="补发",
        )  # fmt: skip
    assert report.status == "imported"
    assert AuditEntry.objects.filter(kind="override").count() == 1
    repeats = [q for q in queries.captured_queries if "GROUP BY" in q["sql"].upper()
               and q["sql"].startswith("SELECT COUNT(*)")]  # fmt: skip
    assert len(repeats) == 1, "the persons are compared once, not again at publication"
