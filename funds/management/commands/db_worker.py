"""django-tasks-db's worker, which also sweeps import jobs a dead worker left running.

``funds`` comes before ``django_tasks_db`` in INSTALLED_APPS, so ``manage.py db_worker`` is
this command: the same options and loop, with a ``Sweeper`` (funds.importing.sweeper) that
sweeps at start and then every ``SUNLIGHT_STALE_SWEEP_SECONDS``.
"""

from __future__ import annotations

from django_tasks_db.management.commands.db_worker import Command as DatabaseWorkerCommand

from funds.importing.sweeper import Sweeper


class Command(DatabaseWorkerCommand):
    help = DatabaseWorkerCommand.help + " (and sweep import jobs a stopped worker left running)"

    def handle(self, *args, **options) -> None:
        sweeper = Sweeper().start()
        try:
            super().handle(*args, **options)
        finally:
            sweeper.stop()
