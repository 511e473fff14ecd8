"""Settings for the local demo (the README's run command)."""

from .base import *  # noqa: F403
from .base import INSTALLED_APPS

# The demo data and its load_demo command: dev and test only, never production.
INSTALLED_APPS = [*INSTALLED_APPS, "demo"]
