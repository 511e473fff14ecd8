from django.contrib import admin
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from api.models import AuditorToken
from funds import audit


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

    @admin.action(description=_("吊销所选令牌"), permissions=["change"])
    def revoke(self, request, queryset):
        live = queryset.filter(revoked_at__isnull=True)
        with transaction.atomic():
            tokens = list(live.select_for_update())
            count = live.filter(pk__in=[t.pk for t in tokens]).update(revoked_at=timezone.now())
            for token in tokens:  # a handful at most: tokens are issued one by one
                audit.record(
                    audit.Kind.TOKEN_REVOKE, user=request.user, obj=token, prefix=token.prefix,
                    holder=token.user_id,
                )  # fmt: skip
        self.message_user(request, _("已吊销 %(count)d 个令牌。") % {"count": count})
