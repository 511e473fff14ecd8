"""The transparency log's checkpoint as pages show it (the public and the staff batch pages)."""

from __future__ import annotations

from typing import Any

from django import template

from funds.models import Batch
from publicity.transparency import batch_checkpoint

register = template.Library()


@register.inclusion_tag("publicity/_log_checkpoint.html")
def log_checkpoint(batch: Batch) -> dict[str, Any]:
    """Show the tree size and root signed after BATCH's publication, else the latest ones."""
    checkpoint, own = batch_checkpoint(batch)
    return {"checkpoint": checkpoint, "own": own}
