"""The tap's writer: a record written by a stream's own writer is the line of its message."""

from __future__ import annotations

import datetime
import decimal
import io
from types import SimpleNamespace
from typing import Any

import orjson
import pytest
from singer_sdk.singerlib.encoding.simple import RecordMessage

from tap_thinkst_canary.writer import WRITE_OUT_BYTES, FastSingerWriter

EXTRACTED = datetime.datetime(2026, 12, 4, 20, 8, 20, 635425, tzinfo=datetime.UTC)
RECORDS: list[dict[str, Any]] = [
    {"id": "incident:1", "n": 1, "ok": True, "none": None},
    {"text": 'quotes " and \\ and \u00e9 and \u2028', "nested": {"a": [1, 2.5, None]}},
    {"when": datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC), "day": datetime.date(2020, 1, 2)},
    {"amount": decimal.Decimal("1.5"), "extra": {1: "a key that is no string"}},
    {},
    {"big": "x" * WRITE_OUT_BYTES},  # larger than the buffer: written out at once
]


def _output(write: Any, monkeypatch: pytest.MonkeyPatch) -> bytes:
    out = io.BytesIO()
    monkeypatch.setattr("sys.stdout", SimpleNamespace(buffer=out, flush=lambda: None))
    write()
    return out.getvalue()


@pytest.mark.parametrize("stream", ["incident_events", 'a "quoted" stream, \u00e9'])
def test_a_record_written_directly_is_the_line_of_its_message(
    stream: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def by_message() -> None:
        writer = FastSingerWriter()
        for record in RECORDS:
            message = RecordMessage(stream=stream, record=record, time_extracted=EXTRACTED)
            writer.write_message(message)
        writer.write_out()

    def directly() -> None:
        writer = FastSingerWriter()
        write = writer.record_writer(stream, EXTRACTED)
        for record in RECORDS:
            write(record)
        writer.write_out()

    expected = _output(by_message, monkeypatch)
    assert _output(directly, monkeypatch) == expected
    lines = expected.splitlines()
    assert len(lines) == len(RECORDS)
    assert orjson.loads(lines[0])["time_extracted"] == "2026-12-04T20:08:20.635425+00:00"


def test_records_are_held_until_enough_have_piled_up(monkeypatch: pytest.MonkeyPatch) -> None:
    out = io.BytesIO()
    monkeypatch.setattr("sys.stdout", SimpleNamespace(buffer=out, flush=lambda: None))
    writer = FastSingerWriter()
    write = writer.record_writer("s", EXTRACTED)
    record = {"text": "x" * 1000}
    line = writer.serialize_message(
        RecordMessage(stream="s", record=record, time_extracted=EXTRACTED)
    )
    # The records go out with the one that takes what is pending to the limit.
    held = -(-WRITE_OUT_BYTES // len(line))
    for _ in range(held - 1):
        write(record)
    assert out.getvalue() == b""
    write(record)
    assert out.getvalue() == line * held
    write(record)
    writer.write_out()
    assert out.getvalue() == line * (held + 1)
