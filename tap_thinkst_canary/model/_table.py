"""Declarative column tables: one declaration gives both the JSON schema and the converter."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Final

from tap_thinkst_canary.model._convert import (
    INVALID,
    Converter,
    renders,
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
        self._fills: dict[tuple[str, ...], _Fill] = {}
        self._sightings: dict[tuple[str, ...], int] = {}

    def raw_keys(self) -> tuple[str, ...]:
        """Every raw key the table reads or knows is handled elsewhere."""
        return tuple(self._keymap)

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
        return self.fill_values(tuple(raw), raw.values(), out)

    def fill_values(
        self, keys: tuple[str, ...], values: Iterable[Any], out: dict[str, Any]
    ) -> dict[str, Any] | None:
        """`fill` for an object given as its `keys` and their `values`, in the same order (as
        a structure holds them, None where it has no value)."""
        fill = self._fills.get(keys) or self._fill_for_new(keys)
        return fill(values, out)

    def fill_source(self, shape: tuple[str, ...]) -> str:
        """The source of the function that fills an object of ``shape`` (its keys in order)."""
        return _fill_source(shape, self._keymap)[0]

    def _fill_for_new(self, shape: tuple[str, ...]) -> _Fill:
        """The fill for a shape not compiled yet: compiled once it has come often enough."""
        if len(self._fills) >= MAX_SHAPES or sum(map(len, shape)) > MAX_SHAPE_CHARACTERS:
            return partial(self._fill_key_by_key, shape)
        counted = self._sightings
        sightings = counted.get(shape, 0) + 1
        if sightings < COMPILE_AFTER_SIGHTINGS:
            if sightings == 1 and len(counted) >= MAX_SHAPES_COUNTED:
                counted.clear()
            # Counted in place: taking a shape out and back in on each sighting would make
            # the table of counts rebuild itself again and again.
            counted[shape] = sightings
            return partial(self._fill_key_by_key, shape)
        counted.pop(shape, None)
        fill = self._fills[shape] = _compile_fill(shape, self._keymap)
        return fill

    def _fill_key_by_key(
        self, shape: tuple[str, ...], values: Iterable[Any], out: dict[str, Any]
    ) -> dict[str, Any] | None:
        """What every compiled fill does, one key at a time, for the shapes not compiled."""
        extra: dict[str, Any] | None = None
        keymap = self._keymap
        for key, value in zip(shape, values, strict=True):
            extra = fill_one(keymap.get(key), out, extra, key, value)
        return extra


# A console sends objects of a few shapes over and over (an event of one logtype has the
# same keys, in the same order, every time), so a shape that comes often gets its own fill,
# compiled once. Some shapes come once or twice only (a port scan's keys are the port numbers
# scanned): they are filled key by key, as are all new shapes once a table has compiled its
# share, and objects whose keys are too long together to be worth compiling (the widest
# tables have a few dozen short keys).
COMPILE_AFTER_SIGHTINGS: Final = 16
MAX_SHAPES: Final = 256
MAX_SHAPE_CHARACTERS: Final = 4096
# How many shapes not compiled yet a table counts the sightings of, at most (then it starts
# counting afresh): the shapes that come often are soon counted again.
MAX_SHAPES_COUNTED: Final = 4096

# Fills an object of one shape, given its values in the order of the shape's keys.
_Fill = Callable[[Iterable[Any], dict[str, Any]], dict[str, Any] | None]


def fill_one(
    target: _Target | None,
    out: dict[str, Any],
    extra: dict[str, Any] | None,
    key: str,
    value: Any,
) -> dict[str, Any] | None:
    """One raw key into ``out``: the definition of a fill, which the compiled fills follow.

    Returns ``extra``, created when the value is kept there.
    """
    if target is None:
        return keep(extra, key, value)
    name, convert, is_datetime = target
    if convert is None:
        return extra
    current = out.get(name)
    if is_datetime and current is not None and type(value) is str and renders(value, current):
        return extra
    typed = convert(value)
    if typed is INVALID:
        return keep(extra, key, value)
    if typed is None:
        return extra
    if current is None:
        out[name] = typed
    elif typed != current:
        if not (is_datetime and same_instant(current, typed)):
            return keep(extra, key, value)
        if len(typed) > len(current):
            # The same instant: keep whichever rendering carries the finer precision.
            out[name] = typed
    return extra


def keep(extra: dict[str, Any] | None, key: str, value: Any) -> dict[str, Any]:
    """``extra`` with ``key`` kept in it as sent."""
    if extra is None:
        return {key: value}
    extra[key] = value
    return extra


def _compile_fill(shape: tuple[str, ...], keymap: Mapping[str, _Target]) -> _Fill:
    # The way dataclasses and attrs make their methods: Python source, compiled once.
    source, namespace = _fill_source(shape, keymap)
    exec(compile(source, f"<fill of a {len(shape)}-key object>", "exec"), namespace)
    fill: _Fill = namespace["fill"]
    return fill


def _fill_source(
    shape: tuple[str, ...], keymap: Mapping[str, _Target]
) -> tuple[str, dict[str, Any]]:
    """A fill for objects with exactly the keys of ``shape``, in that order.

    Each key becomes a few lines that do what `fill_one` does when its column is still
    empty, the common case, and call `fill_one` otherwise; a key with no column is kept in
    ``extra`` and a key handled elsewhere is not read. A null is skipped where the column's
    converter reads it as no value (all but flags), as `fill_one` would. The source and the
    names it uses.
    """
    namespace: dict[str, Any] = {
        "INVALID": INVALID,
        "fill_one": fill_one,
        "keep": keep,
        "renders": renders,
    }
    values = [f"v{position}" for position in range(len(shape))]
    lines = ["def fill(values, out):", "    extra = None"]
    if shape:
        lines.append(f"    {', '.join(values)}, = values")
    for position, (key, value) in enumerate(zip(shape, values, strict=True)):
        target = keymap.get(key)
        if target is None:
            lines.append(f"    extra = keep(extra, {key!r}, {value})")
            continue
        name, convert, is_datetime = target
        if convert is None:
            continue
        namespace[f"target{position}"] = target
        if convert(None) is None:
            lines.append(f"    if {value} is None:")
            lines.append("        pass")
            lines.append(f"    elif out.get({name!r}) is None:")
        else:
            lines.append(f"    if out.get({name!r}) is None:")
        if convert is to_string:
            lines += [
                f"        if type({value}) is str:",
                f"            out[{name!r}] = {value}",
                "        else:",
                f"            extra = fill_one(target{position}, out, extra, {key!r}, {value})",
            ]
        else:
            namespace[f"convert{position}"] = convert
            lines += [
                f"        typed = convert{position}({value})",
                "        if typed is INVALID:",
                f"            extra = keep(extra, {key!r}, {value})",
                "        elif typed is not None:",
                f"            out[{name!r}] = typed",
            ]
        if is_datetime:
            # Another rendering of a date-time already filled, as `fill_one` first checks it.
            lines += [
                f"    elif type({value}) is str and renders({value}, out[{name!r}]):",
                "        pass",
            ]
        lines += [
            "    else:",
            f"        extra = fill_one(target{position}, out, extra, {key!r}, {value})",
        ]
    lines.append("    return extra")
    return "\n".join(lines) + "\n", namespace


def object_schema(properties: Mapping[str, Any]) -> dict[str, Any]:
    return {"type": "object", "properties": dict(properties)}
