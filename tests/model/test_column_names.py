"""Column names that loaders keep for themselves: a stream must not use them."""

from __future__ import annotations

import re

import pytest

from tap_thinkst_canary.client import DELETED_AT, stream_schema
from tap_thinkst_canary.streams import STREAM_TYPES

# Bound by name in the statements that SQLAlchemy-based targets (MeltanoLabs target-postgres
# among them) run on ACTIVATE_VERSION: a column of the same name makes the statement fail.
VERSION_HANDLING_NAMES = {"version", "deletedate"}
# Singer's metadata columns, which targets add and fill themselves.
SINGER_METADATA = re.compile(r"^_sdc_")
# Column names that PostgreSQL and DuckDB fold or reject unquoted; targets quote them, but
# every query a user writes would have to as well.
PLAIN_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


@pytest.mark.parametrize("stream_type", STREAM_TYPES, ids=lambda s: s.name)
def test_no_column_name_a_target_reserves(stream_type: type) -> None:
    names = set(stream_type.record_schema["properties"])  # type: ignore[attr-defined]
    assert not names & VERSION_HANDLING_NAMES
    assert not [name for name in names if SINGER_METADATA.match(name)]
    assert [name for name in names if not PLAIN_NAME.match(name)] == []


@pytest.mark.parametrize("stream_type", STREAM_TYPES, ids=lambda s: s.name)
def test_the_only_singer_metadata_column_is_the_tombstones_own(stream_type: type) -> None:
    # `_sdc_deleted_at` is the one a tap may send: targets read it as "this row is deleted".
    schema = stream_schema(stream_type)  # type: ignore[arg-type]
    metadata = [name for name in schema["properties"] if SINGER_METADATA.match(name)]
    assert metadata == ([DELETED_AT] if stream_type.tombstones else [])  # type: ignore[attr-defined]
    if metadata:
        deleted_at = schema["properties"][DELETED_AT]
        assert deleted_at["type"] == ["string", "null"]
        assert deleted_at["format"] == "date-time"
        assert deleted_at["description"]
