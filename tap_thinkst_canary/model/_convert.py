"""Value converters: API strings in, typed JSON values out.

Every converter takes one raw value and returns the typed value, ``None`` for an
absent value (``null`` or an empty string), or :data:`INVALID` when the value is
present but cannot be read as the declared type. Converters never raise: the
caller keeps an :data:`INVALID` value's raw form in ``extra`` so nothing is lost.

Date-times come out in one form only: RFC 3339 in UTC with a ``Z`` suffix,
``YYYY-MM-DDTHH:MM:SSZ``, with ``.ffffff`` microseconds only when the source has
a non-zero fraction of a second.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Annotated, Any, Final

import msgspec
from typing_extensions import override


class _Invalid:
    """Marker for a value that is present but not of its column's type."""

    __slots__ = ()

    @override
    def __repr__(self) -> str:
        return "INVALID"


INVALID: Final = _Invalid()

Converter = Callable[[Any], Any]

_EPOCH_ORDINAL: Final = date(1970, 1, 1).toordinal()
_INT64_MIN: Final = -(2**63)
_INT64_MAX: Final = 2**63 - 1
# Characters a decimal number can be written with; anything else cannot be one.
_NUMBER_CHARACTERS: Final = frozenset("0123456789+-.eE")
_TRUE_WORDS: Final = frozenset({"true", "yes", "y", "1", "on", "t"})
_FALSE_WORDS: Final = frozenset({"false", "no", "n", "0", "off", "f"})
# The console's own spellings, looked up before any normalising.
_EXACT_BOOLEAN_WORDS: Final = {"True": True, "False": False, "true": True, "false": False}
_MONTHS: Final = {
    name: f"{number:02d}"
    for number, name in enumerate(
        ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"),
        start=1,
    )
}
# Zone suffixes that name UTC without an explicit offset. A value with no zone at all
# is not an instant (the console writes local times that way) and is not read as one.
_UTC_NAMES: Final = frozenset({"Z", "UTC", "GMT", "(UTC)", "(GMT)", "UTC+0000", "GMT+0000"})


def to_string(value: Any) -> Any:
    """Strings pass through; numbers become their decimal text."""
    if value is None or type(value) is str:
        return value
    if type(value) is int or (type(value) is float and math.isfinite(value)):
        return str(value)
    return INVALID


def to_integer(value: Any) -> Any:
    """Integers, integral floats and decimal strings such as ``"8080"``.

    Only 64-bit integers are accepted: warehouses store integer columns as BIGINT,
    and a larger value would fail the load instead of landing in ``extra``.
    """
    kind = type(value)
    if kind is int:
        return value if _INT64_MIN <= value <= _INT64_MAX else INVALID
    if value is None:
        return None
    if kind is str:
        if value.isdigit() and value.isascii():
            number = int(value)
        else:
            text = value.strip()
            if not text:
                return None
            if not _NUMBER_CHARACTERS.issuperset(text):
                return INVALID  # words, placeholders, underscores: no need to try
            try:
                number = int(text)
            except ValueError:
                return _integral_float(text)
        return number if _INT64_MIN <= number <= _INT64_MAX else INVALID
    if kind is float and math.isfinite(value) and value.is_integer():
        return _integral_float(repr(value))
    return INVALID


def _integral_float(text: str) -> Any:
    try:
        number = float(text)
    except ValueError:
        return INVALID
    if math.isfinite(number) and number.is_integer() and _INT64_MIN <= number <= _INT64_MAX:
        return int(number)
    return INVALID


def to_number(value: Any) -> Any:
    """Finite numbers and numeric strings such as ``"19579.0"``."""
    kind = type(value)
    if kind is float:
        return value if math.isfinite(value) else INVALID
    if kind is int:
        return value
    if value is None:
        return None
    if kind is str:
        text = value.strip()
        if not text:
            return None
        if not _NUMBER_CHARACTERS.issuperset(text):
            return INVALID
        try:
            number = float(text)
        except ValueError:
            return INVALID
        return number if math.isfinite(number) else INVALID
    return INVALID


def to_boolean(value: Any) -> Any:
    """Booleans, ``"True"``/``"False"`` (any case), ``"yes"``/``"no"``, 0 and 1."""
    kind = type(value)
    if kind is bool:
        return value
    if value is None:
        return None
    if kind is str:
        exact = _EXACT_BOOLEAN_WORDS.get(value)
        if exact is not None:
            return exact
        word = value.strip().lower()
        if word in _TRUE_WORDS:
            return True
        if word in _FALSE_WORDS:
            return False
        return None if not word else INVALID
    if kind is int and value in (0, 1):
        return bool(value)
    return INVALID


def to_flag(value: Any) -> Any:
    """A flag that is set by its mere presence (``SYN``/``ACK`` in scan events).

    An explicit false value still reads as false.
    """
    if value is None:
        return True
    typed = to_boolean(value)
    return True if typed is None or typed is INVALID else typed


def to_object(value: Any) -> Any:
    if value is None or type(value) is dict:
        return value
    return INVALID


def to_port_list(value: Any) -> Any:
    """``"23,80,443"`` or ``[23, "80"]`` -> ``[23, 80, 443]``."""
    if value is None:
        return None
    if type(value) is str:
        try:
            # A plain '23,80,443' is a JSON array without its brackets: read in C, each port
            # checked to be a 64-bit integer there too.
            ports: list[int] = _PORTS.decode(f"[{value}]")
        except msgspec.MsgspecError:
            pass  # empty items, leading zeros, other separators: read item by item below
        else:
            return ports
        return _port_items(item for item in value.replace(";", ",").split(",") if item.strip())
    if type(value) is list:
        return _port_items(value)
    return INVALID


def _port_items(items: Iterable[Any]) -> Any:
    """A port list read item by item: each a `to_integer`, none of them absent."""
    ports = []
    for item in items:
        port = to_integer(item)
        if port is None or port is INVALID:
            return INVALID
        ports.append(port)
    return ports


_PORTS: Final = msgspec.json.Decoder(
    list[Annotated[int, msgspec.Meta(ge=_INT64_MIN, le=_INT64_MAX)]]
)


def to_datetime(value: Any) -> Any:
    """Any instant the API writes, as an RFC 3339 UTC string.

    Accepted forms: epoch seconds as a number or string (``1586338742``,
    ``"1586249510.069870"``), ``*_std`` values (``2020-04-08 09:39:02 UTC+0000``,
    in any offset), ISO 8601, ``2020-04-07 08:51:50 (UTC)``, HTTP dates
    (``Wed, 08 Apr 2020 10:55:09 GMT``) and JavaScript dates
    (``Tue Apr 14 2020 22:11:18 GMT+0000 (UTC)``).
    """
    kind = type(value)
    if kind is str:
        if value[19:] == " UTC+0000" and len(value) == 28:
            return _from_calendar_text(value)
        if value.isdigit() and value.isascii():
            # Whole epoch seconds written as text ('1586338742'), as often as the number.
            value, kind = int(value), int
    if kind is int:
        minutes, second = divmod(value, 60)
        try:
            return f"{_minute_text(minutes)}{_SECOND_SUFFIXES[second]}Z"
        except (ValueError, OverflowError):
            return INVALID
    if kind is str:
        text = value.strip()
        if not text:
            return None
        head = text[0]
        if head.isdigit():
            if len(text) >= 19 and text[4] == "-":
                return _from_calendar_text(text)
            return _from_epoch_text(text)
        if head == "-":
            return _from_epoch_text(text)
        if len(text) >= 25 and text[3] == ",":
            return _from_http_date(text)
        return _from_javascript_date(text)
    if value is None:
        return None
    if kind is float:
        if not math.isfinite(value):
            return INVALID
        micros = round(value * 1_000_000)
        seconds, micros = divmod(micros, 1_000_000)
        return _format_epoch(seconds, micros)
    return INVALID


def same_instant(first: str, second: str) -> bool:
    """Whether two different converted date-times agree: the same second, one of them without
    a fraction of it (two different fractions are two different instants)."""
    return first[:19] == second[:19] and min(len(first), len(second)) == _WHOLE_SECOND_LENGTH


# 'YYYY-MM-DDTHH:MM:SSZ'
_WHOLE_SECOND_LENGTH: Final = 20


def renders(text: str, instant: str) -> bool:
    """Whether `text` is the console's 'YYYY-MM-DD HH:MM:SS UTC+0000' (``*_std``) or HTTP date
    ('Wed, 08 Apr 2020 10:55:09 GMT') rendering of the converted date-time `instant`, to the
    second. Compared by slices: the usual renderings of one instant cost one conversion, not
    three."""
    if text[19:] == " UTC+0000":
        return text[:19] == instant[:19].replace("T", " ")
    return (
        len(text) == _HTTP_DATE_LENGTH
        and text[25:] == " GMT"
        and text[17:25] == instant[11:19]
        and text[12:16] == instant[:4]
        and text[5:7] == instant[8:10]
        and _MONTHS.get(text[8:11]) == instant[5:7]
        and text[3:5] == ", "
        and text[7] == text[11] == text[16] == " "
        and text[:3].isalpha()
    )


_HTTP_DATE_LENGTH: Final = len("Wed, 08 Apr 2020 10:55:09 GMT")


_SECOND_SUFFIXES: Final = tuple(f"{second:02d}" for second in range(60))
# Records come in time order, so only the latest minutes are ever hit again: a small cache
# hits as often as a large one, and a large one would fill up and grow with the history.
_RECENT_MINUTES: Final = 1024


@lru_cache(maxsize=_RECENT_MINUTES)
def _minute_text(minutes_since_epoch: int) -> str:
    """'YYYY-MM-DDTHH:MM:' for a minute; events arrive in bursts, so this is mostly a hit."""
    days, minute_of_day = divmod(minutes_since_epoch, 1440)
    day = date.fromordinal(_EPOCH_ORDINAL + days).isoformat()
    hour, minute = divmod(minute_of_day, 60)
    return f"{day}T{hour:02d}:{minute:02d}:"


def _format_epoch(seconds: int, micros: int) -> Any:
    minutes, second = divmod(seconds, 60)
    try:
        prefix = _minute_text(minutes)
    except (ValueError, OverflowError):
        return INVALID
    if micros:
        return f"{prefix}{_SECOND_SUFFIXES[second]}.{micros:06d}Z"
    return f"{prefix}{_SECOND_SUFFIXES[second]}Z"


@lru_cache(maxsize=_RECENT_MINUTES)
def _utc_minute_prefix(text: str) -> str | None:
    """'YYYY-MM-DD HH:MM' -> 'YYYY-MM-DDTHH:MM:', or None when it is not a real minute."""
    if text[10] != " ":
        return None
    try:
        datetime.fromisoformat(f"{text[:10]}T{text[11:16]}")
    except ValueError:
        return None
    return f"{text[:10]}T{text[11:16]}:"


_VALID_SECONDS: Final = frozenset(_SECOND_SUFFIXES)


def _from_epoch_text(text: str) -> Any:
    whole, dot, fraction = text.partition(".")
    negative = whole.startswith("-")
    digits = whole[1:] if negative else whole
    if not (digits.isascii() and digits.isdigit()):
        return INVALID
    if dot and not (fraction.isascii() and fraction.isdigit()):
        return INVALID
    seconds = int(digits)
    micros = int((fraction + "000000")[:6]) if fraction else 0
    if negative:
        seconds = -seconds
        if micros:
            seconds, micros = seconds - 1, 1_000_000 - micros
    return _format_epoch(seconds, micros)


def _from_calendar_text(text: str) -> Any:
    # 'YYYY-MM-DD HH:MM:SS[.ffffff][ zone]' where zone is an offset, a UTC name,
    # or a name followed by an offset ('UTC+0000', 'SAST+0200').
    if text[19:] == " UTC+0000" and text[16] == ":" and text[17:19] in _VALID_SECONDS:
        # The form of every *_std value asked for in UTC: slices, no parsing.
        prefix = _utc_minute_prefix(text[:16])
        if prefix is not None:
            return f"{prefix}{text[17:19]}Z"
    day, clock = text[:10], text[11:19]
    rest = text[19:]
    micros = 0
    if rest.startswith("."):
        end = 1
        while end < len(rest) and rest[end].isdigit():
            end += 1
        fraction = rest[1:end]
        if not fraction:
            return INVALID
        micros = int((fraction + "000000")[:6])
        rest = rest[end:]
    offset = _offset_minutes(rest.strip())
    if offset is None:
        return INVALID
    try:
        moment = datetime.fromisoformat(f"{day}T{clock}")
    except ValueError:
        return INVALID
    if text[10] not in "T ":
        return INVALID
    if offset:
        try:
            moment -= timedelta(minutes=offset)
        except OverflowError:
            return INVALID
        day, clock = moment.date().isoformat(), moment.time().isoformat()
    if micros:
        return f"{day}T{clock}.{micros:06d}Z"
    return f"{day}T{clock}Z"


def _offset_minutes(zone: str) -> int | None:
    """Minutes east of UTC for a zone suffix, or None when it is not readable."""
    if zone in _UTC_NAMES:
        return 0
    if zone.endswith(")"):
        # 'GMT+0000 (UTC)': the offset before the parenthesised name decides.
        zone = zone.partition("(")[0].strip()
        if zone in _UTC_NAMES:
            return 0
    sign_at = max(zone.rfind("+"), zone.rfind("-"))
    if sign_at < 0:
        return None
    digits = zone[sign_at + 1 :].replace(":", "")
    if len(digits) != 4 or not (digits.isascii() and digits.isdigit()):
        return None
    hours, minutes = int(digits[:2]), int(digits[2:])
    if hours > 23 or minutes > 59:
        return None
    offset = hours * 60 + minutes
    return -offset if zone[sign_at] == "-" else offset


def _from_http_date(text: str) -> Any:
    # 'Wed, 08 Apr 2020 10:55:09 GMT'
    parts = text.split()
    if len(parts) != 6 or parts[5] not in ("GMT", "UTC"):
        return INVALID
    _, day, month_name, year, clock, _ = parts
    month = _MONTHS.get(month_name)
    if month is None or len(day) != 2 or len(year) != 4:
        return INVALID
    return _from_calendar_text(f"{year}-{month}-{day} {clock} UTC+0000")


def _from_javascript_date(text: str) -> Any:
    # 'Tue Apr 14 2020 22:11:18 GMT+0000 (UTC)'
    parts = text.split(None, 5)
    if len(parts) < 5:
        return INVALID
    _, month_name, day, year, clock = parts[:5]
    zone = parts[5] if len(parts) == 6 else ""
    month = _MONTHS.get(month_name)
    if month is None or len(day) != 2 or len(year) != 4 or len(clock) != 8:
        return INVALID
    return _from_calendar_text(f"{year}-{month}-{day} {clock} {zone}")
