"""Singer messages to stdout, encoded with orjson and written out only when it matters.

Writing every RECORD as it comes costs a system call per record (always so when Python runs
unbuffered, as under PYTHONUNBUFFERED). Records are gathered instead, and written out before every
other message (SCHEMA, STATE, ACTIVATE_VERSION) and whenever enough have piled up. That keeps the
one guarantee a target relies on: when it reads a STATE, every record that state covers has
already reached it. Records written after the last STATE may be lost if the process is killed,
and that is fine: the state does not claim them, so the next run emits them again.

Nothing writes here from a signal handler (see `interruption`): a message is always written
whole, and once.
"""

from __future__ import annotations

import datetime
import decimal
import sys
import typing as t

import orjson
from singer_sdk.singerlib.encoding.base import GenericSingerWriter, SingerMessageType
from singer_sdk.singerlib.encoding.simple import Message
from typing_extensions import override

from tap_thinkst_canary.errors import OutputClosedError, SyncStopped
from tap_thinkst_canary.model.events import EventsJson

# Enough records to make the system calls rare, few enough to keep memory flat.
WRITE_OUT_BYTES = 256 * 1024
_RECORD_OPTIONS = orjson.OPT_NON_STR_KEYS
_OPTIONS = orjson.OPT_APPEND_NEWLINE | _RECORD_OPTIONS


def _encode_other(value: t.Any) -> t.Any:
    if type(value) is EventsJson:
        return value.written()
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, datetime.date):
        return value.isoformat()
    return str(value)


class FastSingerWriter(GenericSingerWriter[bytes, Message]):
    """Writes one JSON line per message."""

    def __init__(self) -> None:
        super().__init__()
        self._pending = bytearray()

    @override
    def serialize_message(self, message: Message) -> bytes:
        return orjson.dumps(message.to_dict(), default=_encode_other, option=_OPTIONS)

    @override
    def write_message(self, message: Message) -> None:
        line = self.serialize_message(message)  # `format_message` only calls it
        self._add(line, is_record=message.type == SingerMessageType.RECORD)

    def record_writer(
        self, stream: str, time_extracted: datetime.datetime
    ) -> t.Callable[[dict[str, t.Any]], None]:
        """A function that writes one record of `stream` per call: the line `write_message`
        writes for its `RecordMessage`, without the message (`time_extracted` in UTC).

        The rest of the line is the same for every record: encoded once, around each
        record's own encoding."""
        start = b'{"type":"RECORD","stream":' + orjson.dumps(stream) + b',"record":'
        end = b',"time_extracted":' + orjson.dumps(time_extracted) + b"}\n"
        dumps, pending = orjson.dumps, self._pending
        huge_body = WRITE_OUT_BYTES - len(start) - len(end)

        def write(record: dict[str, t.Any]) -> None:
            body = dumps(record, default=_encode_other, option=_RECORD_OPTIONS)
            if len(body) >= huge_body:
                self._write_huge(start, body, end)
                return
            pending.extend(start)
            pending.extend(body)
            pending.extend(end)
            if len(pending) >= WRITE_OUT_BYTES:
                self.write_out()

        return write

    def _add(self, line: bytes, *, is_record: bool) -> None:
        if len(line) >= WRITE_OUT_BYTES:
            self._write_huge(line)
            return
        self._pending += line
        if not is_record or len(self._pending) >= WRITE_OUT_BYTES:
            self.write_out()

    def _write_huge(self, *parts: bytes) -> None:
        # A huge record (an incident with 100,000 events) is neither copied into the buffer
        # nor joined to the rest of its line: each would be another copy of it in memory.
        self.write_out()
        for part in parts:
            self._write(part)

    def write_out(self) -> None:
        """Write every gathered message to stdout, and flush it."""
        if self._pending:
            self._write(self._pending)
            self._pending.clear()

    def _write(self, data: bytes | bytearray) -> None:
        # Looked up on every call: tests swap sys.stdout for an in-memory text stream.
        stdout = sys.stdout
        binary = getattr(stdout, "buffer", None)
        try:
            if binary is not None:
                _write_all(binary, data)
                binary.flush()
            else:
                stdout.write(data.decode())
                stdout.flush()
        except BrokenPipeError:
            raise SyncStopped(
                OutputClosedError(
                    "The reader of the tap's output (the target) stopped reading; its own log "
                    "says why. Nothing after the last state it received was lost."
                )
            ) from None


def _write_all(binary: t.BinaryIO, data: bytes | bytearray) -> None:
    """Write all of `data`: unbuffered (PYTHONUNBUFFERED), stdout writes straight to the pipe,
    and a write that a signal interrupts, once part of it is in the pipe, says how much went."""
    with memoryview(data) as whole:
        done = 0
        while done < len(whole):
            with whole[done:] as rest:
                done += binary.write(rest)
