"""Settings for the local demo (the README's run command)."""

from .base import *  # noqa: F403
