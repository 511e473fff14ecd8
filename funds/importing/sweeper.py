"""The worker's clock for jobs a dead worker left running: a sweep at start, then every minute.

``manage.py db_worker`` (funds' own, ``funds/management/commands/db_worker.py``) starts one
``Sweeper`` beside django-tasks-db's worker loop: it runs ``jobs.sweep_stale_jobs`` at once,
so a worker restarted after a crash fails (retryably) what its predecessor left, and then every
``SUNLIGHT_STALE_SWEEP_SECONDS`` from a daemon thread, so a worker that stays up notices another
one that died. A sweep that fails (the database away for a moment) is logged and tried again
at the next tick; it never stops the worker.
"""

from __future__ import annotations

import logging
import threading

from django.conf import settings
from django.db import connection

from funds.importing.jobs import sweep_stale_jobs
from privacy.logs import log_failure

log = logging.getLogger(__name__)


def sweep_quietly() -> int:
    """Sweep once; log instead of raising, and let the connection go (the thread's own)."""
    try:
        return sweep_stale_jobs()
    except Exception:
        log_failure(log, "the stale import job sweep failed; it runs again at the next tick")
        return 0
    finally:
        if threading.current_thread() is not threading.main_thread():
            connection.close()


class Sweeper:
    """Sweep now, then every INTERVAL seconds on a daemon thread until ``stop``."""

    def __init__(self, interval: float | None = None) -> None:
        self.interval = interval or settings.SUNLIGHT_STALE_SWEEP_SECONDS
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="stale-job-sweep", daemon=True)

    def start(self) -> Sweeper:
        sweep_quietly()
        self._thread.start()
        return self

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            sweep_quietly()

    def stop(self) -> None:
        self._stop.set()
