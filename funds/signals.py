"""Signals funds sends to the floors above it, which funds itself must not import."""

from django.dispatch import Signal

#: Sent by ``publish_batch`` inside its transaction, once the batch is public (argument:
#: ``batch``). A receiver that raises rolls the publication back: the transparency log
#: (publicity.transparency) appends the batch's rows this way, or nothing is published.
batch_published = Signal()
