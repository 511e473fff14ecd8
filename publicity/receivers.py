"""What the public side says when funds acts on a batch (funds.signals)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.dispatch import receiver
from django.utils.translation import gettext as _

from funds.models import Batch
from funds.signals import batch_finalizing, batch_published
from publicity import transparency
from publicity.models import Objection


@receiver(batch_finalizing, dispatch_uid="publicity.no_open_objections")
def refuse_while_objections_are_open(sender, *, batch: Batch, **kwargs) -> None:
    """A batch is not finalised while anyone's objection to it waits for an answer."""
    waiting = Objection.objects.filter(batch=batch, status=Objection.Status.OPEN).count()
    if waiting:
        raise ValidationError(
            _("本批次还有 %(count)s 条异议待处理；处理完毕后才能定稿") % {"count": waiting},
            code="objections_open",
        )


@receiver(batch_published, dispatch_uid="publicity.transparency")
def log_publication(sender, *, batch: Batch, **kwargs) -> None:
    """Append the batch's rows to the transparency log and sign a checkpoint, in the
    publication's transaction: a publication that cannot be logged is not made."""
    transparency.append_batch(batch=batch)
