"""Processes and measurements for the benchmark: the simulator, the tap, the floor.

Everything measured runs in its own process, one at a time, so that wall time, CPU
time and peak RSS belong to that process alone.
"""

from __future__ import annotations

import os
import re
import secrets
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import orjson
import requests

from tap_thinkst_canary.streams import (
    AuditTrailStream,
    BirdsStream,
    FlocksStream,
    IncidentEventsStream,
    IncidentsStream,
    TokensStream,
)

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
TAP = str(BIN / "tap-thinkst-canary")
FLOOR = str(REPO / "bench" / "floor.py")

# The streams the floor reads too: the incremental ones, then the snapshots.
INCREMENTAL_TYPES = (IncidentsStream, AuditTrailStream)
SNAPSHOT_TYPES = (BirdsStream, TokensStream, FlocksStream)
INCREMENTAL_STREAMS = tuple(stream.name for stream in INCREMENTAL_TYPES)
SNAPSHOT_STREAMS = tuple(stream.name for stream in SNAPSHOT_TYPES)
STREAM_OF_PATH = {stream.path: stream.name for stream in (*INCREMENTAL_TYPES, *SNAPSHOT_TYPES)}
# What the floor reads and writes, incident events included: the tap's streams of the
# "all streams" run. The tap's other streams (users, settings, a bird's services...) ask for
# one answer per user, flock or bird, which the floor does not model.
FLOOR_STREAMS = (*INCREMENTAL_STREAMS, IncidentEventsStream.name, *SNAPSHOT_STREAMS)

_LISTENING = re.compile(r"listening on (http://\S+/api/v1)")


class BenchError(RuntimeError):
    """A benchmark step that could not run: the message says which and why."""


@dataclass(frozen=True)
class Request:
    path: str
    params: tuple[tuple[str, str], ...]

    @property
    def stream(self) -> str:
        return STREAM_OF_PATH.get(self.path, self.path)


class SimulatorProcess:
    """`python -m canary_simulator` in a child process, stopped on exit.

    With `consoles`, the process serves that many consoles, a port each, with their own seeds
    and tokens: `consoles_served` describes them, and `base_url` and `auth_token` are the first
    one's.
    """

    def __init__(
        self,
        *,
        incidents: int,
        seed: int,
        latency_ms: int = 0,
        audit_days: int | None = None,
        cache_mb: int | None = None,
        consoles: int | None = None,
        startup_timeout: float = 600.0,
    ) -> None:
        token = secrets.token_hex(16)
        # `--consoles N` hands console i the token `<token>-i`.
        self.auth_token = token if consoles is None else f"{token}-1"
        self.incidents = incidents
        command = [
            sys.executable,
            "-m",
            "canary_simulator",
            "--host",
            "127.0.0.1",
            "--port",
            "0",
            "--seed",
            str(seed),
            "--incidents",
            str(incidents),
            "--auth-token",
            token,
            "--latency-ms",
            str(latency_ms),
        ]
        if audit_days is not None:
            command += ["--audit-days", str(audit_days)]
        if cache_mb is not None:
            command += ["--cache-mb", str(cache_mb)]
        if consoles is not None:
            command += ["--consoles", str(consoles)]
        self.command = command
        self.startup_timeout = startup_timeout
        self.startup_seconds = 0.0
        self.base_url = ""
        self._process: subprocess.Popen[str] | None = None
        self._session = requests.Session()
        self._session.headers["X-Canary-Auth-Token"] = self.auth_token

    def __enter__(self) -> SimulatorProcess:
        started = time.perf_counter()
        self._process = subprocess.Popen(
            self.command,
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        assert self._process.stdout is not None
        deadline = started + self.startup_timeout
        for line in self._process.stdout:
            if match := _LISTENING.search(line):
                self.base_url = match.group(1)
                break
            if time.perf_counter() > deadline:
                break
        if not self.base_url:
            self.__exit__()
            raise BenchError(
                "the simulator did not start: run "
                f"`{sys.executable} -m canary_simulator --port 0` from {REPO} to see why"
            )
        self.startup_seconds = time.perf_counter() - started
        return self

    def __exit__(self, *_: object) -> None:
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def cpu_seconds(self) -> float:
        """User plus system CPU time the simulator process has used so far."""
        assert self._process is not None, "the simulator is not running"
        fields = Path(f"/proc/{self._process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        # utime and stime, the 14th and 15th fields of the line (12th and 13th after the name).
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def consoles_served(self) -> list[dict[str, str]]:
        """Every console the process serves: its `name`, `base_url` and `auth_token`."""
        return [
            {key: console[key] for key in ("name", "base_url", "auth_token")}
            for console in self.admin_get("/consoles")["consoles"]
        ]

    @property
    def admin_url(self) -> str:
        return self.base_url.removesuffix("/api/v1") + "/admin"

    def admin_get(self, path: str) -> Any:
        response = self._session.get(self.admin_url + path, timeout=60)
        response.raise_for_status()
        return orjson.loads(response.content)

    def request_log(self) -> list[Request]:
        """Every API request the simulator has answered so far, oldest first."""
        body = self.admin_get("/requests")
        entries = body["requests"] if isinstance(body, dict) else body
        return [
            Request(
                path=entry["path"].removeprefix("/api/v1"),
                params=tuple(sorted((str(k), str(v)) for k, v in entry["params"].items())),
            )
            for entry in entries
            if not entry["path"].startswith("/admin")
        ]

    def count_requests(self) -> int:
        return len(self.request_log())


@dataclass
class RequestSummary:
    """What the simulator saw during one run."""

    requests: list[Request]

    @property
    def per_stream(self) -> dict[str, int]:
        return dict(Counter(request.stream for request in self.requests))

    @property
    def total(self) -> int:
        return len(self.requests)

    @property
    def duplicates(self) -> int:
        """Requests identical to an earlier one in the same run: a page fetched twice."""
        return self.total - len(set(self.requests))

    @property
    def page_limits(self) -> dict[str, list[int]]:
        """The `limit` each stream asked for, to see that pages are as large as allowed."""
        limits: dict[str, set[int]] = {}
        for request in self.requests:
            for key, value in request.params:
                if key == "limit":
                    limits.setdefault(request.stream, set()).add(int(value))
        return {stream: sorted(values) for stream, values in limits.items()}


@dataclass
class SingerOutput:
    """Counts and checks over a tap's stdout, read after the run (not timed)."""

    records: Counter[str] = field(default_factory=Counter)
    state_messages: int = 0
    final_state: dict[str, Any] | None = None
    audit_days: int = 0
    audit_days_unsorted: int = 0
    audit_days_out_of_order: int = 0
    audit_day_checkpoints: int = 0

    @property
    def total_records(self) -> int:
        return sum(self.records.values())

    @classmethod
    def read(cls, path: Path) -> SingerOutput:
        output = cls()
        audit = _AuditDayCheck(output)
        with path.open("rb") as lines:
            for line in lines:
                message = orjson.loads(line)
                kind = message.get("type")
                if kind == "RECORD":
                    output.records[message["stream"]] += 1
                    if message["stream"] == "audit_trail":
                        audit.record(message["record"])
                elif kind == "STATE":
                    output.state_messages += 1
                    output.final_state = message["value"]
                    audit.state(message["value"])
        audit.finish()
        return output


class _AuditDayCheck:
    """Checks the audit-trail contract: each UTC day whole, sorted by id, then checkpointed."""

    def __init__(self, output: SingerOutput) -> None:
        self.output = output
        self.day: str | None = None
        self.last_id: int | None = None
        self.days_seen: set[str] = set()
        self.bookmark_at_day_start: Any = None
        self.bookmark: Any = None

    def record(self, record: dict[str, Any]) -> None:
        day = _utc_day(record["timestamp"])
        if day != self.day:
            self._close_day()
            if day in self.days_seen or (self.day is not None and day < self.day):
                self.output.audit_days_out_of_order += 1
            self.day, self.last_id = day, None
            self.days_seen.add(day)
            self.output.audit_days += 1
            self.bookmark_at_day_start = self.bookmark
        entry_id = int(record["id"])
        if self.last_id is not None and entry_id <= self.last_id:
            self.output.audit_days_unsorted += 1
        self.last_id = entry_id

    def state(self, value: dict[str, Any]) -> None:
        self.bookmark = orjson.dumps(
            (value.get("bookmarks") or {}).get("audit_trail"), option=orjson.OPT_SORT_KEYS
        )

    def _close_day(self) -> None:
        if self.day is not None and self.bookmark != self.bookmark_at_day_start:
            self.output.audit_day_checkpoints += 1

    def finish(self) -> None:
        self._close_day()


def _utc_day(timestamp: Any) -> str:
    """The UTC day of an audit timestamp, whether the API's string or an ISO date-time."""
    text = str(timestamp)
    if text.endswith((" UTC+0000", "Z", "+00:00")):
        return text[:10]
    return datetime.fromisoformat(text).astimezone(timezone.utc).date().isoformat()


def write_json(path: Path, value: Any) -> Path:
    path.write_bytes(orjson.dumps(value, option=orjson.OPT_INDENT_2))
    return path


def last_lines(text: str, secret: str) -> Iterator[str]:
    for line in text.splitlines():
        yield line.replace(secret, "<auth_token>")
