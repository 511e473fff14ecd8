from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from publicity.models import LookupAlarm, Objection


@admin.register(Objection)
class ObjectionAdmin(admin.ModelAdmin):
    list_display = ["batch", "village", "status", "created_at", "answered_at"]
    list_filter = ["status"]
    list_select_related = ["batch", "village"]
    exclude = ["contact_hash"]
    raw_id_fields = ["batch", "village"]


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
