"""Record staff acts in the append-only audit record (``AuditEntry``).

``record`` is the one way in: call it inside the transaction of the act it records, so that
an act rolled back leaves no entry and an entry never names an act that did not happen. The
database refuses UPDATE and DELETE of recorded entries: ``GUARD`` holds the triggers that
migration 0010 installs (a copy there, compared with this one by a test).
"""

from __future__ import annotations

from typing import Any

from django.db import connection

from funds.models import AuditEntry, Batch, Disbursement
from privacy import personal
from villages.models import Person, Township

Kind = AuditEntry.Kind

#: The triggers that keep the audit record append-only, per database vendor.
GUARD: dict[str, tuple[str, ...]] = {
    "postgresql": (
        "CREATE FUNCTION sl_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
        "BEGIN RAISE EXCEPTION 'funds_auditentry is append-only: % refused', TG_OP "
        "USING ERRCODE = 'insufficient_privilege'; END $$",
        "CREATE TRIGGER sl_audit_append_only BEFORE UPDATE OR DELETE ON funds_auditentry "
        "FOR EACH ROW EXECUTE FUNCTION sl_audit_append_only()",
    ),
    "sqlite": (
        "CREATE TRIGGER sl_audit_no_update BEFORE UPDATE ON funds_auditentry "
        "BEGIN SELECT RAISE(ABORT, 'funds_auditentry is append-only: UPDATE refused'); END",
        "CREATE TRIGGER sl_audit_no_delete BEFORE DELETE ON funds_auditentry "
        "BEGIN SELECT RAISE(ABORT, 'funds_auditentry is append-only: DELETE refused'); END",
    ),
}
UNGUARD: dict[str, tuple[str, ...]] = {
    "postgresql": (
        "DROP TRIGGER IF EXISTS sl_audit_append_only ON funds_auditentry",
        "DROP FUNCTION IF EXISTS sl_audit_append_only()",
    ),
    "sqlite": (
        "DROP TRIGGER IF EXISTS sl_audit_no_update",
        "DROP TRIGGER IF EXISTS sl_audit_no_delete",
    ),
}

REASON_MAX = 1000


def record(
    kind: str,
    *,
    user: Any = None,
    batch: Batch | None = None,
    township: Township | None = None,
    obj: Any = None,
    reason: str = "",
    operator: str = "",
    **details: Any,
) -> AuditEntry:
    """Append one entry: KIND done by USER on BATCH / OBJ in TOWNSHIP, with REASON and DETAILS.

    OPERATOR names who ran a maintenance command when no account did. The reason is scrubbed
    of ID-, phone- and account-like numbers; DETAILS must hold ids, counts and codes only,
    never personal text.
    """
    authenticated = bool(getattr(user, "pk", None))
    if township is None and batch is not None:
        township_id = batch.township_id
    else:
        township_id = getattr(township, "pk", None)
    return AuditEntry.objects.create(
        kind=kind,
        user_id=user.pk if authenticated else None,
        username=user.get_username() if authenticated else operator[:150],
        township_id=township_id,
        batch_id=getattr(batch, "pk", None),
        object_type=obj._meta.label if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        reason=scrub(reason)[:REASON_MAX],
        details=details,
    )


def lift_guard_and_empty() -> None:
    """Delete every entry with the guard lifted, then put it back (test teardown only).

    A transactional test's database is emptied by DELETE on SQLite, which the guard refuses.
    """
    vendor = connection.vendor
    with connection.cursor() as cursor:
        for statement in UNGUARD.get(vendor, ()):
            cursor.execute(statement)
        cursor.execute("DELETE FROM funds_auditentry")
        for statement in GUARD.get(vendor, ()):
            cursor.execute(statement)


def scrub(text: str | None) -> str:
    """Return staff's free TEXT (a reason, a note, a file name) fit to be shown: ID-, phone- and
    account-like numbers scrubbed, and the names of persons Sunlight knows masked, whether the
    name is a person's first or one a later roster wrote on a payment row."""
    return Person.objects.mask_names_in(
        personal.scrub_text(text or ""), also=Disbursement.objects.all()
    )
