from django.contrib import admin
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from api.models import AuditorToken


@admin.register(AuditorToken)
class AuditorTokenAdmin(admin.ModelAdmin):
    list_display = ["prefix", "user", "note", "created_at", "expires_at", "revoked_at"]
    list_filter = ["revoked_at"]
    search_fields = ["prefix", "user__username", "note"]
    readonly_fields = ["prefix", "user", "created_at", "expires_at", "revoked_at", "last_used_at"]
    fields = ["prefix", "user", "note", "created_at", "expires_at", "revoked_at", "last_used_at"]
    actions = ["revoke"]

    def has_add_permission(self, request):
        # Keys are shown once, so they are issued by the management command only.
        return False

    @admin.action(description=_("吊销所选令牌"))
    def revoke(self, request, queryset):
        count = queryset.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())
        self.message_user(request, _("已吊销 %(count)d 个令牌。") % {"count": count})
