"""The tap's notion of "now": one function, so tests can move the day on with the console."""

from __future__ import annotations

import datetime


def utc_now() -> datetime.datetime:
    """The current time, timezone-aware, in UTC."""
    return datetime.datetime.now(datetime.timezone.utc)
