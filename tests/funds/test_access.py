"""Who may do what where: each forbidden act is refused (403 or 404) and changes nothing.

Townships (tests/conftest.py): 东乡镇 and 西乡镇 in 甲县, 远山镇 in 乙县. The township clerk works
in 东乡镇, the county clerk in all of 甲县; a staff account with no permission works nowhere.
Another township's job or batch is a 404 (it is not shown to exist); an act the user may not do
on what they may see is a 403.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from io import StringIO

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse

from api.models import AuditorToken
from funds import access, publishing
from funds.importing import tasks
from funds.models import AuditEntry, Batch, ImportJob, MappingTemplate
from publicity.models import Objection
from tests.factories import id_number, make_batch, make_program, make_village
from tests.funds.importing.support import (
    household_row,
    roster,
    roster_file,
    table_counts,
    use_roster,
)

pytestmark = pytest.mark.django_db


def state() -> dict:
    """Everything a refused act could have changed."""
    counts = table_counts()
    counts.pop("sessions.Session")  # signing in is not an act on the data
    counts.pop("axes.AccessLog")  # nor is the login record django-axes keeps
    return {
        "counts": counts,
        "batches": list(Batch.objects.order_by("pk").values_list("pk", "status", "title")),
        "jobs": list(ImportJob.objects.order_by("pk").values_list("pk", "status", "batch")),
        "objections": list(Objection.objects.values_list("pk", "status", "response")),
        "templates": list(MappingTemplate.objects.values_list("pk", "name", "mapping")),
        "tokens": list(AuditorToken.objects.values_list("pk", "revoked_at")),
    }


def batch_in(township: str, status: str = Batch.Status.PUBLICITY, n: int = 1) -> Batch:
    village = make_village(f"{township}一村", township=township)
    batch = make_batch(
        make_program(), village, [(f"张{n}", id_number(n), Decimal("100.00"))], status=status
    )
    if status == Batch.Status.PUBLICITY:  # a period that has ended: it may be finalised
        Batch.objects.filter(pk=batch.pk).update(
            publicity_start=date(2026, 3, 2), publicity_end=date(2026, 3, 10)
        )
        batch.refresh_from_db()
    return batch


def login(client, user):
    client.force_login(user)
    return client


# --- Places -----------------------------------------------------------------------------------


def test_each_role_acts_in_its_own_places(
    townships, township_clerk, county_clerk, powerless_staff, auditor, staff_user
):
    def names(user) -> set[str]:
        return set(access.townships_for(user).values_list("name", flat=True))

    assert names(staff_user) == {"东乡镇", "西乡镇", "远山镇"}
    assert names(county_clerk) == {"东乡镇", "西乡镇"}
    assert names(township_clerk) == {"东乡镇"}
    assert names(powerless_staff) == names(auditor) == set()
    township_clerk.is_active = False
    assert names(township_clerk) == set(), "a disabled account acts nowhere"


def test_can_needs_both_the_permission_and_the_place(townships, township_clerk, county_clerk):
    east, west = townships["东乡镇"], townships["西乡镇"]
    assert access.can(township_clerk, "funds.publish_batch", east)
    assert not access.can(township_clerk, "funds.publish_batch", west), "not his township"
    assert not access.can(township_clerk, "funds.finalize_batch", east), "not his permission"
    assert access.can(county_clerk, "funds.finalize_batch", west)
    assert not access.can(county_clerk, "funds.publish_batch", townships["远山镇"])
    assert not access.can(township_clerk, "funds.publish_batch", None), "a place is needed"
    with pytest.raises(PermissionDenied):
        access.require(township_clerk, "funds.publish_batch", west)


def test_the_roles_are_set_up_idempotently_with_their_permissions():
    access.setup_roles()
    assert access.setup_roles() == 0, "every permission the roles name exists"
    for name, perms in access.ROLES.items():
        group = Group.objects.get(name=name)
        held = {f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.all()}
        assert held == set(perms)
    assert Permission.objects.filter(codename="record_payment_results").exists()
    assert "api.add_auditortoken" not in access.ROLES[access.COUNTY_STAFF_GROUP]


# --- A staff account with no permission can do nothing -----------------------------------------


def test_a_staff_account_without_permission_sees_nothing_and_may_do_nothing(
    client, powerless_staff, townships
):
    batch = batch_in("东乡镇", Batch.Status.DRAFT)
    login(client, powerless_staff)
    before = state()
    assert client.get(reverse("funds:upload")).status_code == 403
    assert "东乡镇一村" not in client.get(reverse("funds:batch_list")).content.decode()
    assert client.get(reverse("funds:batch_detail", args=[batch.pk])).status_code == 404
    for action in ("publish", "withdraw", "finalize"):
        response = client.post(
            reverse("funds:batch_action", args=[batch.pk]), {"action": action, "reason": "x"}
        )
        assert response.status_code == 404
    assert client.get(reverse("admin:funds_batch_changelist")).status_code == 403
    assert state() == before


# --- Uploads and imports -----------------------------------------------------------------------


def upload(client, township: str):
    data = {
        "program": make_program().pk,
        "period": "2026-03",
        "township": township,
        "file": SimpleUploadedFile("花名册.csv", "姓名,金额\n张三,1\n".encode()),
    }
    return client.post(reverse("funds:upload"), data)


def test_the_upload_form_offers_only_the_clerks_townships(client, township_clerk, townships):
    page = login(client, township_clerk).get(reverse("funds:upload")).content.decode()
    assert "东乡镇" in page and "西乡镇" not in page and "远山镇" not in page


@pytest.mark.parametrize("township", ["西乡镇", "远山镇", "", "新的镇"])
def test_uploading_to_another_township_is_refused(client, township_clerk, township, monkeypatch):
    use_roster(monkeypatch, roster([household_row(1)]))
    login(client, township_clerk)
    make_program()
    before = state()
    response = upload(client, township)
    assert response.status_code == 200 and "township" in response.context["form"].errors
    assert state() == before


def test_creating_a_job_for_another_township_is_refused_below_the_form(township_clerk):
    make_program()
    before = state()
    upload_file = SimpleUploadedFile("花名册.csv", b"x,y\n1,2\n")
    with pytest.raises(PermissionDenied):
        tasks.create_job(
            upload=upload_file, program=make_program(), period="2026-03", township="西乡镇",
            user=township_clerk,
        )  # fmt: skip
    assert state() == before


def test_a_roster_naming_another_township_is_not_loaded(client, township_clerk, monkeypatch):
    """The form says 东乡镇, but a job of 城关镇 (say, made before the places) is another's."""
    use_roster(monkeypatch, roster([household_row(1)]))
    job = ImportJob.objects.create(
        program=make_program(), period="2026-03", township_name="城关镇",
        original_name="x.csv", sha256="0" * 64, status=ImportJob.Status.READY,
    )  # fmt: skip
    login(client, township_clerk)
    before = state()
    assert client.get(reverse("funds:job_detail", args=[job.pk])).status_code == 404
    assert (
        client.post(
            reverse("funds:job_confirm", args=[job.pk]),
            {"new_township": "on"},
        ).status_code
        == 404
    )
    assert client.post(reverse("funds:job_abandon", args=[job.pk])).status_code == 404
    assert "x.csv" not in client.get(reverse("funds:job_list")).content.decode()
    assert state() == before


def test_the_clerk_uploads_and_confirms_in_his_township(client, township_clerk, monkeypatch):
    use_roster(monkeypatch, roster([household_row(n) for n in range(3)]))
    login(client, township_clerk)
    response = upload(client, "东乡镇")
    job = ImportJob.objects.get()
    assert response.status_code == 302 and job.status == ImportJob.Status.READY
    client.post(
        reverse("funds:job_confirm", args=[job.pk]), {"new_township": "on", "publish": "on"}
    )
    job.refresh_from_db()
    assert job.batch.township.name == "东乡镇" and job.batch.status == Batch.Status.PUBLICITY
    kinds = list(AuditEntry.objects.order_by("id").values_list("kind", "username"))
    assert kinds == [("upload", "dong"), ("confirm", "dong"), ("publish", "dong")]


def test_confirming_without_the_publish_permission_cannot_publish(
    client, township_clerk, monkeypatch
):
    township_clerk.groups.clear()
    township_clerk.user_permissions.add(
        *Permission.objects.filter(
            codename__in=["view_importjob", "upload_roster", "confirm_import"]
        )
    )
    use_roster(monkeypatch, roster([household_row(1)]))
    login(client, township_clerk)
    upload(client, "东乡镇")
    job = ImportJob.objects.get()
    before = state()
    response = client.post(
        reverse("funds:job_confirm", args=[job.pk]), {"new_township": "on", "publish": "on"}
    )
    assert response.status_code == 403
    assert state() == before


# --- Acts on batches ---------------------------------------------------------------------------

ACTS = {
    "publish": (Batch.Status.DRAFT, lambda b, u: publishing.publish_batch(batch=b, user=u)),
    "withdraw": (Batch.Status.PUBLICITY, lambda b, u: publishing.withdraw_batch(batch=b, user=u)),
    "finalize": (Batch.Status.PUBLICITY, lambda b, u: publishing.finalize_batch(batch=b, user=u)),
    "correct": (
        Batch.Status.PUBLICITY,
        lambda b, u: publishing.correct_batch(
            original=b,
            changes={b.disbursements.get().pk: publishing.Replacement(amount=Decimal("1.00"))},
            source_name="c",
            source_sha256="c" * 64,
            user=u,
        ),
    ),
}


@pytest.mark.parametrize("act", ACTS)
def test_acting_on_another_townships_batch_is_refused(township_clerk, county_clerk, act):
    status, do = ACTS[act]
    elsewhere = batch_in("西乡镇", status)
    far = batch_in("远山镇", status, n=2)
    before = state()
    with pytest.raises(PermissionDenied):
        do(elsewhere, township_clerk)
    with pytest.raises(PermissionDenied):
        do(far, county_clerk)
    assert state() == before


@pytest.mark.parametrize("act", ["publish", "withdraw", "finalize"])
def test_the_batch_page_of_another_township_is_a_404_and_its_acts_change_nothing(
    client, township_clerk, act
):
    status, _do = ACTS[act]
    elsewhere = batch_in("西乡镇", status)
    login(client, township_clerk)
    before = state()
    assert client.get(reverse("funds:batch_detail", args=[elsewhere.pk])).status_code == 404
    response = client.post(
        reverse("funds:batch_action", args=[elsewhere.pk]), {"action": act, "reason": "错了"}
    )
    assert response.status_code == 404
    assert state() == before


def test_correcting_another_townships_batch_is_refused(client, township_clerk):
    elsewhere = batch_in("西乡镇")
    row = elsewhere.disbursements.get()
    login(client, township_clerk)
    before = state()
    assert client.get(reverse("funds:batch_correct", args=[elsewhere.pk])).status_code == 404
    data = {
        "reason": "金额错误", "stamp": "2026-03-01T00:00:00+00:00",
        "rows-TOTAL_FORMS": "1", "rows-INITIAL_FORMS": "1",
        "rows-0-row": str(row.pk), "rows-0-amount": "1.00",
    }  # fmt: skip
    url = reverse("funds:batch_correct_confirm", args=[elsewhere.pk])
    assert client.post(url, data).status_code == 404
    assert state() == before


def test_finalising_needs_the_permission_even_in_ones_township(client, township_clerk):
    mine = batch_in("东乡镇")
    login(client, township_clerk)
    before = state()
    response = client.post(
        reverse("funds:batch_action", args=[mine.pk]), {"action": "finalize", "confirmed": "yes"}
    )
    assert response.status_code == 403
    assert state() == before


def test_the_county_clerk_finalises_in_any_township_of_the_county(client, county_clerk):
    west = batch_in("西乡镇")
    login(client, county_clerk)
    client.post(
        reverse("funds:batch_action", args=[west.pk]), {"action": "finalize", "confirmed": "yes"}
    )
    west.refresh_from_db()
    assert west.status == Batch.Status.FINAL
    assert AuditEntry.objects.get().username == "jiaxian"


def test_lists_show_only_the_users_places(client, township_clerk, county_clerk):
    batch_in("东乡镇"), batch_in("西乡镇", n=2), batch_in("远山镇", n=3)

    def listed(user) -> set[str]:
        login(client, user)
        page = client.get(reverse("funds:batch_list"))
        return {b.township.name for b in page.context["page"].object_list}

    assert listed(township_clerk) == {"东乡镇"}
    assert listed(county_clerk) == {"东乡镇", "西乡镇"}


# --- Admin -------------------------------------------------------------------------------------


def test_admin_change_and_delete_of_another_places_batch_are_refused(client, township_clerk):
    township_clerk.user_permissions.add(
        *Permission.objects.filter(codename__in=["change_batch", "delete_batch"])
    )
    mine, elsewhere = (
        batch_in("东乡镇", Batch.Status.DRAFT),
        batch_in("西乡镇", Batch.Status.DRAFT, n=2),
    )
    login(client, township_clerk)
    changelist = client.get(reverse("admin:funds_batch_changelist"))
    assert list(changelist.context["cl"].result_list) == [mine]
    before = state()
    change = reverse("admin:funds_batch_change", args=[elsewhere.pk])
    delete = reverse("admin:funds_batch_delete", args=[elsewhere.pk])
    assert client.post(change, {"title": "改了"}).status_code in (302, 403, 404)
    assert client.post(delete, {"post": "yes"}).status_code in (302, 403, 404)
    assert state() == before


def test_answering_an_objection_elsewhere_is_refused(client, township_clerk):
    elsewhere = batch_in("西乡镇")
    objection = Objection.objects.create(batch=elsewhere, text="金额不对")
    login(client, township_clerk)
    changelist = client.get(reverse("admin:publicity_objection_changelist"))
    assert objection not in changelist.context["cl"].result_list
    before = state()
    url = reverse("admin:publicity_objection_change", args=[objection.pk])
    response = client.post(url, {"status": "answered", "response": "已核实"})
    assert response.status_code in (302, 403, 404)
    assert state() == before


def test_changing_a_mapping_template_needs_the_permission(client, powerless_staff, township_clerk):
    template = MappingTemplate.objects.create(
        name="模板", signature="s" * 16, mapping={"实发": "amount"}
    )
    change = reverse("admin:funds_mappingtemplate_change", args=[template.pk])
    delete = reverse("admin:funds_mappingtemplate_delete", args=[template.pk])
    before = state()
    login(client, powerless_staff)
    data = {"name": "改名", "signature": "s" * 16, "mapping": '{"实发": "amount"}'}
    assert client.post(change, data).status_code == 403
    login(client, township_clerk)  # may change templates, not delete them
    assert client.post(delete, {"post": "yes"}).status_code == 403
    assert state() == before


# --- Commands ----------------------------------------------------------------------------------


def test_import_command_with_a_user_lacking_the_place_writes_nothing(
    township_clerk, monkeypatch, tmp_path
):
    use_roster(monkeypatch, roster([household_row(1)]))  # the roster names 城关镇
    program = make_program()
    before = state()
    common = ["--program", program.name, "--period", "2026-03", "--user", "dong"]
    for extra in (["--township", "西乡镇"], []):
        with pytest.raises(CommandError) as refused:
            call_command("import_payments", str(roster_file(tmp_path)), *common, *extra,
                         stdout=StringIO(), stderr=StringIO())  # fmt: skip
        assert refused.value.returncode == 3
    assert state() == before


def test_import_command_refuses_an_unknown_or_powerless_user(powerless_staff, tmp_path):
    program = make_program()
    before = state()
    for username in ("ghost", "nobody"):
        with pytest.raises(CommandError):
            call_command("import_payments", str(roster_file(tmp_path)), "--program",
                         program.name, "--period", "2026-03", "--user", username,
                         stdout=StringIO(), stderr=StringIO())  # fmt: skip
    assert state() == before


def test_issuing_or_revoking_a_token_without_permission_is_refused(
    township_clerk, auditor, staff_user
):
    before = state()
    with pytest.raises(CommandError):
        call_command("issue_auditor_token", "shenji", "--by", "dong",
                     stdout=StringIO(), stderr=StringIO())  # fmt: skip
    assert state() == before
    call_command("issue_auditor_token", "shenji", "--by", "staff",
                 stdout=StringIO(), stderr=StringIO())  # fmt: skip
    token = AuditorToken.objects.get()
    before = state()
    with pytest.raises(CommandError):
        call_command("revoke_auditor_token", token.prefix, "--by", "dong", stdout=StringIO())
    assert state() == before
