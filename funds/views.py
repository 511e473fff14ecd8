"""Staff pages: upload a roster, follow its check, preview, confirm, publish batches.

Every page shows only the user's places (``funds.access``): another township's job or batch
is a 404, as if it did not exist; an act the user may not do where they may look is a 403.
"""

from __future__ import annotations

from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.storage import default_storage
from django.core.paginator import Paginator
from django.db import IntegrityError
from django.http import FileResponse, Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from funds import access, duplicates, payments, publishing, workdays
from funds.forms import (
    BatchActionForm,
    ConfirmForm,
    CorrectionForm,
    CorrectionSearchForm,
    ImportUploadForm,
    MappingForm,
    PaymentReturnConfirmForm,
    PaymentReturnUploadForm,
    selected_ids,
)
from funds.importing import anomalies, jobs, tasks
from funds.models import AuditEntry, Batch, ImportJob
from villages.models import Township

#: How many audit entries the batch page lists, newest first.
AUDIT_ROWS = 50
RUNNING = {ImportJob.Status.PENDING, ImportJob.Status.PARSING, ImportJob.Status.IMPORTING}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def staff_only(view):
    """Let staff in; send anonymous users to log in and refuse everyone else."""

    @login_required
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not request.user.is_staff:
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapped


@require_GET
@staff_only
def job_list(request):
    jobs = _jobs(request.user).order_by("-created_at")
    page = Paginator(jobs, 25).get_page(request.GET.get("page"))
    return render(request, "funds/job_list.html", {"page": page})


@require_http_methods(["GET", "POST"])
@staff_only
def upload(request):
    access.require(request.user, "funds.upload_roster", placed=False)
    form = ImportUploadForm(request.POST or None, request.FILES or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        job = tasks.create_job(
            upload=form.cleaned_data["file"], program=form.cleaned_data["program"],
            period=form.cleaned_data["period"], township=form.cleaned_data["township"],
            user=request.user,
        )  # fmt: skip
        return redirect("funds:job_detail", pk=job.pk)
    return render(request, "funds/upload.html", {"form": form})


def _jobs(user):
    """Return the import jobs USER may see: those of their townships."""
    jobs = ImportJob.objects.select_related("program", "batch")
    return access.scope(user, jobs, perm="funds.view_importjob", via="township_name", by="name")


def _job(request, pk, perm: str = "") -> ImportJob:
    """Return a job of the user's places (else 404), refusing (403) unless they may do PERM."""
    job = get_object_or_404(_jobs(request.user), pk=pk)
    if perm:
        access.require(request.user, perm, _township_of(job))
    return job


def _township_of(job: ImportJob) -> int | None:
    if job.batch_id:
        return job.batch.township_id
    return Township.objects.filter(name=job.township_name).values_list("pk", flat=True).first()


def _confirm_options(report: dict) -> dict:
    """What confirming a checked roster needs a yes for: repeats, anomalies, a new township."""
    return {
        "conflicts": report.get("conflicts"),
        "anomalies": report.get("anomalies"),
        "new_townships": report.get("new_townships"),
    }


def _job_page(
    request,
    job: ImportJob,
    mapping_form: MappingForm | None = None,
    confirm_form: ConfirmForm | None = None,
):
    """Render a job's page; a job waiting for mapping gets its mapping form."""
    if mapping_form is None and job.status == ImportJob.Status.NEEDS_MAPPING:
        mapping_form = MappingForm(job=job)
    report = job.report or {}
    if confirm_form is None:
        confirm_form = ConfirmForm(**_confirm_options(report))
    context = {"job": job, "report": report, "running": job.status in RUNNING}
    context |= {"form": confirm_form, "mapping_form": mapping_form}
    # Warnings that are anomalies are listed with them, to be ticked; the rest are hints.
    context["hints"] = [
        w for w in report.get("warnings", []) if w.get("code") not in anomalies.MISMATCH_CODES
    ]
    context["discardable"] = [str(status) for status in jobs.DISCARDABLE]
    context["retryable"] = jobs.can_retry(job)
    return render(request, "funds/job_detail.html", context)


@require_GET
@staff_only
def job_detail(request, pk):
    return _job_page(request, _job(request, pk))


@require_POST
@staff_only
def job_mapping(request, pk):
    job = _job(request, pk, "funds.upload_roster")
    form = MappingForm(request.POST, job=job)
    if not form.is_valid():
        return _job_page(request, job, form)
    queued = tasks.request_mapping(
        job=job, mapping=form.mapping(), template_name=form.template_to_save(), user=request.user
    )
    if not queued:
        messages.error(request, _("该任务当前不需要指定列"))
    return redirect("funds:job_detail", pk=job.pk)


@require_POST
@staff_only
def job_abandon(request, pk):
    job = _job(request, pk, "funds.upload_roster")
    if not jobs.abandon_job(job=job):
        messages.error(request, _("该任务已导入、正在处理或已放弃，不能再放弃"))
    return redirect("funds:job_detail", pk=job.pk)


@require_POST
@staff_only
def job_retry(request, pk):
    job = _job(request, pk)
    if not tasks.request_retry(job=job, user=request.user):
        messages.error(request, _("只有中断或出错、且数据仍保留的任务才能重试；该任务不能重试"))
    return redirect("funds:job_detail", pk=job.pk)


@require_GET
@staff_only
def job_status(request, pk):
    job = _job(request, pk)
    return JsonResponse(
        {
            "status": job.status,
            "status_display": job.get_status_display(),
            "progress": job.progress,
            "message": job.message,
            "done": job.status not in RUNNING,
            "url": reverse("funds:job_detail", args=[job.pk]),
        }
    )


@require_POST
@staff_only
def job_confirm(request, pk):
    job = _job(request, pk, "funds.confirm_import")
    report = job.report or {}
    form = ConfirmForm(request.POST, **_confirm_options(report))
    if not form.is_valid():
        return _job_page(request, job, confirm_form=form)
    publish = form.cleaned_data["publish"]
    if publish:
        access.require(request.user, "funds.publish_batch", _township_of(job))
    confirmed = tasks.request_confirm(
        job=job, publish=publish, user=request.user,
        override_reason=form.cleaned_data["override_reason"],
        acknowledged=form.acknowledged(),
    )  # fmt: skip
    if not confirmed:
        messages.error(request, _("该任务当前不能确认导入"))
    return redirect("funds:job_detail", pk=job.pk)


@require_GET
@staff_only
def job_error_report(request, pk):
    job = _job(request, pk)
    name = (job.report or {}).get("error_report")
    if not name or not default_storage.exists(name):
        raise Http404
    filename = f"校验结果-{job.original_name.rsplit('.', 1)[0]}.xlsx"
    response = FileResponse(default_storage.open(name, "rb"), as_attachment=True, filename=filename)
    response["Content-Type"] = XLSX
    return response


@require_GET
@staff_only
def batch_list(request):
    batches = _batches(request.user).order_by("-created_at", "-id")
    page = Paginator(batches, 25).get_page(request.GET.get("page"))
    return render(request, "funds/batch_list.html", {"page": page})


@require_GET
@staff_only
def batch_detail(request, pk):
    batch = get_object_or_404(_batches(request.user).select_related("corrects"), pk=pk)
    rows = batch.disbursements.select_related("person", "village", "payee").order_by("id")[:50]
    corrections = batch.corrections.order_by("id")
    returns = batch.payment_returns.select_related("created_by")
    entries = AuditEntry.objects.filter(batch=batch).order_by("-at", "-id")
    audit = Paginator(entries, AUDIT_ROWS).get_page(request.GET.get("log"))
    context = {"batch": batch, "rows": rows, "corrections": corrections, "returns": returns}
    context |= {"audit": audit, "withdraw_form": BatchActionForm(initial={"action": "withdraw"})}
    return render(request, "funds/batch_detail.html", context)


ACTIONS = {
    "publish": publishing.publish_batch,
    "finalize": publishing.finalize_batch,
    "withdraw": publishing.withdraw_batch,
}
PERMISSIONS = {
    "publish": "funds.publish_batch",
    "finalize": "funds.finalize_batch",
    "withdraw": "funds.withdraw_batch",
}


@require_GET
@staff_only
def batch_confirm(request, pk, action):
    """The second look before an act: what it will do, what it repeats, why (for withdrawal)."""
    if action not in ACTIONS:
        raise Http404
    batch = get_object_or_404(_batches(request.user), pk=pk)
    access.require(request.user, PERMISSIONS[action], batch.township_id)
    context = {"batch": batch, "action": action}
    context["form"] = BatchActionForm(initial={"action": action})
    if action == "publish":
        today = timezone.localdate()
        days = settings.SUNLIGHT_PUBLICITY_DAYS
        context |= {"start": today, "end": workdays.add_workdays(today, days), "days": days}
        context["found"] = duplicates.for_batch(batch)
    return render(request, "funds/batch_action_confirm.html", context)


@require_POST
@staff_only
def batch_action(request, pk):
    batch = get_object_or_404(_batches(request.user), pk=pk)
    form = BatchActionForm(request.POST)
    action = request.POST.get("action", "")
    if action in ACTIONS and not request.POST.get("confirmed"):
        # An act is made only from its confirmation page: an old one-click form lands there.
        return redirect("funds:batch_confirm", pk=pk, action=action)
    if not form.is_valid():
        messages.error(request, " ".join(e for errors in form.errors.values() for e in errors))
        if action in ACTIONS:
            return redirect("funds:batch_confirm", pk=pk, action=action)
        return redirect("funds:batch_detail", pk=pk)
    extra = {}
    if action == "withdraw":
        extra["reason"] = form.cleaned_data["reason"]
    elif action == "publish":
        extra["override_reason"] = form.cleaned_data["override_reason"]
    try:
        ACTIONS[action](batch=batch, user=request.user, **extra)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("funds:batch_confirm", pk=pk, action=action)
    messages.success(request, _("批次状态已更新为“%s”") % batch.get_status_display())
    return redirect("funds:batch_detail", pk=pk)


def _batches(user):
    """Return the batches USER may see: those of their townships."""
    batches = Batch.objects.select_related("program", "township")
    return access.scope(user, batches, perm="funds.view_batch")


def _batch(request, pk: int) -> Batch:
    """Return a batch of the user's places (else 404) that they may correct (else 403)."""
    batch = get_object_or_404(_batches(request.user), pk=pk)
    access.require(request.user, "funds.correct_batch", batch.township_id)
    return batch


@require_http_methods(["GET", "POST"])
@staff_only
def batch_correct(request, pk):
    batch = _batch(request, pk)
    search = CorrectionSearchForm(request.POST or request.GET)
    selected = selected_ids((request.POST or request.GET).getlist("sel"))
    if request.method == "POST" and search.is_valid():
        # A real name or ID number is posted, never put in a URL: go on with its keyed hash.
        url = reverse("funds:batch_correct", args=[batch.pk])
        return redirect(f"{url}?{search.query(selected)}")
    rows = search.filter(batch.disbursements.filter(is_reversal=False))
    rows = rows.select_related("person", "village").order_by("id")
    page = Paginator(rows, 25).get_page(request.GET.get("page"))
    form = CorrectionForm(batch=batch, ids=selected)
    context = {"batch": batch, "search": search, "page": page, "form": form}
    return render(request, "funds/batch_correct.html", context)


@require_POST
@staff_only
def batch_correct_preview(request, pk):
    batch = _batch(request, pk)
    form = CorrectionForm(request.POST, batch=batch)
    if "edit" in request.POST or not form.is_valid():
        return render(request, "funds/batch_correct.html", {"batch": batch, "form": form})
    return render(request, "funds/batch_correct_preview.html", {"batch": batch, "form": form})


@require_POST
@staff_only
def batch_correct_confirm(request, pk):
    batch = _batch(request, pk)
    form = CorrectionForm(request.POST, batch=batch)
    correction = _create_correction(form, request.user) if form.is_valid() else None
    if correction is None:
        return render(request, "funds/batch_correct.html", {"batch": batch, "form": form})
    messages.success(request, _("已生成更正批次（草稿）。请核对后发布。"))
    return redirect("funds:batch_detail", pk=correction.pk)


def _create_correction(form: CorrectionForm, user) -> Batch | None:
    """Create the correction batch of a valid form; on refusal put the reason on the form."""
    sha = form.source_sha256()
    name = _("更正-%(name)s") % {"name": form.batch.source_name}
    try:
        return publishing.correct_batch(
            original=form.batch, changes=form.changes(), source_name=name,
            source_sha256=sha, user=user, reason=form.cleaned_data["reason"],
        )  # fmt: skip
    except ValidationError as error:
        form.add_error(None, error)
    except IntegrityError:
        # The same confirmation sent twice at once: the first one made the batch. A batch by
        # that fingerprint that has been withdrawn is an old page sent again: refuse it.
        existing = (
            Batch.objects.filter(source_sha256=sha).exclude(status=Batch.Status.WITHDRAWN).first()
        )
        if existing is None:
            form.add_error(None, _("这份更正已经提交过；请重新打开更正页面"))
        return existing
    return None


def _returns_batch(request, pk: int) -> Batch:
    """Return a batch of the user's places (else 404) they may record results of (else 403)."""
    batch = get_object_or_404(_batches(request.user), pk=pk)
    access.require(request.user, "funds.record_payment_results", batch.township_id)
    return batch


def _returns_refused(request, batch: Batch):
    """Refuse a return file for a batch the public does not see: drafts and withdrawn ones."""
    context = {"batch": batch, "refused": True}
    return render(request, "funds/batch_returns.html", context, status=403)


@require_http_methods(["GET", "POST"])
@staff_only
def batch_returns(request, pk):
    batch = _returns_batch(request, pk)
    if not batch.is_public:
        return _returns_refused(request, batch)
    form = PaymentReturnUploadForm(request.POST or None, request.FILES or None)
    check = confirm = None
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        check = payments.check_return(batch=batch, data=upload.read(), filename=upload.name)
        if check.ok():
            confirm = PaymentReturnConfirmForm.for_check(batch=batch, check=check)
    context = {"batch": batch, "form": form, "check": check, "confirm": confirm}
    return render(request, "funds/batch_returns.html", context)


@require_POST
@staff_only
def batch_returns_confirm(request, pk):
    batch = _returns_batch(request, pk)
    if not batch.is_public:
        return _returns_refused(request, batch)
    form = PaymentReturnConfirmForm(request.POST, batch=batch)
    try:
        if not form.is_valid():
            raise ValidationError(form.errors["staged"])
        payments.record_payment_results(batch=batch, user=request.user, **form.staged_values())
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("funds:batch_returns", pk=pk)
    messages.success(request, _("银行回盘文件已导入：发放失败和重发记录已添加"))
    return redirect("funds:batch_detail", pk=pk)
