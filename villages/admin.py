"""Staff admin over places and people; only masked values and hashes exist to show.

Every list shows only the user's places (``villages.places``), and an object elsewhere can be
neither changed nor deleted. Staff places are given on the user's page (an inline).
"""

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin

from villages.models import Household, Person, StaffPlace, Township, Village
from villages.places import in_places, in_places_filter


class PlaceScopedAdmin(admin.ModelAdmin):
    """Scope an admin to the user's places: PLACE_FIELD leads from the model to its township."""

    place_field = "township"
    place_by = "pk"

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        return in_places_filter(request.user, queryset, via=self.place_field, by=self.place_by)

    def township_of(self, obj):
        """Return the township (or its id) OBJ belongs to."""
        for name in self.place_field.split("__"):
            obj = getattr(obj, name, None) if obj is not None else None
        return obj

    def _in_places(self, request, obj) -> bool:
        return obj is None or in_places(request.user, self.township_of(obj))

    def has_view_permission(self, request, obj=None) -> bool:
        return super().has_view_permission(request, obj) and self._in_places(request, obj)

    def has_change_permission(self, request, obj=None) -> bool:
        return super().has_change_permission(request, obj) and self._in_places(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        return super().has_delete_permission(request, obj) and self._in_places(request, obj)


@admin.register(Township)
class TownshipAdmin(PlaceScopedAdmin):
    list_display = ["name", "county", "code", "created_at"]
    search_fields = ["name", "county", "code"]
    place_field = "pk"

    def township_of(self, obj):
        return obj


@admin.register(Village)
class VillageAdmin(PlaceScopedAdmin):
    list_display = ["name", "township", "code"]
    list_filter = ["township"]
    search_fields = ["name", "township__name"]
    list_select_related = ["township"]


@admin.register(Household)
class HouseholdAdmin(PlaceScopedAdmin):
    list_display = ["id", "village", "group", "head"]
    list_filter = ["village__township", "village"]
    list_select_related = ["village", "head"]
    raw_id_fields = ["village", "head"]
    search_fields = ["village__name", "group"]
    show_full_result_count = False
    place_field = "village__township"


@admin.register(Person)
class PersonAdmin(PlaceScopedAdmin):
    list_display = [
        "name_masked",
        "id_masked",
        "sex",
        "birth_year",
        "relation_to_head",
        "household",
    ]
    list_filter = ["sex"]
    search_fields = ["name_masked", "id_masked"]
    readonly_fields = ["name_masked", "id_masked", "birth_year", "sex", "key_version"]
    exclude = ["name_hash", "id_hash"]
    raw_id_fields = ["household"]
    show_full_result_count = False
    place_field = "household__village__township"


@admin.register(StaffPlace)
class StaffPlaceAdmin(admin.ModelAdmin):
    list_display = ["user", "township", "county"]
    list_filter = ["county"]
    list_select_related = ["user", "township"]
    search_fields = ["user__username", "township__name", "county"]
    raw_id_fields = ["user"]


class StaffPlaceInline(admin.TabularInline):
    model = StaffPlace
    extra = 1
    fields = ["township", "county"]


User = get_user_model()
if admin.site.is_registered(User):
    admin.site.unregister(User)


@admin.register(User)
class StaffUserAdmin(UserAdmin):
    """Django's user admin with the user's places: township staff's townships, or a county."""

    inlines = [*UserAdmin.inlines, StaffPlaceInline]
