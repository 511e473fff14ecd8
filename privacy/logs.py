"""Log failures without quoting what failed: exception texts may carry a roster's cells."""

from __future__ import annotations

import logging
import sys
import traceback
from pathlib import Path

__all__ = ["log_failure"]


def log_failure(logger: logging.Logger, message: str, *args: object) -> None:
    """Log the exception being handled by its type and where it was raised, not its text.

    An exception's text may quote a roster's cell (``int('3411…')``, a reader's message), so
    the traceback ``logger.exception`` would write could carry a raw ID number or name.
    """
    error = sys.exc_info()[1]
    frames = traceback.extract_tb(error.__traceback__) if error is not None else []
    where = " < ".join(f"{Path(f.filename).name}:{f.lineno} {f.name}" for f in reversed(frames))
    logger.error(f"{message} (%s at %s)", *args, type(error).__name__, where or "?")
