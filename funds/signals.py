"""What funds announces to the floors above it, which funds itself may not import.

``batch_finalizing`` is sent inside ``finalize_batch``'s transaction, with the batch locked,
before its status changes: a receiver that finds a reason to refuse (publicity: an objection
still open) raises ``ValidationError`` and nothing changes.
"""

from django.dispatch import Signal

batch_finalizing = Signal()  # sender=Batch, batch=
