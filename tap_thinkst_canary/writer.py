"""Singer messages to stdout, encoded with orjson and flushed only when it matters.

Flushing after every RECORD costs a system call per record. Flushing before every other message
(SCHEMA, STATE, ACTIVATE_VERSION) keeps the one guarantee a target relies on: when it reads a
STATE, every record that state covers has already reached it.
"""

from __future__ import annotations

import datetime
import decimal
import sys
import typing as t

import orjson
from singer_sdk.singerlib.encoding.base import GenericSingerWriter, SingerMessageType
from singer_sdk.singerlib.encoding.simple import Message


def _encode_other(value: t.Any) -> t.Any:
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, datetime.date):
        return value.isoformat()
    return str(value)


class FastSingerWriter(GenericSingerWriter[bytes, Message]):
    """Writes one JSON line per message."""

    def serialize_message(self, message: Message) -> bytes:
        return orjson.dumps(
            message.to_dict(),
            default=_encode_other,
            option=orjson.OPT_APPEND_NEWLINE | orjson.OPT_NON_STR_KEYS,
        )

    def write_message(self, message: Message) -> None:
        line = self.format_message(message)
        # Looked up on every call: tests swap sys.stdout for an in-memory text stream.
        stdout = sys.stdout
        binary = getattr(stdout, "buffer", None)
        if binary is not None:
            binary.write(line)
        else:
            stdout.write(line.decode())
        if message.type != SingerMessageType.RECORD:
            (binary or stdout).flush()
