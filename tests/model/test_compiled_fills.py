"""A table's compiled fills do exactly what filling key by key does, for any object."""

from __future__ import annotations

import random
from typing import Any

import pytest

from tap_thinkst_canary.model import _table
from tap_thinkst_canary.model._convert import INVALID
from tap_thinkst_canary.model._table import Table

from .helpers import model_tables

TABLES = model_tables()


@pytest.fixture(scope="module", autouse=True)
def table_fills() -> None:
    """These tests compare the two ways of filling directly: they need not run under each."""


# Values of every kind a console sends, well formed or not: the epoch 1586338742 is
# 2020-04-08 09:39:02 UTC, so the date-times agree with each other in some orders and not in
# others, and some carry a finer precision.
VALUES: list[Any] = [
    None,
    "",
    " ",
    "abc",
    "80",
    " 8080 ",
    "-3",
    "24.0",
    "0",
    24,
    24.5,
    2**70,
    True,
    False,
    "True",
    "false",
    "yes",
    "1586338742",
    1586338742,
    1586338742.25,
    "1586338742.069870",
    "2020-04-08 09:39:02 UTC+0000",
    "2020-04-08 09:39:02.123456 UTC+0000",
    "2020-04-08 09:39:03 UTC+0000",
    "2020-04-08 11:39:02 SAST+0200",
    "2020-04-08 09:39 UTC+0000",
    "Wed, 08 Apr 2020 09:39:02 GMT",
    "2020-04-08T09:39:02Z",
    "Tue Apr 14 2020 22:11:18 GMT+0000 (UTC)",
    "23,80,443",
    [23, "80"],
    ["a", "b"],
    {"a": 1},
    [],
    {},
]
UNKNOWN_KEYS = ["not_a_column", "8080", "Not_A_Column"]


def _random_case(rng: random.Random, table: Table) -> tuple[dict[str, Any], dict[str, Any]]:
    keys = [*table._keymap, *UNKNOWN_KEYS]
    raw = {key: rng.choice(VALUES) for key in rng.sample(keys, rng.randint(0, min(12, len(keys))))}
    layout = rng.choice(["sparse", "full", "some filled"])
    if layout == "sparse":
        out: dict[str, Any] = {}
    elif layout == "full":
        out = dict.fromkeys(column.name for column in table.columns)
    else:
        # What another table may have put in a column before: a value of the column's type.
        out = {}
        for column in rng.sample(table.columns, min(3, len(table.columns))):
            typed = column.kind.convert(rng.choice(VALUES))
            out[column.name] = None if typed is INVALID else typed
    return raw, out


@pytest.mark.parametrize("name", sorted(TABLES))
def test_a_compiled_fill_fills_as_key_by_key_does(name: str) -> None:
    table = TABLES[name]
    rng = random.Random(name)
    for _ in range(1000):
        raw, out = _random_case(rng, table)
        compiled_out, key_by_key_out = dict(out), dict(out)
        compiled = _table._compile_fill(tuple(raw), table._keymap)
        compiled_extra = compiled(raw.values(), compiled_out)
        key_by_key_extra = table._fill_key_by_key(tuple(raw), raw.values(), key_by_key_out)
        case = f"raw={raw!r} out={out!r}"
        # Same values in the same order: a target writes what it reads.
        assert list(compiled_out.items()) == list(key_by_key_out.items()), case
        assert list((compiled_extra or {}).items()) == list((key_by_key_extra or {}).items()), case
        assert (compiled_extra is None) == (key_by_key_extra is None), case


def test_a_shape_is_compiled_once_it_has_come_often(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_table, "COMPILE_AFTER_SIGHTINGS", 3)
    table = Table([_table.Column("a", _table.INTEGER, "A.")])
    for sighting in range(1, 5):
        assert table.fill({"a": "7", "b": 1}, {}) == {"b": 1}
        assert (("a", "b") in table._fills) == (sighting >= 3)
    # The key order is part of the shape.
    table.fill({"b": 1, "a": "7"}, {})
    assert ("b", "a") not in table._fills


def test_shapes_that_never_come_again_are_not_compiled_and_not_kept(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(_table, "COMPILE_AFTER_SIGHTINGS", 2)
    monkeypatch.setattr(_table, "MAX_SHAPES_COUNTED", 50)
    table = Table([_table.Column("timestamp", _table.DATETIME, "When.")])
    # A port scan: the ports scanned are the keys, a new shape nearly every time.
    for port in range(1000):
        out: dict[str, Any] = {}
        assert table.fill({str(port): ["10.0.0.1"], "timestamp": 1586338742}, out) == {
            str(port): ["10.0.0.1"]
        }
        assert out == {"timestamp": "2020-04-08T09:39:02Z"}
    assert not table._fills
    assert len(table._sightings) <= 50


def test_compiled_fills_are_capped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_table, "COMPILE_AFTER_SIGHTINGS", 1)
    monkeypatch.setattr(_table, "MAX_SHAPES", 10)
    table = Table([_table.Column("a", _table.STRING, "A.")])
    for number in range(30):
        assert table.fill({"a": "x", f"k{number}": number}, {}) == {f"k{number}": number}
    assert len(table._fills) == 10
    long_keys = {"a": "x", "k" * 5000: 1}
    assert table.fill(long_keys, {}) == {"k" * 5000: 1}
    assert tuple(long_keys) not in table._fills


def test_a_compiled_fill_reads_as_what_it_does() -> None:
    table = Table(
        [
            _table.Column("name", _table.STRING, "Name."),
            _table.Column("port", _table.INTEGER, "Port.", ("port", "PORT")),
        ],
        handled_elsewhere=("events",),
    )
    source = table.fill_source(("name", "events", "PORT", "other"))
    assert source.startswith("def fill(values, out):\n")
    assert "out['name'] = v0" in source
    assert "v1" not in source.split("= values")[1]  # a key handled elsewhere is not read
    assert "out['port'] = typed" in source
    assert "if v2 is None:" in source  # a null is no port
    assert "keep(extra, 'other', v3)" in source


def test_a_compiled_fill_reads_a_null_flag_as_set() -> None:
    table = Table([_table.Column("syn", _table.FLAG, "SYN.", ("SYN",))])
    assert "is None:\n        pass" not in table.fill_source(("SYN",))
    out: dict[str, Any] = {}
    assert table.fill_values(("SYN",), (None,), out) is None
    assert out == {"syn": True}
