"""Who may do what where: the one policy every staff page, form, admin and command asks.

What a user may do comes from Django permissions (given through the groups in ``ROLES``);
where, from their places (``villages.StaffPlace``): township staff act in their townships,
county staff in every township of their county, superusers everywhere, anyone else nowhere.
An act on a township's object needs both: ``can(user, perm, township)``. Lists are scoped with
``townships_for`` (a subquery: no per-row checks). The places half lives in
``villages.places`` so that the villages admin can scope by it too.
"""

from __future__ import annotations

from typing import Any

from django.apps import apps as global_apps
from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet

from villages.models import Township
from villages.places import active, in_places, in_places_filter, townships_for

__all__ = ["ROLES", "can", "in_places", "require", "scope", "setup_roles", "townships_for"]

TOWNSHIP_STAFF_GROUP = "乡镇工作人员"
COUNTY_STAFF_GROUP = "县级工作人员"
AUDITORS_GROUP = "auditors"  # api.models re-exports it: tokens are issued to this group

_TOWNSHIP_ACTS = (
    "funds.view_batch",
    "funds.view_importjob",
    "funds.view_disbursement",
    "funds.upload_roster",
    "funds.confirm_import",
    "funds.publish_batch",
    "funds.withdraw_batch",
    "funds.correct_batch",
    "funds.record_payment_results",
    "funds.view_mappingtemplate",
    "funds.add_mappingtemplate",
    "funds.change_mappingtemplate",
    "publicity.view_objection",
    "publicity.change_objection",
)

#: Each group and its permissions ("app_label.codename"). ``setup_roles`` makes them so.
ROLES: dict[str, tuple[str, ...]] = {
    TOWNSHIP_STAFF_GROUP: _TOWNSHIP_ACTS,
    COUNTY_STAFF_GROUP: (
        *_TOWNSHIP_ACTS,
        "funds.finalize_batch",
        "funds.delete_mappingtemplate",
    ),
    AUDITORS_GROUP: ("funds.view_auditentry",),
}


def scope(
    user: Any, queryset: QuerySet, *, perm: str, via: str = "township", by: str = "pk"
) -> QuerySet:
    """Narrow QUERYSET to rows in USER's places; none without PERM.

    VIA is the field naming the township, compared with the township's BY (``township_name``
    of an import job holds the name).
    """
    if not active(user) or not user.has_perm(perm):
        return queryset.none()
    return in_places_filter(user, queryset, via=via, by=by)


def can(
    user: Any, perm: str, township: Township | int | None = None, *, placed: bool = True
) -> bool:
    """Say whether USER may do PERM in TOWNSHIP.

    PLACED=False is for acts bound to no township (mapping templates, auditor tokens): the
    permission alone decides. A placed act with no township is allowed to superusers only.
    """
    if not active(user) or not user.has_perm(perm):
        return False
    return in_places(user, township) if placed else True


def require(
    user: Any, perm: str, township: Township | int | None = None, *, placed: bool = True
) -> None:
    """Raise PermissionDenied unless USER may do PERM in TOWNSHIP (see ``can``)."""
    if not can(user, perm, township, placed=placed):
        raise PermissionDenied


def setup_roles(using: str = "default") -> int:
    """Create the groups in ROLES with exactly their permissions; return how many were missing.

    Idempotent: run after every migrate (``post_migrate``) and by ``manage.py setup_roles``.
    A permission not created yet (its app not migrated) is skipped and counted.
    """
    group_model = global_apps.get_model("auth", "Group")
    permission_model = global_apps.get_model("auth", "Permission")
    wanted = {p for perms in ROLES.values() for p in perms}
    q = Q(pk__in=[])
    for name in wanted:
        label, codename = name.split(".")
        q |= Q(content_type__app_label=label, codename=codename)
    found = {
        f"{label}.{codename}": pk
        for pk, label, codename in permission_model.objects.using(using)
        .filter(q)
        .values_list("pk", "content_type__app_label", "codename")
    }
    for group_name, perms in ROLES.items():
        group, _created = group_model.objects.using(using).get_or_create(name=group_name)
        group.permissions.set([found[p] for p in perms if p in found])
    return len(wanted - set(found))
