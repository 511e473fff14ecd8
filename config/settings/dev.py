"""Settings for the local demo (the README's run command)."""

from .base import *  # noqa: F403
from .base import INSTALLED_APPS

# The demo data and its load_demo command: dev and test only, never production.
INSTALLED_APPS = [*INSTALLED_APPS, "demo"]

# funds 0016's covering indexes use INCLUDE columns, which SQLite ignores (they stay plain
# indexes there): the demo on SQLite need not warn about it at every start. Production runs on
# PostgreSQL and silences nothing (docs/security.md, the deploy check).
SILENCED_SYSTEM_CHECKS = ["models.W040"]
