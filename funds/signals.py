"""What funds announces to the floors above it, which funds itself may not import.

All are sent inside the act's transaction, with the batch locked: a receiver that raises
rolls the act back and nothing changes.
"""

from django.dispatch import Signal

#: Sent by ``finalize_batch`` before the status changes (argument: ``batch``): a receiver that
#: finds a reason to refuse (publicity: an objection still open) raises ``ValidationError``.
batch_finalizing = Signal()

#: Sent by ``publish_batch`` once the batch is public (argument: ``batch``): the transparency
#: log (publicity.transparency) appends the batch's rows this way, or nothing is published.
batch_published = Signal()

#: Sent by every act that changes what the public sees (arguments: ``batch``, ``act``: one of
#: "publish", "finalise", "withdraw", "correct", "payment_results"; for "withdraw" also
#: ``previous``, the status the batch had: a draft withdrawn was never public), after the act's
#: writes and inside its transaction: the public site bumps its publication version and queues
#: a rebuild of the bulk downloads this way (publicity.receivers), so its cached pages are
#: renewed exactly when the act commits.
publication_changed = Signal()
