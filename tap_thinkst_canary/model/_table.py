"""Declarative column tables: one declaration gives both the JSON schema and the converter."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from tap_thinkst_canary.model._convert import (
    INVALID,
    Converter,
    same_instant,
    to_boolean,
    to_datetime,
    to_flag,
    to_integer,
    to_number,
    to_object,
    to_port_list,
    to_string,
)

REDACTED: Final = "[REDACTED]"


@dataclass(frozen=True)
class Kind:
    """A column type: its JSON schema and the converter that produces it."""

    schema: Mapping[str, Any]
    convert: Converter
    is_datetime: bool = False


def _to_string_list(value: Any) -> Any:
    if value is None:
        return None
    if type(value) is list and all(type(item) is str for item in value):
        return value
    return INVALID


STRING: Final = Kind({"type": ["string", "null"]}, to_string)
INTEGER: Final = Kind({"type": ["integer", "null"]}, to_integer)
NUMBER: Final = Kind({"type": ["number", "null"]}, to_number)
BOOLEAN: Final = Kind({"type": ["boolean", "null"]}, to_boolean)
FLAG: Final = Kind({"type": ["boolean", "null"]}, to_flag)
DATETIME: Final = Kind({"type": ["string", "null"], "format": "date-time"}, to_datetime, True)
OBJECT: Final = Kind({"type": ["object", "null"], "additionalProperties": True}, to_object)
STRING_ARRAY: Final = Kind(
    {"type": ["array", "null"], "items": {"type": "string"}}, _to_string_list
)
PORT_LIST: Final = Kind({"type": ["array", "null"], "items": {"type": "integer"}}, to_port_list)

EXTRA_SCHEMA: Final[Mapping[str, Any]] = {
    "type": ["object", "null"],
    "additionalProperties": True,
    "description": "Every field the API sent that has no typed column, or whose value could not "
    "be converted to its column's type, under its original name.",
}


# What a raw key feeds: (column name, converter, whether the column is a date-time).
_Target = tuple[str, Converter | None, bool]

# Marks raw keys a table skips because its caller converts them (nested objects).
_HANDLED_ELSEWHERE: Final[_Target] = ("", None, False)


@dataclass(frozen=True)
class Column:
    """One typed output column, read from one or more raw keys.

    When several raw keys feed a column (an epoch and its ``*_std`` rendering, or
    ``USERNAME`` and ``user``), the first usable value fills it and the others are
    dropped only if they agree with it (for date-times, the most precise agreeing
    rendering is kept); a disagreeing value is kept in ``extra``.
    """

    name: str
    kind: Kind
    description: str
    sources: tuple[str, ...] = field(default=())

    def raw_keys(self) -> tuple[str, ...]:
        return self.sources or (self.name,)

    def schema(self) -> dict[str, Any]:
        return {**self.kind.schema, "description": self.description}


class Table:
    """A set of columns compiled into a raw-key lookup for one pass over a raw object."""

    def __init__(
        self,
        columns: Iterable[Column],
        *,
        any_case: bool = False,
        handled_elsewhere: Iterable[str] = (),
    ) -> None:
        self.columns: tuple[Column, ...] = tuple(columns)
        names = [column.name for column in self.columns]
        if len(set(names)) != len(names):
            raise ValueError(f"duplicate column names in {names}")
        keymap: dict[str, _Target] = {}
        for column in self.columns:
            target: _Target = (column.name, column.kind.convert, column.kind.is_datetime)
            for key in column.raw_keys():
                if key in keymap:
                    raise ValueError(f"raw key {key!r} feeds two columns")
                keymap[key] = target
        if any_case:
            # Different logtypes spell the same field USERNAME, username or Username.
            for key, known in list(keymap.items()):
                for variant in (key.lower(), key.upper(), key.title()):
                    keymap.setdefault(variant, known)
        for key in handled_elsewhere:
            keymap[key] = _HANDLED_ELSEWHERE
        self._keymap = keymap

    def column_for(self, raw_key: str) -> str | None:
        target = self._keymap.get(raw_key)
        return target[0] if target and target[1] is not None else None

    def properties(self) -> dict[str, dict[str, Any]]:
        return {column.name: column.schema() for column in self.columns}

    def fill(self, raw: Mapping[str, Any], out: dict[str, Any]) -> dict[str, Any] | None:
        """Convert ``raw`` into the columns of ``out``; return what belongs in ``extra``.

        ``out`` may be a full row (every column present, most None) or a sparse one
        that only receives the columns ``raw`` has values for.
        """
        extra: dict[str, Any] | None = None
        # Hot loop: names bound locally, the commonest case (a string) tested first.
        keymap = self._keymap
        invalid, string, text = INVALID, to_string, str
        for key, value in raw.items():
            target = keymap.get(key)
            if target is not None:
                name, convert, is_datetime = target
                if convert is string and type(value) is text:
                    typed = value  # the commonest case, without a call
                elif convert is None:
                    continue
                elif (
                    is_datetime
                    and type(value) is text
                    and (current := out.get(name)) is not None
                    # The 'YYYY-MM-DD HH:MM:SS UTC+0000' form of the instant in the column,
                    # compared by slices: the usual pair (an epoch and its '*_std') costs one
                    # conversion, not two.
                    and value[19:] == " UTC+0000"
                    and value[11:19] == current[11:19]
                    and value[:10] == current[:10]
                    and value[10] == " "
                ):
                    continue  # a '*_std' rendering of the instant already in the column
                else:
                    typed = convert(value)
                if typed is not invalid:
                    if typed is None:
                        continue
                    current = out.get(name)
                    if current is None:
                        out[name] = typed
                        continue
                    if typed == current:
                        continue
                    if is_datetime and same_instant(current, typed):
                        # Keep whichever rendering carries the finer precision.
                        if len(typed) > len(current):
                            out[name] = typed
                        continue
            if extra is None:
                extra = {key: value}
            else:
                extra[key] = value
        return extra


def object_schema(properties: Mapping[str, Any]) -> dict[str, Any]:
    return {"type": "object", "properties": dict(properties)}
