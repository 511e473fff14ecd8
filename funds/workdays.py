"""Working days of the official Chinese calendar, for publicity periods (公示期).

A publicity period is counted in working days: weekends and the public holidays the State
Council announces each year do not count, and the make-up working days (调休上班) on a weekend
do. The calendar comes from the maintained ``chinesecalendar`` package, which gains each year
once its holidays are announced; a deployment adds dates of its own (a local holiday, a year
the package does not cover yet) with ``SUNLIGHT_EXTRA_HOLIDAYS`` and
``SUNLIGHT_EXTRA_WORKDAYS``. A year the package does not cover counts Monday to Friday, and
says so in the log once per year.
"""

from __future__ import annotations

import logging
from datetime import date, timedelta

import chinese_calendar
from django.conf import settings

log = logging.getLogger(__name__)
_warned_years: set[int] = set()


def is_workday(day: date) -> bool:
    """Return whether DAY is a working day: the deployment's dates, then the official calendar."""
    if day in settings.SUNLIGHT_EXTRA_WORKDAYS:
        return True
    if day in settings.SUNLIGHT_EXTRA_HOLIDAYS:
        return False
    try:
        return chinese_calendar.is_workday(day)
    except NotImplementedError:
        if day.year not in _warned_years:
            _warned_years.add(day.year)
            log.warning(
                "The official holiday calendar does not cover %s yet: counting Monday to Friday. "
                "Add that year's holidays and make-up days with SUNLIGHT_EXTRA_HOLIDAYS and "
                "SUNLIGHT_EXTRA_WORKDAYS, or upgrade chinesecalendar.",
                day.year,
            )
        return day.weekday() < 5


def add_workdays(start: date, days: int) -> date:
    """Return the DAYS-th working day on or after START (START itself counts if it is one)."""
    if days < 1:
        raise ValueError("a period of working days has at least one day")
    day, counted = start, 0
    while True:
        if is_workday(day):
            counted += 1
            if counted == days:
                return day
        day += timedelta(days=1)
