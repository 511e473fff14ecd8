from django.contrib import admin

from publicity.models import Objection


@admin.register(Objection)
class ObjectionAdmin(admin.ModelAdmin):
    list_display = ["batch", "village", "status", "created_at", "answered_at"]
    list_filter = ["status"]
    list_select_related = ["batch", "village"]
    exclude = ["contact_hash"]
    raw_id_fields = ["batch", "village"]
