"""Time formats of the Canary API, in one place."""

from __future__ import annotations

from datetime import date, datetime, timezone, tzinfo
from email.utils import format_datetime
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

UTC = timezone.utc
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()


class UnknownTimezoneError(ValueError):
    """A `tz` parameter that names no time zone."""


@lru_cache(maxsize=64)
def zone(name: str | None) -> tzinfo:
    if not name or name.upper() == "UTC":
        return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise UnknownTimezoneError(name) from exc


def std(epoch: float, tz: tzinfo = UTC) -> str:
    """``2020-04-08 09:39:02 UTC+0000``: the `*_std` format, in the requested zone."""
    if tz is UTC:
        # Hot path (every event carries one): format UTC by arithmetic, not strftime.
        days, seconds = divmod(int(epoch), 86400)
        return f"{_utc_day(days)} {_clock_time(seconds)} UTC+0000"
    return datetime.fromtimestamp(int(epoch), tz).strftime("%Y-%m-%d %H:%M:%S UTC%z")


@lru_cache(maxsize=4096)
def _utc_day(days_since_epoch: int) -> str:
    return date.fromordinal(_EPOCH_ORDINAL + days_since_epoch).isoformat()


def http_date(epoch: float) -> str:
    """``Wed, 08 Apr 2020 10:55:09 GMT``: the format of the `updated` fields."""
    days, seconds = divmod(int(epoch), 86400)
    return f"{_http_day(days)} {_clock_time(seconds)} GMT"


@lru_cache(maxsize=4096)
def _http_day(days_since_epoch: int) -> str:
    return format_datetime(datetime.fromtimestamp(days_since_epoch * 86400, UTC))[:16]


@lru_cache(maxsize=86400)
def _clock_time(seconds_of_day: int) -> str:
    hours, seconds = divmod(seconds_of_day, 3600)
    minutes, seconds = divmod(seconds, 60)
    return f"{hours:02d}:{minutes:02d}:{seconds:02d}"


def printable(epoch: float) -> str:
    """``Tue Apr 14 2020 22:11:18 GMT+0000 (UTC)``: the birds' `first_seen`/`last_seen`."""
    return datetime.fromtimestamp(int(epoch), UTC).strftime("%a %b %d %Y %H:%M:%S GMT+0000 (UTC)")


def token_printable(epoch: float) -> str:
    """``2020-04-07 08:51:50 (UTC)``: the tokens' `created_printable`."""
    return datetime.fromtimestamp(int(epoch), UTC).strftime("%Y-%m-%d %H:%M:%S (UTC)")


def local_time(epoch: float) -> str:
    days, seconds = divmod(int(epoch), 86400)
    return f"{_utc_day(days)} {_clock_time(seconds)}"
