"""The audit record: every staff act is appended once, with who, when, what and why; the
database refuses to change or delete an entry; the batch page lists its entries."""

from __future__ import annotations

import importlib
from datetime import date
from decimal import Decimal
from io import StringIO

import pytest
from django.core.exceptions import PermissionDenied
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction
from django.urls import reverse

from api.models import AuditorToken
from funds import audit, publishing
from funds.models import AuditEntry, Batch, MappingTemplate
from publicity.models import Objection
from tests.factories import id_number, make_batch, make_program, make_village

pytestmark = pytest.mark.django_db

PHONE = "13912345678"


def batch_in(township: str = "东乡镇", status: str = Batch.Status.PUBLICITY) -> Batch:
    village = make_village(f"{township}一村", township=township)
    batch = make_batch(
        make_program(), village, [("张三", id_number(1), Decimal("100.00"))], status=status
    )
    if status == Batch.Status.PUBLICITY:  # a period that has ended: it may be finalised
        Batch.objects.filter(pk=batch.pk).update(
            publicity_start=date(2026, 3, 2), publicity_end=date(2026, 3, 10)
        )
        batch.refresh_from_db()
    return batch


# --- Append-only -------------------------------------------------------------------------------


@pytest.fixture
def entry(staff_user):
    return audit.record(audit.Kind.PUBLISH, user=staff_user, reason="按时发布")


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE funds_auditentry SET reason = 'rewritten'",
        "UPDATE funds_auditentry SET username = 'someone else'",
        "DELETE FROM funds_auditentry",
    ],
)
def test_the_database_refuses_to_update_or_delete_an_entry(entry, sql):
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql)
    entry.refresh_from_db()
    assert (entry.reason, entry.username) == ("按时发布", "staff")


def test_the_orm_cannot_change_or_delete_an_entry_either(entry):
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEntry.objects.filter(pk=entry.pk).update(reason="x")
    with pytest.raises(DatabaseError), transaction.atomic():
        entry.delete()
    assert AuditEntry.objects.filter(pk=entry.pk, reason="按时发布").exists()


def test_the_migration_installs_the_guard_the_code_describes():
    migration = importlib.import_module("funds.migrations.0010_audit_and_permissions")
    assert migration.GUARD == audit.GUARD and migration.UNGUARD == audit.UNGUARD


def test_entries_outlive_the_user_and_the_draft_batch_they_name(django_user_model):
    clerk = django_user_model.objects.create_user("temp", is_staff=True, is_superuser=True)
    draft = batch_in(status=Batch.Status.DRAFT)
    publishing.withdraw_batch(batch=draft, user=clerk, reason="传错文件")
    batch_id = draft.pk
    draft.delete()  # DO_NOTHING: Django neither updates nor deletes the entry
    clerk.delete()
    entry = AuditEntry.objects.get()
    assert (entry.username, entry.batch_id, entry.reason) == ("temp", batch_id, "传错文件")


def test_a_reason_is_scrubbed_of_personal_numbers(staff_user):
    entry = audit.record(audit.Kind.WITHDRAW, user=staff_user, reason=f"联系人电话{PHONE}")
    assert PHONE not in entry.reason and "联系人电话" in entry.reason


def test_a_refused_act_leaves_no_entry(township_clerk):
    elsewhere = batch_in("西乡镇", Batch.Status.DRAFT)
    with pytest.raises(PermissionDenied):
        publishing.publish_batch(batch=elsewhere, user=township_clerk)
    assert not AuditEntry.objects.exists()


# --- Every act is recorded ---------------------------------------------------------------------


def test_publish_finalise_withdraw_and_correct_are_recorded_with_their_reasons(staff_client):
    batch = batch_in(status=Batch.Status.DRAFT)
    url = reverse("funds:batch_action", args=[batch.pk])
    staff_client.post(url, {"action": "publish", "confirmed": "yes"})
    staff_client.post(
        url, {"action": "withdraw", "confirmed": "yes", "reason": f"数据有误，经办人{PHONE}"}
    )
    other = batch_in("西乡镇")
    staff_client.post(
        reverse("funds:batch_action", args=[other.pk]), {"action": "finalize", "confirmed": "yes"}
    )
    publishing.correct_batch(
        original=other,
        changes={other.disbursements.get().pk: publishing.Replacement(amount=Decimal("90.00"))},
        source_name="c", source_sha256="c" * 64, user=None, reason="多发",
    )  # fmt: skip
    entries = list(AuditEntry.objects.order_by("id"))
    assert [(e.kind, e.batch_id) for e in entries] == [
        ("publish", batch.pk), ("withdraw", batch.pk), ("finalise", other.pk),
        ("correct", other.pk),
    ]  # fmt: skip
    assert entries[0].username == "staff" and entries[0].township_id == batch.township_id
    assert entries[1].reason.startswith("数据有误") and PHONE not in entries[1].reason
    assert entries[3].reason == "多发" and entries[3].object_id == str(
        entries[3].details["correction"]
    )


def test_withdrawing_from_the_page_asks_for_a_reason(staff_client):
    batch = batch_in()
    response = staff_client.post(
        reverse("funds:batch_action", args=[batch.pk]), {"action": "withdraw", "confirmed": "yes"}
    )
    batch.refresh_from_db()
    assert response.status_code == 302 and batch.status == Batch.Status.PUBLICITY
    assert not AuditEntry.objects.exists()


def test_the_correction_page_records_its_reason(staff_client):
    batch = batch_in()
    row = batch.disbursements.get()
    data = {
        "reason": "面积登记错误", "stamp": "2026-03-01T00:00:00+00:00",
        "rows-TOTAL_FORMS": "1", "rows-INITIAL_FORMS": "1",
        "rows-0-row": str(row.pk), "rows-0-amount": "80.00",
    }  # fmt: skip
    staff_client.post(reverse("funds:batch_correct_confirm", args=[batch.pk]), data)
    entry = AuditEntry.objects.get()
    assert (entry.kind, entry.batch_id, entry.reason) == ("correct", batch.pk, "面积登记错误")


def test_answering_an_objection_in_the_admin_is_recorded(staff_client):
    batch = batch_in()
    objection = Objection.objects.create(batch=batch, text="金额不对")
    url = reverse("admin:publicity_objection_change", args=[objection.pk])
    response = staff_client.post(url, {"status": "answered", "response": "已核实无误"})
    assert response.status_code == 302
    entry = AuditEntry.objects.get()
    assert (entry.kind, entry.batch_id, entry.object_id) == (
        "answer_objection",
        batch.pk,
        str(objection.pk),
    )
    assert entry.reason == "已核实无误" and entry.details == {"status": "answered"}


def test_mapping_template_changes_in_the_admin_are_recorded(staff_client):
    data = {"name": "模板", "signature": "s" * 16, "mapping": '{"实发": "amount"}', "program": ""}
    staff_client.post(reverse("admin:funds_mappingtemplate_add"), data)
    template = MappingTemplate.objects.get()
    change = reverse("admin:funds_mappingtemplate_change", args=[template.pk])
    staff_client.post(change, {**data, "name": "新模板"})
    delete = reverse("admin:funds_mappingtemplate_delete", args=[template.pk])
    staff_client.post(delete, {"post": "yes"})
    kinds = list(AuditEntry.objects.order_by("id").values_list("kind", "object_id"))
    assert kinds == [
        ("mapping_template_create", str(template.pk)),
        ("mapping_template_change", str(template.pk)),
        ("mapping_template_delete", str(template.pk)),
    ]


def test_issuing_and_revoking_tokens_is_recorded(staff_user, auditor, staff_client):
    call_command("issue_auditor_token", "shenji", "--by", "staff",
                 stdout=StringIO(), stderr=StringIO())  # fmt: skip
    token = AuditorToken.objects.get()
    call_command("revoke_auditor_token", token.prefix, "--by", "staff", stdout=StringIO())
    token2, _key = AuditorToken.objects.issue(user=auditor, days=1)
    staff_client.post(
        reverse("admin:api_auditortoken_changelist"),
        {"action": "revoke", "_selected_action": [token2.pk]},
    )
    token2.refresh_from_db()
    assert token2.revoked_at is not None
    kinds = list(AuditEntry.objects.order_by("id").values_list("kind", "object_id", "username"))
    assert kinds == [
        ("token_issue", str(token.pk), "staff"),
        ("token_revoke", str(token.pk), "staff"),
        ("token_revoke", str(token2.pk), "staff"),
    ]
    first = AuditEntry.objects.order_by("id").first()
    assert first.details == {
        "prefix": token.prefix, "holder": auditor.pk, "days": 90, "created": False,
    }  # fmt: skip


def test_maintenance_commands_record_their_operator(staff_user):
    call_command("remask_ids", "--by", "staff", verbosity=0)
    call_command("purge_import_files", "--by", "值班员", stdout=StringIO())
    entries = list(AuditEntry.objects.order_by("id"))
    assert [(e.kind, e.username, e.user_id, e.details["command"]) for e in entries] == [
        ("maintenance", "staff", staff_user.pk, "remask_ids"),
        ("maintenance", "值班员", None, "purge_import_files"),
    ]


# --- Shown on the batch page -------------------------------------------------------------------


def test_the_batch_page_lists_its_entries_newest_first(staff_client):
    batch = batch_in(status=Batch.Status.DRAFT)
    url = reverse("funds:batch_action", args=[batch.pk])
    staff_client.post(url, {"action": "publish", "confirmed": "yes"})
    staff_client.post(url, {"action": "withdraw", "confirmed": "yes", "reason": "重复上传"})
    page = staff_client.get(reverse("funds:batch_detail", args=[batch.pk])).content.decode()
    log = page[page.index("操作记录") :]
    assert "重复上传" in log and "staff" in log
    assert log.index("撤回") < log.index("发布"), "newest first"


def test_the_batch_page_pages_a_long_record(staff_client, staff_user):
    batch = batch_in()
    for n in range(55):
        audit.record(audit.Kind.OVERRIDE, user=staff_user, batch=batch, reason=f"第{n}次")
    page = staff_client.get(reverse("funds:batch_detail", args=[batch.pk])).content.decode()
    assert "第54次" in page and "第4次" not in page and "?log=2" in page
    older = staff_client.get(reverse("funds:batch_detail", args=[batch.pk]) + "?log=2")
    assert "第4次" in older.content.decode()
