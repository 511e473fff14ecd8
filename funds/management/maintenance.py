"""What the maintenance commands share: who ran them, recorded in the audit record."""

from __future__ import annotations

import getpass
from typing import Any

from django.contrib.auth import get_user_model

from funds import audit


def add_operator_argument(parser: Any) -> None:
    parser.add_argument(
        "--by",
        default="",
        metavar="NAME",
        help="who runs this (an account's username, or a name); defaults to the OS user",
    )


def record_maintenance(command: str, *, by: str, **details: Any) -> None:
    """Record that COMMAND ran, by whom (an account when BY names one), with DETAILS (counts)."""
    name = by.strip() or _os_user()
    user = get_user_model().objects.filter(username=name).first()
    audit.record(audit.Kind.MAINTENANCE, user=user, operator=name, command=command, **details)


def _os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry: a container's anonymous uid
        return "?"
