"""The state a sync resumes from, checked before the SDK takes it.

A state can come in the Singer forms other tools hand out: Meltano's `{"singer_state": ...}`
(what `meltano state get` prints) and a whole STATE message (`{"type": "STATE", "value": ...}`),
both unwrapped here. What is left must be a state of this tap's shape: a broken bookmark would
otherwise stop the sync with a traceback, or be sent to the console as it is. A state that holds
nothing of this tap's is not an error, but the sync it leads to starts over, so it is said.
"""

from __future__ import annotations

import copy
import datetime
import inspect
import json
import re
import typing as t
from dataclasses import dataclass

from tap_thinkst_canary.streams import AUDIT_AFTER_ID_KEY, AUDIT_DAY_KEY, STREAM_TYPES

# What the SDK keeps in a stream's bookmark beside the replication key and value.
PROGRESS_MARKERS_KEY = "progress_markers"
PARTITIONS_KEY = "partitions"
CONTEXT_KEY = "context"

# A bookmark is written back out in every STATE message: the JSON writer takes 64-bit integers.
LOWEST_INTEGER = -(2**63)
HIGHEST_INTEGER = 2**64 - 1
HIGHEST_ID = 2**63 - 1  # the largest id a console (or a warehouse's bigint) holds
ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def _replication_keys() -> dict[str, str | None]:
    """Each stream's name and replication key (None for a snapshot), as its class declares them:
    a snapshot's class inherits the SDK's `replication_key` property, not a string."""
    keys: dict[str, str | None] = {}
    for stream_type in STREAM_TYPES:
        declared = inspect.getattr_static(stream_type, "replication_key")
        keys[inspect.getattr_static(stream_type, "name")] = (
            declared if isinstance(declared, str) else None
        )
    return keys


REPLICATION_KEYS = _replication_keys()


class InvalidStateError(ValueError):
    """The state cannot be resumed from: the message says what is wrong, as the end of a
    sentence that begins with where the state came from."""


@dataclass(frozen=True)
class CheckedState:
    """A state ready for the SDK, and the warning to give when it holds nothing of this tap's."""

    state: dict[str, t.Any]
    starts_over_because: str | None = None


def check_state(value: t.Any) -> CheckedState:
    """Unwrap `value` from its Singer forms and check it is a state of this tap's streams.

    Raises `InvalidStateError` when the sync cannot resume from it. Bookmarks of streams this
    tap does not have are left out; an `updated_id` or id given as digits becomes an integer.
    """
    state = _unwrap(value)
    if not state:
        return CheckedState({})
    if "bookmarks" not in state:
        keys = ", ".join(f"`{key}`" for key in sorted(state))
        return CheckedState({}, f"it has no `bookmarks`, only {keys}")
    bookmarks = state["bookmarks"]
    if not isinstance(bookmarks, dict):
        raise InvalidStateError(f"holds `bookmarks` that are {_kind(bookmarks)}, not an object")
    # A copy: the checks below fill in and normalise, and the caller's state stays as it was.
    ours = copy.deepcopy({name: bookmarks[name] for name in REPLICATION_KEYS if name in bookmarks})
    for name, bookmark in ours.items():
        _check_bookmark(name, bookmark)
    if bookmarks and not ours:
        names = ", ".join(f"`{name}`" for name in sorted(bookmarks))
        return CheckedState({}, f"its bookmarks are for streams this tap does not have: {names}")
    return CheckedState({"bookmarks": ours})


def _unwrap(value: t.Any) -> dict[str, t.Any]:
    while isinstance(value, dict) and "bookmarks" not in value:
        if "singer_state" in value:
            value = value["singer_state"]
            where = "`singer_state`"
        elif value.get("type") == "STATE" and "value" in value:
            value = value["value"]
            where = "STATE message's `value`"
        else:
            return value
        if not isinstance(value, dict):
            raise InvalidStateError(f"holds a {where} that is {_kind(value)}, not an object")
    if not isinstance(value, dict):
        raise InvalidStateError(f"holds {_kind(value)}, not an object")
    return value


def _check_bookmark(stream: str, bookmark: t.Any) -> None:
    where = f"bookmarks.{stream}"
    if not isinstance(bookmark, dict):
        raise InvalidStateError(f"holds `{where}` as {_kind(bookmark)}, not an object")
    _check_replication(stream, bookmark, where)
    if stream == "audit_trail":
        _check_audit_position(bookmark, where)
    _check_sdk_keys(bookmark, where)
    # Each console's bookmark is a partition of the stream's, of the same shape.
    for index, partition in enumerate(bookmark.get(PARTITIONS_KEY) or ()):
        at = f"{where}.{PARTITIONS_KEY}[{index}]"
        _check_replication(stream, partition, at)
        if stream == "audit_trail":
            _check_audit_position(partition, at)
    _check_integers(bookmark, where)


# The keys of a bookmark of the time when a stream kept one bookmark, not one per console.
SINGLE_CONSOLE_BOOKMARK_KEYS = (
    "replication_key",
    "replication_key_value",
    AUDIT_DAY_KEY,
    AUDIT_AFTER_ID_KEY,
)


def per_console(state: dict[str, t.Any], consoles: list[str]) -> tuple[dict[str, t.Any], str]:
    """`state` with each console's bookmarks where the sync reads them, and what could not be
    kept, if anything (else "").

    A state written when the tap synced one console, and so kept one bookmark per stream, is
    that console's when the sync has one console. With several, nothing says whose it was: it
    is dropped, and those streams start over.
    """
    dropped: list[str] = []
    for stream, bookmark in state.get("bookmarks", {}).items():
        single = {k: bookmark.pop(k) for k in SINGLE_CONSOLE_BOOKMARK_KEYS if k in bookmark}
        if not single or bookmark.get(PARTITIONS_KEY):
            continue
        if len(consoles) == 1:
            bookmark[PARTITIONS_KEY] = [{CONTEXT_KEY: {"console": consoles[0]}, **single}]
        else:
            dropped.append(f"`{stream}`")
    if not dropped:
        return state, ""
    return state, (
        f"the bookmarks of {', '.join(dropped)} are of a single console, and this sync has "
        f"{len(consoles)}: those streams start over for every console"
    )


def _check_replication(stream: str, bookmark: dict[str, t.Any], where: str) -> None:
    """The replication key is this stream's, and its value a valid id of it."""
    expected = REPLICATION_KEYS[stream]
    if expected is None or bookmark.get("replication_key_value") is None:
        return
    key = bookmark.setdefault("replication_key", expected)
    if key != expected:
        raise InvalidStateError(
            f"holds `{where}` on the replication key {key!r}, where this tap's is {expected!r} "
            "(the state of another tap?)"
        )
    value = bookmark["replication_key_value"]
    bookmark["replication_key_value"] = _as_id(value, f"{where}.replication_key_value", expected)


def _check_audit_position(bookmark: dict[str, t.Any], where: str) -> None:
    day = bookmark.get(AUDIT_DAY_KEY)
    if day is not None and not _is_iso_day(day):
        raise InvalidStateError(
            f"holds `{where}.{AUDIT_DAY_KEY}` = {_shown(day)}, which is not a day (YYYY-MM-DD)"
        )
    after_id = bookmark.get(AUDIT_AFTER_ID_KEY)
    if after_id is not None:
        bookmark[AUDIT_AFTER_ID_KEY] = _as_id(after_id, f"{where}.{AUDIT_AFTER_ID_KEY}", "id")


def _check_sdk_keys(bookmark: dict[str, t.Any], where: str) -> None:
    """The SDK's own keys have the shapes the SDK reads them with."""
    markers = bookmark.get(PROGRESS_MARKERS_KEY)
    if markers is not None and not isinstance(markers, dict):
        raise InvalidStateError(
            f"holds `{where}.{PROGRESS_MARKERS_KEY}` as {_kind(markers)}, not an object"
        )
    partitions = bookmark.get(PARTITIONS_KEY)
    if partitions is None:
        return
    if not isinstance(partitions, list):
        raise InvalidStateError(
            f"holds `{where}.{PARTITIONS_KEY}` as {_kind(partitions)}, not a list"
        )
    for partition in partitions:
        if not isinstance(partition, dict) or not isinstance(partition.get(CONTEXT_KEY), dict):
            raise InvalidStateError(
                f"holds `{where}.{PARTITIONS_KEY}` with an entry that is not an object with a "
                f"`{CONTEXT_KEY}` object"
            )


def _check_integers(value: t.Any, where: str) -> None:
    """Every integer fits the JSON writer, which stops the sync at one that does not."""
    if isinstance(value, dict):
        for key, item in value.items():
            _check_integers(item, f"{where}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _check_integers(item, f"{where}[{index}]")
    elif isinstance(value, int) and not LOWEST_INTEGER <= value <= HIGHEST_INTEGER:
        raise InvalidStateError(f"holds `{where}` = {value}, an integer beyond the 64-bit range")


def _as_id(value: t.Any, where: str, name: str) -> int:
    """`value` as a console id: a whole number from 0 up, given as such or as its digits.

    A float or a boolean is refused rather than rounded: this tap never writes one, and a guess
    could skip records or sync them all again.
    """
    if isinstance(value, str) and value.isascii() and value.isdigit():
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= HIGHEST_ID:
        return value
    raise InvalidStateError(
        f"holds `{where}` = {_shown(value)}, which is not an `{name}` "
        f"(a whole number from 0 to {HIGHEST_ID})"
    )


def _is_iso_day(value: t.Any) -> bool:
    if not isinstance(value, str) or not ISO_DAY.fullmatch(value):
        return False
    try:
        datetime.date.fromisoformat(value)
    except ValueError:
        return False
    return True


def _kind(value: t.Any) -> str:
    kinds = {dict: "an object", list: "a list", str: "a string", bool: "a boolean"}
    kinds |= {int: "a number", float: "a number", type(None): "null"}
    return kinds.get(type(value), type(value).__name__)


def _shown(value: t.Any) -> str:
    """A value as the state file spells it, cut short if long."""
    text = json.dumps(value)
    return text if len(text) <= 40 else text[:37] + "..."


def console_bookmark(state: t.Mapping[str, t.Any], stream: str, console: str) -> dict[str, t.Any]:
    """The bookmark of `stream` for `console` in a state this tap wrote, or {} if it has none."""
    bookmark = (state.get("bookmarks") or {}).get(stream) or {}
    for partition in bookmark.get(PARTITIONS_KEY) or ():
        if partition.get(CONTEXT_KEY) == {"console": console}:
            return dict(partition)
    return {}


def consoles_in_state(state: t.Mapping[str, t.Any]) -> set[str]:
    """The consoles a state holds a bookmark of (more than an empty partition)."""
    return {
        partition[CONTEXT_KEY]["console"]
        for bookmark in (state.get("bookmarks") or {}).values()
        if isinstance(bookmark, dict)
        for partition in bookmark.get(PARTITIONS_KEY) or ()
        if isinstance(partition.get(CONTEXT_KEY, {}).get("console"), str)
        and set(partition) - {CONTEXT_KEY}
    }
