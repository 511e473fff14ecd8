"""Staff admin over programs, batches, disbursements, import jobs, column mapping templates
and the audit record.

Batches, rows and jobs are listed only in the user's places (``villages.admin.PlaceScopedAdmin``).
Mapping templates are changed with Django's model permissions, and every change is recorded;
the audit record is read-only.
"""

from django import forms
from django.contrib import admin
from django.db import transaction
from django.utils.translation import gettext_lazy as _
from import_export.admin import ImportExportModelAdmin

from funds import audit
from funds.importing.mapping import field_label, targets
from funds.models import AuditEntry, Batch, Disbursement, ImportJob, MappingTemplate, Program
from funds.resources import ProgramResource
from villages.admin import PlaceScopedAdmin
from villages.models import Township


@admin.register(Program)
class ProgramAdmin(ImportExportModelAdmin):
    resource_classes = [ProgramResource]
    list_display = ["name", "category", "funding_level", "rate", "unit", "is_builtin"]
    list_filter = ["category", "funding_level", "is_builtin"]
    search_fields = ["name", "department"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(Batch)
class BatchAdmin(PlaceScopedAdmin):
    list_display = [
        "program",
        "period",
        "township",
        "status",
        "row_count",
        "total_amount",
        "publicity_end",
    ]
    list_filter = ["status", "program", "township"]
    list_select_related = ["program", "township"]
    search_fields = ["source_name", "source_sha256", "title"]

    # Batches come from imports and corrections; their status moves through the staff batch
    # page (funds.publishing), which checks what may follow what. Here only the title may be
    # edited, and only a draft, which the public has never seen, may be deleted.
    def get_readonly_fields(self, request, obj=None) -> list[str]:
        return [f.name for f in Batch._meta.concrete_fields if f.name not in ("id", "title")]

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return (
            obj is not None
            and obj.status == Batch.Status.DRAFT
            and super().has_delete_permission(request, obj)
        )


@admin.register(Disbursement)
class DisbursementAdmin(PlaceScopedAdmin):
    # The row's own name (as its roster wrote it) beside the person (first name stored).
    list_display = [
        "name_masked", "person", "program", "period", "village", "amount", "status", "pay_date",
    ]  # fmt: skip
    list_filter = ["status", "program", "is_reversal"]
    list_select_related = ["person", "program", "village"]
    exclude = ["account_hash", "name_hash"]
    show_full_result_count = False
    place_field = "batch__township"

    # Rows come from imports and corrections only: editing, adding or deleting one here would
    # rewrite published history and leave its batch's totals wrong.
    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(ImportJob)
class ImportJobAdmin(PlaceScopedAdmin):
    list_display = ["original_name", "program", "period", "status", "progress", "created_at"]
    list_filter = ["status", "program"]
    readonly_fields = ["sha256", "report", "mapping", "status", "progress", "message", "batch"]
    place_field, place_by = "township_name", "name"

    def township_of(self, obj):
        return obj.batch.township_id if obj.batch_id else _township_named(obj.township_name)

    # A job's files go with it: the upload of a job waiting for mapping holds raw IDs.
    def delete_model(self, request, obj) -> None:
        _delete_files([obj])
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset) -> None:
        _delete_files(queryset)
        super().delete_queryset(request, queryset)


def _township_named(name: str) -> int | None:
    return Township.objects.filter(name=name).values_list("pk", flat=True).first()


def _delete_files(jobs) -> None:
    for job in jobs:
        for stored in (job.file, job.staged):
            if stored:
                stored.delete(save=False)


class MappingTemplateForm(forms.ModelForm):
    class Meta:
        model = MappingTemplate
        fields = ["name", "program", "signature", "mapping"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The targets come from the importer's vocabulary, which may grow: listed at run time.
        known = "; ".join(f"{t} = {field_label(t)}" for t in targets())
        self.fields["mapping"].help_text = _(
            "JSON 对象：表头（与花名册中的表头完全一致）→ 字段。可用的字段：%(known)s"
        ) % {"known": known}


@admin.register(MappingTemplate)
class MappingTemplateAdmin(admin.ModelAdmin):
    """Templates staff saved from the mapping page; edited here. MappingTemplate.clean checks
    that every value is a known target."""

    form = MappingTemplateForm
    list_display = ["name", "program", "signature", "created_by", "updated_at"]
    list_filter = ["program"]
    list_select_related = ["program", "created_by"]
    search_fields = ["name", "signature", "program__name"]
    readonly_fields = ["created_by", "created_at", "updated_at"]

    def save_model(self, request, obj, form, change) -> None:
        if not change and obj.created_by_id is None:
            obj.created_by = request.user
        kind = audit.Kind.MAPPING_TEMPLATE_CHANGE if change else audit.Kind.MAPPING_TEMPLATE_CREATE
        with transaction.atomic():
            super().save_model(request, obj, form, change)
            audit.record(kind, user=request.user, obj=obj, fields=sorted(form.changed_data))

    def delete_model(self, request, obj) -> None:
        with transaction.atomic():
            audit.record(audit.Kind.MAPPING_TEMPLATE_DELETE, user=request.user, obj=obj)
            super().delete_model(request, obj)

    def delete_queryset(self, request, queryset) -> None:
        with transaction.atomic():
            for template in queryset:
                audit.record(audit.Kind.MAPPING_TEMPLATE_DELETE, user=request.user, obj=template)
            super().delete_queryset(request, queryset)


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    """The audit record, read-only: nobody adds, changes or deletes an entry here."""

    list_display = ["at", "username", "kind", "township", "batch", "object_type", "object_id"]
    list_filter = ["kind", "township"]
    search_fields = ["username", "object_id"]
    list_select_related = ["township", "batch__program", "batch__township"]
    date_hierarchy = "at"
    show_full_result_count = False

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
