"""Publish, finalise, withdraw and correct payment batches.

A published row is never edited in place: a correction is a new batch whose reversal rows
(negative amounts) cancel the rows they correct and whose replacement rows carry the right
values, each pointing at the row it corrects.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from funds import signals
from funds.models import Batch, Disbursement
from privacy import personal


def _require(batch: Batch, *allowed: str) -> None:
    if batch.status not in allowed:
        raise ValidationError(
            _("批次当前状态为“%(status)s”，不能执行此操作")
            % {"status": batch.get_status_display()},
            code="bad_status",
        )


def _locked(batch: Batch) -> Batch:
    """Re-read the batch under a row lock so two staff clicks cannot both change it."""
    return Batch.objects.select_for_update().get(pk=batch.pk)


@transaction.atomic
def publish_batch(
    *, batch: Batch, start: date | None = None, days: int | None = None, user: Any = None
) -> Batch:
    """Put a draft batch into its publicity period (公示期), starting today by default."""
    locked = _locked(batch)
    _require(locked, Batch.Status.DRAFT)
    start = start or timezone.localdate()
    days = settings.SUNLIGHT_PUBLICITY_DAYS if days is None else days
    if days < 1:
        raise ValidationError(_("公示期至少一天"), code="days")
    locked.status = Batch.Status.PUBLICITY
    locked.publicity_start = start
    locked.publicity_end = start + timedelta(days=days - 1)
    locked.published_at = timezone.now()
    locked.save(
        update_fields=["status", "publicity_start", "publicity_end", "published_at", "updated_at"]
    )
    signals.batch_published.send(sender=Batch, batch=locked)
    _refresh(batch, locked)
    return batch


@transaction.atomic
def finalize_batch(*, batch: Batch, user: Any = None) -> Batch:
    """Close the publicity period of a batch: the payments are final."""
    locked = _locked(batch)
    _require(locked, Batch.Status.PUBLICITY)
    locked.status = Batch.Status.FINAL
    locked.save(update_fields=["status", "updated_at"])
    _refresh(batch, locked)
    return batch


@transaction.atomic
def withdraw_batch(*, batch: Batch, user: Any = None) -> Batch:
    """Withdraw a batch from the public site (a draft or one in publicity)."""
    locked = _locked(batch)
    _require(locked, Batch.Status.DRAFT, Batch.Status.PUBLICITY)
    locked.status = Batch.Status.WITHDRAWN
    locked.save(update_fields=["status", "updated_at"])
    _refresh(batch, locked)
    return batch


def _refresh(batch: Batch, locked: Batch) -> None:
    for name in ("status", "publicity_start", "publicity_end", "published_at", "updated_at"):
        setattr(batch, name, getattr(locked, name))


@dataclass(frozen=True)
class Replacement:
    """The corrected values of one row; amount None means the row is only reversed."""

    amount: Decimal | None
    note: str = ""
    status: str = Disbursement.Status.PAID


_COPIED = [
    "program_id", "period", "village_id", "household_id", "person_id", "payee_id", "quantity",
    "rate", "pay_date", "account_masked", "account_hash", "source_sheet", "source_row",
]  # fmt: skip


@transaction.atomic
def correct_batch(
    *,
    original: Batch,
    changes: Mapping[int, Replacement],
    source_name: str,
    source_sha256: str,
    user: Any = None,
) -> Batch:
    """Create a draft correction batch: reverse each changed row and add its replacement."""
    # The lock makes two staff correcting the same rows at once take turns, so the
    # second one sees the first one's correction and cannot reverse a row twice.
    _require(_locked(original), Batch.Status.PUBLICITY, Batch.Status.FINAL)
    rows: Iterable[Disbursement] = original.disbursements.filter(
        pk__in=list(changes), is_reversal=False
    )
    rows = list(rows)
    if len(rows) != len(changes):
        raise ValidationError(_("只能更正本批次中的原始记录"), code="unknown_rows")
    _require_uncorrected(changes)
    correction = Batch.objects.create(
        program=original.program,
        period=original.period,
        year=original.year,
        township=original.township,
        title=_("更正：%(title)s") % {"title": original.title or str(original)},
        source_name=source_name[:255],
        source_sha256=source_sha256,
        uploaded_by=user if getattr(user, "pk", None) else None,
        corrects=original,
    )
    new_rows: list[Disbursement] = []
    total = Decimal("0.00")
    for row in rows:
        copied = {name: getattr(row, name) for name in _COPIED}
        new_rows.append(
            Disbursement(
                batch=correction, **copied, amount=-row.amount, status=row.status,
                is_reversal=True, corrects=row, note=_("冲销"),
            )
        )  # fmt: skip
        total -= row.amount
        change = changes[row.pk]
        if change.amount is not None:
            if change.amount < 0:
                raise ValidationError(_("更正后的金额不能为负数"), code="negative")
            new_rows.append(
                Disbursement(
                    batch=correction, **copied, amount=change.amount, status=change.status,
                    corrects=row, note=personal.scrub_text(change.note)[:500],
                )
            )  # fmt: skip
            total += change.amount
    Disbursement.objects.bulk_create(new_rows, batch_size=2000)
    correction.row_count = len(new_rows)
    correction.person_count = len({r.person_id for r in rows})
    correction.household_count = len({r.household_id for r in rows})
    correction.total_amount = total
    correction.save(update_fields=["row_count", "person_count", "household_count", "total_amount"])
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
