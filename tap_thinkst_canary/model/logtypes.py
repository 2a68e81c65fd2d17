"""The catalogue of incident logtypes, generated from the API documentation.

``logtypes.json`` is written by ``scripts/generate_logtypes.py``; it ships inside
the package so the tap never needs the documentation at run time.
"""

from __future__ import annotations

import json
from importlib import resources
from types import MappingProxyType
from typing import Any, Final, NamedTuple


class Logtype(NamedTuple):
    name: str
    category: str


def _load() -> dict[str, Any]:
    text = resources.files(__package__).joinpath("logtypes.json").read_text(encoding="utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


_DATA: Final = _load()

LOGTYPES: Final[MappingProxyType[str, Logtype]] = MappingProxyType(
    {code: Logtype(entry["name"], entry["category"]) for code, entry in _DATA["logtypes"].items()}
)
"""Logtype code (``"3001"``) -> ``(name, category)``."""

DOCUMENTED_EVENT_FIELDS: Final[MappingProxyType[str, tuple[str, ...]]] = MappingProxyType(
    {code: tuple(entry["event_fields"]) for code, entry in _DATA["logtypes"].items()}
)
"""Logtype code -> the event field names the documentation describes for it."""

UNKNOWN_LOGTYPE: Final = Logtype("", "")


def lookup(code: Any) -> Logtype:
    """The catalogue entry for a code (``"4002"``, ``4002``), or empty strings if unknown."""
    if type(code) is str:
        found = LOGTYPES.get(code)
        return found if found is not None else LOGTYPES.get(code.strip(), UNKNOWN_LOGTYPE)
    return LOGTYPES.get(str(code), UNKNOWN_LOGTYPE) if type(code) is int else UNKNOWN_LOGTYPE


def logtype_name(code: Any) -> str | None:
    """A readable name for a logtype code (``"4002"`` -> ``"SSH Login Attempt"``), or None."""
    return lookup(code).name or None


def logtype_category(code: Any) -> str | None:
    """The service or area a logtype belongs to (``"4002"`` -> ``"SSH"``), or None."""
    return lookup(code).category or None
