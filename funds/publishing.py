"""Publish, finalise, withdraw and correct payment batches.

A published row is never edited in place: a correction is a new batch whose reversal rows
(negative amounts) cancel the rows they correct and whose replacement rows carry the right
values, each pointing at the row it corrects.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from funds import access, audit, duplicates, signals, workdays
from funds.models import Batch, Disbursement


def _require(batch: Batch, *allowed: str) -> None:
    if batch.status not in allowed:
        raise ValidationError(
            _("批次当前状态为“%(status)s”，不能执行此操作")
            % {"status": batch.get_status_display()},
            code="bad_status",
        )


def _locked(batch: Batch, *, user: Any = None, perm: str = "") -> Batch:
    """Re-read the batch under a row lock so two staff clicks cannot both change it.

    A USER acting (the pages, admin and commands pass one) needs PERM in the batch's township.
    """
    locked = Batch.objects.select_for_update().get(pk=batch.pk)
    if user is not None:
        access.require(user, perm, locked.township_id)
    return locked


@transaction.atomic
def publish_batch(
    *,
    batch: Batch,
    start: date | None = None,
    days: int | None = None,
    user: Any = None,
    override_reason: str = "",
    repeats_checked: bool = False,
) -> Batch:
    """Put a draft batch into its publicity period (公示期), starting today by default.

    The period lasts DAYS working days (``SUNLIGHT_PUBLICITY_DAYS``, 7 by default) of the
    official calendar, counted from START: see funds.workdays. A correction of a batch that
    has been withdrawn cannot be published: its reversals would cancel rows nobody sees. A
    batch that repeats a published one (funds.duplicates) is refused unless OVERRIDE_REASON
    says why it is no double payment; the override is recorded with its reason.
    REPEATS_CHECKED: the importer has just compared the batch with every live batch (a wider
    comparison than this one) and recorded any override, in the same transaction.
    """
    locked = _locked(batch, user=user, perm="funds.publish_batch")
    _require(locked, Batch.Status.DRAFT)
    if locked.corrects_id is not None:
        corrected = Batch.objects.get(pk=locked.corrects_id)
        if corrected.status == Batch.Status.WITHDRAWN:
            raise ValidationError(
                _("被更正的批次 #%(batch)s 已撤回，这份更正不能发布") % {"batch": corrected.pk},
                code="corrects_withdrawn",
            )
    found = duplicates.Found() if repeats_checked else duplicates.for_batch(locked)
    if found and not override_reason.strip():
        raise ValidationError(found.message(), code="duplicate_content")
    if found:
        audit.record(
            audit.Kind.OVERRIDE, user=user, batch=locked, reason=override_reason, act="publish",
            repeats=[b["id"] for b in found.batches], persons=found.persons,
        )  # fmt: skip
    start = start or timezone.localdate()
    days = settings.SUNLIGHT_PUBLICITY_DAYS if days is None else days
    if days < 1:
        raise ValidationError(_("公示期至少一天"), code="days")
    locked.status = Batch.Status.PUBLICITY
    locked.publicity_start = start
    locked.publicity_end = workdays.add_workdays(start, days)
    locked.published_at = timezone.now()
    locked.save(
        update_fields=["status", "publicity_start", "publicity_end", "published_at", "updated_at"]
    )
    audit.record(
        audit.Kind.PUBLISH, user=user, batch=locked,
        publicity_start=start.isoformat(), publicity_end=locked.publicity_end.isoformat(),
    )  # fmt: skip
    signals.batch_published.send(sender=Batch, batch=locked)
    signals.publication_changed.send(sender=Batch, batch=locked, act="publish")
    _refresh(batch, locked)
    return batch


@transaction.atomic
def finalize_batch(*, batch: Batch, user: Any = None) -> Batch:
    """Close the publicity period of a batch: the payments are final.

    Only once the period has ended (the day after its last day) and with no objection open:
    the floors above refuse through ``signals.batch_finalizing``.
    """
    locked = _locked(batch, user=user, perm="funds.finalize_batch")
    _require(locked, Batch.Status.PUBLICITY)
    today = timezone.localdate()
    if locked.publicity_end is None or today <= locked.publicity_end:
        raise ValidationError(
            _("公示期到 %(end)s 才结束，结束后才能定稿") % {"end": locked.publicity_end or "—"},
            code="period_running",
        )
    signals.batch_finalizing.send(sender=Batch, batch=locked)
    locked.status = Batch.Status.FINAL
    locked.save(update_fields=["status", "updated_at"])
    audit.record(audit.Kind.FINALISE, user=user, batch=locked)
    signals.publication_changed.send(sender=Batch, batch=locked, act="finalise")
    _refresh(batch, locked)
    return batch


@transaction.atomic
def withdraw_batch(*, batch: Batch, user: Any = None, reason: str = "") -> Batch:
    """Withdraw a batch from the public site (a draft or one in publicity), saying why.

    Not while a correction of it stands (any correction batch not withdrawn): withdrawing the
    original would leave the correction's reversals cancelling rows the public no longer sees.
    """
    locked = _locked(batch, user=user, perm="funds.withdraw_batch")
    previous = locked.status
    _require(locked, Batch.Status.DRAFT, Batch.Status.PUBLICITY)
    standing = locked.corrections.exclude(status=Batch.Status.WITHDRAWN).order_by("id").first()
    if standing is not None:
        raise ValidationError(
            _("更正批次 #%(batch)s 指向本批次；请先撤回更正批次，再撤回本批次")
            % {"batch": standing.pk},
            code="corrected",
        )
    locked.status = Batch.Status.WITHDRAWN
    locked.save(update_fields=["status", "updated_at"])
    audit.record(audit.Kind.WITHDRAW, user=user, batch=locked, reason=reason, previous=previous)
    signals.publication_changed.send(sender=Batch, batch=locked, act="withdraw", previous=previous)
    _refresh(batch, locked)
    return batch


def _refresh(batch: Batch, locked: Batch) -> None:
    for name in ("status", "publicity_start", "publicity_end", "published_at", "updated_at"):
        setattr(batch, name, getattr(locked, name))


@dataclass(frozen=True)
class Replacement:
    """The corrected values of one row; amount None means the row is only reversed.

    QUANTITY and RATE None keep the corrected row's own (the form fills in what it keeps).
    """

    amount: Decimal | None
    note: str = ""
    status: str = Disbursement.Status.PAID
    quantity: Decimal | None = None
    rate: Decimal | None = None


_COPIED = [
    "program_id", "period", "village_id", "household_id", "person_id", "payee_id", "quantity",
    "rate", "pay_date", "account_masked", "account_hash", "source_sheet", "source_row",
    "name_masked", "name_hash",  # a correction keeps the name its original row's roster gave
]  # fmt: skip
TITLE_MAX = Batch._meta.get_field("title").max_length


def public_reason(text: str) -> str:
    """Return TEXT fit to be shown publicly: ID-, phone- and account-like numbers scrubbed and
    the names of persons Sunlight knows masked (as funds.audit does for its reasons)."""
    return audit.scrub((text or "").strip()).strip()


def correction_title(original: Batch) -> str:
    """Title a correction of ORIGINAL 更正公示：<the title of the notice first corrected>."""
    title = original.title or str(original)
    prefix = _("更正公示：")
    if original.corrects_id is not None and title.startswith(prefix):
        title = title[len(prefix) :]  # a correction of a correction: not 更正公示：更正公示：…
    return (prefix + title)[:TITLE_MAX]


@transaction.atomic
def correct_batch(
    *,
    original: Batch,
    changes: Mapping[int, Replacement],
    source_name: str,
    source_sha256: str,
    user: Any = None,
    reason: str = "",
) -> Batch:
    """Create a draft correction batch: reverse each changed row and add its replacement."""
    # The lock makes two staff correcting the same rows at once take turns, so the
    # second one sees the first one's correction and cannot reverse a row twice.
    locked = _locked(original, user=user, perm="funds.correct_batch")
    _require(locked, Batch.Status.PUBLICITY, Batch.Status.FINAL)
    rows: Iterable[Disbursement] = original.disbursements.filter(
        pk__in=list(changes), is_reversal=False
    )
    rows = list(rows)
    if len(rows) != len(changes):
        raise ValidationError(_("只能更正本批次中的原始记录"), code="unknown_rows")
    _require_uncorrected(changes)
    if Batch.objects.filter(source_sha256=source_sha256, status=Batch.Status.WITHDRAWN).exists():
        # The fingerprint includes the page's time: the same page sent again after its
        # correction was withdrawn is an old page, not a new correction.
        raise ValidationError(_("这份更正已经提交过；请重新打开更正页面"), code="resubmitted")
    reason = public_reason(reason)
    correction = Batch.objects.create(
        program=original.program,
        period=original.period,
        year=original.year,
        township=original.township,
        title=correction_title(original),
        reason=reason,
        source_name=source_name[:255],
        source_sha256=source_sha256,
        uploaded_by=user if getattr(user, "pk", None) else None,
        corrects=original,
    )
    new_rows: list[Disbursement] = []
    total = Decimal("0.00")
    for row in rows:
        copied = {name: getattr(row, name) for name in _COPIED}
        chain = {"corrects": row, "origin_row": row.origin_row or row.pk}
        new_rows.append(
            Disbursement(
                batch=correction, **copied, **chain, amount=-row.amount, status=row.status,
                is_reversal=True, note=_("冲销"),
            )
        )  # fmt: skip
        total -= row.amount
        change = changes[row.pk]
        if change.amount is not None:
            if change.amount < 0:
                raise ValidationError(_("更正后的金额不能为负数"), code="negative")
            if change.quantity is not None:
                copied["quantity"] = change.quantity
            if change.rate is not None:
                copied["rate"] = change.rate
            new_rows.append(
                Disbursement(
                    batch=correction, **copied, **chain, amount=change.amount,
                    status=change.status, note=public_reason(change.note)[:500],
                )
            )  # fmt: skip
            total += change.amount
    Disbursement.objects.bulk_create(new_rows, batch_size=2000)
    correction.row_count = len(new_rows)
    correction.person_count = len({r.person_id for r in rows})
    correction.household_count = len({r.household_id for r in rows})
    correction.total_amount = total
    correction.save(update_fields=["row_count", "person_count", "household_count", "total_amount"])
    audit.record(
        audit.Kind.CORRECT, user=user, batch=original, obj=correction, reason=reason,
        correction=correction.pk, rows=len(rows),
    )  # fmt: skip
    # The correction is a draft until published, but the original's staff and public
    # answers (its corrections, the rows it may still correct) change with it.
    signals.publication_changed.send(sender=Batch, batch=locked, act="correct")
    return correction


def live_corrections(row_ids: Iterable[int]) -> dict[int, int]:
    """Map each row already corrected by a batch that is not withdrawn to that batch's id."""
    found = (
        Disbursement.objects.filter(corrects_id__in=list(row_ids), is_reversal=True)
        .exclude(batch__status=Batch.Status.WITHDRAWN)
        .values_list("corrects_id", "batch_id")
    )
    return dict(found)


def _require_uncorrected(row_ids: Iterable[int]) -> None:
    corrected = live_corrections(row_ids)
    if corrected:
        raise ValidationError(
            _("记录已在更正批次 #%(batch)s 中更正；请更正那个批次，或先撤回它")
            % {"batch": min(corrected.values())},
            code="already_corrected",
        )
