"""Answers whose text is not valid Unicode, decoded anyway.

Attackers type the usernames, passwords and commands that events record, so a console can hand
back strings that are not text: a lone UTF-16 surrogate escape such as `"\\ud800"` (valid JSON,
but no character) or bytes that are not UTF-8. orjson refuses both, and rightly so, but a sync
that stopped there would stop at the same page on every run, and nothing after it would ever be
synced. Each broken piece becomes U+FFFD, the replacement character; the rest is kept exactly.
"""

from __future__ import annotations

import re
import typing as t
from dataclasses import dataclass

import orjson

REPLACEMENT_CHARACTER = "\ufffd"
_REPLACEMENT_ESCAPE = b"\\ufffd"
_REPLACEMENT_UTF8 = REPLACEMENT_CHARACTER.encode()

# Scanned left to right, every backslash in a JSON text starts an escape. So a pair of them is an
# escaped backslash (`\\ud800` is the text "\ud800", not an escape), a high surrogate escape
# followed by a low one is one character, and any other surrogate escape (group 1) stands alone.
_ESCAPES = re.compile(
    rb"\\\\"
    rb"|\\u[dD][89abAB][0-9a-fA-F]{2}\\u[dD][c-fC-F][0-9a-fA-F]{2}"
    rb"|(\\u[dD][89a-fA-F][0-9a-fA-F]{2})"
)

# An answer names at most this many of the objects it repaired; the count says the rest.
MAX_NAMED = 10


@dataclass(frozen=True)
class Repaired:
    """A JSON value decoded with its broken text replaced, and what was replaced."""

    value: t.Any
    lone_surrogates: int
    invalid_utf8: int

    def describe(self) -> str:
        """What was wrong, e.g. "2 lone surrogate escapes and 1 invalid UTF-8 sequence"."""
        parts = [
            _count(self.lone_surrogates, "lone surrogate escape"),
            _count(self.invalid_utf8, "invalid UTF-8 sequence"),
        ]
        return " and ".join(part for part in parts if part)

    def objects_affected(self) -> dict[str, list[t.Any]]:
        """The `id` of every object, in each list of the answer, that holds replaced text:
        `{"incidents": ["incident:...", ...]}` for a page of incidents."""
        affected: dict[str, list[t.Any]] = {}
        if not isinstance(self.value, dict):
            return affected
        for key, items in self.value.items():
            if not isinstance(items, list):
                continue
            ids = [
                item.get("id", f"#{position}") if isinstance(item, dict) else f"#{position}"
                for position, item in enumerate(items)
                if _holds_replacement(item)
            ]
            if ids:
                affected[key] = ids
        return affected


def decode_broken_text(body: bytes | bytearray) -> Repaired | None:
    """The JSON value of a body that orjson refused for its text, broken pieces replaced;
    None if nothing needed replacing or the body is not JSON even then (a truncated answer)."""
    fixed, lone_surrogates = _replace_lone_surrogates(body)
    try:
        return Repaired(orjson.loads(fixed), lone_surrogates, 0)
    except orjson.JSONDecodeError:
        pass
    text = fixed.decode("utf-8", errors="replace")
    invalid_utf8 = text.count(REPLACEMENT_CHARACTER) - fixed.count(_REPLACEMENT_UTF8)
    del fixed
    if invalid_utf8 == 0:
        return None  # the text was fine: what orjson refused is the JSON itself
    try:
        return Repaired(orjson.loads(text), lone_surrogates, invalid_utf8)
    except orjson.JSONDecodeError:
        return None


def _replace_lone_surrogates(body: bytes | bytearray) -> tuple[bytes | bytearray, int]:
    if b"\\u" not in body:
        return body, 0
    replaced = 0

    def replace(match: re.Match[bytes]) -> bytes:
        nonlocal replaced
        if match.group(1) is None:
            return match.group(0)
        replaced += 1
        return _REPLACEMENT_ESCAPE

    fixed = _ESCAPES.sub(replace, body)
    return (fixed, replaced) if replaced else (body, 0)


def _holds_replacement(value: t.Any) -> bool:
    if isinstance(value, str):
        return REPLACEMENT_CHARACTER in value
    if isinstance(value, dict):
        return any(
            _holds_replacement(key) or _holds_replacement(inner) for key, inner in value.items()
        )
    if isinstance(value, list):
        return any(_holds_replacement(inner) for inner in value)
    return False


def _count(number: int, thing: str) -> str:
    if number == 0:
        return ""
    return f"{number} {thing}" if number == 1 else f"{number} {thing}s"
