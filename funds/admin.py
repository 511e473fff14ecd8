"""Staff admin over programs, batches, disbursements and import jobs."""

from django.contrib import admin
from import_export.admin import ImportExportModelAdmin

from funds.models import Batch, Disbursement, ImportJob, Program
from funds.resources import ProgramResource


@admin.register(Program)
class ProgramAdmin(ImportExportModelAdmin):
    resource_classes = [ProgramResource]
    list_display = ["name", "category", "funding_level", "rate", "unit", "is_builtin"]
    list_filter = ["category", "funding_level", "is_builtin"]
    search_fields = ["name", "department"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(Batch)
class BatchAdmin(admin.ModelAdmin):
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
        return obj is not None and obj.status == Batch.Status.DRAFT


@admin.register(Disbursement)
class DisbursementAdmin(admin.ModelAdmin):
    list_display = ["person", "program", "period", "village", "amount", "status", "pay_date"]
    list_filter = ["status", "program", "is_reversal"]
    list_select_related = ["person", "program", "village"]
    exclude = ["account_hash"]
    show_full_result_count = False

    # Rows come from imports and corrections only: editing, adding or deleting one here would
    # rewrite published history and leave its batch's totals wrong.
    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(ImportJob)
class ImportJobAdmin(admin.ModelAdmin):
    list_display = ["original_name", "program", "period", "status", "progress", "created_at"]
    list_filter = ["status", "program"]
    readonly_fields = ["sha256", "report", "status", "progress", "message", "batch"]
