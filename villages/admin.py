"""Staff admin over places and people; only masked values and hashes exist to show."""

from django.contrib import admin

from villages.models import Household, Person, Township, Village


@admin.register(Township)
class TownshipAdmin(admin.ModelAdmin):
    list_display = ["name", "county", "code", "created_at"]
    search_fields = ["name", "county", "code"]


@admin.register(Village)
class VillageAdmin(admin.ModelAdmin):
    list_display = ["name", "township", "code"]
    list_filter = ["township"]
    search_fields = ["name", "township__name"]
    list_select_related = ["township"]


@admin.register(Household)
class HouseholdAdmin(admin.ModelAdmin):
    list_display = ["id", "village", "group", "head"]
    list_filter = ["village__township", "village"]
    list_select_related = ["village", "head"]
    raw_id_fields = ["village", "head"]
    search_fields = ["village__name", "group"]
    show_full_result_count = False


@admin.register(Person)
class PersonAdmin(admin.ModelAdmin):
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
