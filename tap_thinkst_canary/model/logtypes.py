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

_UNKNOWN: Final = Logtype("", "")


def _lookup(code: Any) -> Logtype:
    if type(code) is not str:
        code = str(code) if type(code) is int else ""
    return LOGTYPES.get(code.strip(), _UNKNOWN)


def logtype_name(code: Any) -> str | None:
    """A readable name for a logtype code (``"4002"`` -> ``"SSH Login Attempt"``), or None."""
    return _lookup(code).name or None


def logtype_category(code: Any) -> str | None:
    """The service or area a logtype belongs to (``"4002"`` -> ``"SSH"``), or None."""
    return _lookup(code).category or None
