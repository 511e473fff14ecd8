from django.contrib import admin
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from funds import audit
from publicity.models import LookupAlarm, Objection
from villages.admin import PlaceScopedAdmin


@admin.register(Objection)
class ObjectionAdmin(PlaceScopedAdmin):
    """Objections of the user's townships; answering one is recorded in the audit record."""

    list_display = ["batch", "village", "status", "created_at", "answered_at"]
    list_filter = ["status"]
    list_select_related = ["batch", "village"]
    exclude = ["contact_hash"]
    raw_id_fields = ["batch", "village"]
    readonly_fields = ["batch", "village", "text", "contact_masked", "created_at", "answered_at"]
    place_field = "batch__township"

    def has_add_permission(self, request) -> bool:
        return False  # objections come from villagers, through the public site

    def save_model(self, request, obj, form, change) -> None:
        answered = {"status", "response"} & set(form.changed_data)
        with transaction.atomic():
            if answered and obj.status != Objection.Status.OPEN:
                obj.answered_at = timezone.now()
            super().save_model(request, obj, form, change)
            if answered:
                audit.record(
                    audit.Kind.ANSWER_OBJECTION, user=request.user, batch=obj.batch, obj=obj,
                    reason=obj.response, status=obj.status,
                )  # fmt: skip


@admin.register(LookupAlarm)
class LookupAlarmAdmin(admin.ModelAdmin):
    """Lookup limits reached, newest first: staff look for a household or name under attack."""

    list_display = [
        "raised_at",
        "kind",
        "household",
        "target",
        "limit",
        "window_seconds",
        "reviewed",
    ]
    list_filter = ["reviewed", "kind"]
    list_select_related = ["household"]
    readonly_fields = ["kind", "target", "household", "limit", "window_seconds", "raised_at"]
    fields = [*readonly_fields, "reviewed"]
    actions = ["mark_reviewed"]
    show_full_result_count = False

    def has_add_permission(self, request) -> bool:
        return False

    @admin.action(description=_("标记所选告警为已处理"))
    def mark_reviewed(self, request, queryset) -> None:
        queryset.update(reviewed=True)
