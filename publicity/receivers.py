"""What the public side says when funds acts on a batch (funds.signals)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.utils.translation import gettext as _

from funds.models import Batch, Program
from funds.signals import batch_finalizing, batch_published, publication_changed
from publicity import bulk, transparency
from publicity.models import Objection, PublicationVersion
from villages.models import Township, Village


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


@receiver(publication_changed, dispatch_uid="publicity.bulk")
def rebuild_bulk_downloads(sender, *, act: str, previous: str = "", **kwargs) -> None:
    """Queue a rebuild of the bulk downloads once the act is committed (one waiting rebuild is
    enough: it reads everything public when it runs): a publication, finalisation, withdrawal
    or bank payment results (the files carry each row's payment state). A correction changes
    the files when its batch is published; a draft withdrawn was never in them."""
    if act == "correct" or previous == Batch.Status.DRAFT:
        return
    transaction.on_commit(bulk.request_rebuild)


@receiver(publication_changed, dispatch_uid="publicity.publication_version")
def bump_publication_version(sender, **kwargs) -> None:
    """Renew every cached public page and API answer (publicity.pagecache) with the act: the
    bump is in the act's transaction, so it commits, or rolls back, with it."""
    PublicationVersion.bump()


@receiver(post_save, sender=Program, dispatch_uid="publicity.version_program_saved")
@receiver(post_delete, sender=Program, dispatch_uid="publicity.version_program_deleted")
@receiver(post_save, sender=Township, dispatch_uid="publicity.version_township_saved")
@receiver(post_delete, sender=Township, dispatch_uid="publicity.version_township_deleted")
@receiver(post_save, sender=Village, dispatch_uid="publicity.version_village_saved")
@receiver(post_delete, sender=Village, dispatch_uid="publicity.version_village_deleted")
def bump_on_place_or_program_edit(sender, **kwargs) -> None:
    """A program, township or village edited (their names and notes are on every page): bump
    once the edit commits, in a transaction of its own, so an import that creates a village
    does not hold the version's row lock while it runs."""
    transaction.on_commit(PublicationVersion.bump)
