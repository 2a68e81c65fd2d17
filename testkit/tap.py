"""The tap as a process: run `tap-thinkst-canary`, read back everything it wrote, measure it.

The tap's tests, the reliability suite and the benchmark all need the same few things: run the
console script in a subprocess against a console, parse its Singer messages, find the state to
resume with, reduce the output to a set of (stream, primary key) pairs, follow the process's
peak memory, read its output as a slow target would, and kill or signal it at a chosen point.
They live here, once. (`sync_in_process` runs a whole sync in the test's own process instead,
with the same result type.)

Every run starts with the `sitecustomize` in `testkit/tap_site/`: a network guard that lets the
tap reach loopback addresses only, so no test can ever contact a real console and an unknown
host name fails in the resolver without a single DNS packet leaving the machine; and, on
request, a frozen clock, so that the tap and a console frozen at the same instant agree on what
"today" is.
"""

from __future__ import annotations

import contextlib
import datetime
import fcntl
import io
import itertools
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from typing_extensions import override

from tap_thinkst_canary.tap import TapThinkstCanary
from testkit.process import PeakRss

TAP_EXECUTABLE = Path(sys.executable).with_name("tap-thinkst-canary")
TAP_SITE = Path(__file__).resolve().parent / "tap_site"

T = TypeVar("T")
Key = tuple[Any, ...]
Message = dict[str, Any]


@dataclass(frozen=True)
class KillPoint:
    """Send SIGKILL to the tap right after it has written its `nth` RECORD of `stream`."""

    stream: str
    nth: int


@dataclass(frozen=True)
class RequestKill:
    """Signal the tap while it waits for its `nth` request to `path` (any path if None).

    `hold_seconds` keeps the answer back that long after the request arrives, and the signal is
    sent `signal_after_seconds` into that wait: a console slow to answer.
    """

    path: str | None
    nth: int
    signum: int = signal.SIGKILL
    hold_seconds: float = 0.0
    signal_after_seconds: float = 0.0

    @override
    def __str__(self) -> str:
        where = self.path or "any endpoint"
        return f"{signal.Signals(self.signum).name} during request {self.nth} to {where}"


@dataclass(frozen=True)
class SlowReader:
    """A target that takes `chunk_bytes` of the tap's output at a time and pauses after each,
    as a loader busy with its database does: the pipe fills, and the tap's writes block.

    The pipe holds `pipe_bytes` (Linux's default is 64 KiB): the less it holds, the closer the
    tap's writing follows the reading, so that a signal sent after the reader has read a given
    byte lands while the tap is still writing, even near the end of its output.
    """

    chunk_bytes: int = 4096
    pause_seconds: float = 0.004
    pipe_bytes: int = 4096


@dataclass(frozen=True)
class SignalAfterBytes:
    """Send `signum` to the tap once its reader has received `nth_byte` bytes (0: at once)."""

    signum: int
    nth_byte: int

    @override
    def __str__(self) -> str:
        return f"{signal.Signals(self.signum).name} after byte {self.nth_byte}"


@contextlib.contextmanager
def killing_during(sim: Any, kill: RequestKill) -> Iterator[Callable[[int], None]]:
    """Make an in-process simulator signal the tap when the chosen request arrives, before it
    answers. Yields the `on_start` callback for `run_tap`, which hands over the tap's pid.

    The tap is certainly still running then: it is waiting for this very answer.
    """
    pid: list[int] = []
    counter = itertools.count(1)
    lock = threading.Lock()
    routes: dict[str, Callable[..., bytes]] = sim.api.routes
    originals = dict(routes)

    def wrap(path: str, answer: Callable[..., bytes]) -> Callable[..., bytes]:
        def answer_or_kill(params: dict[str, str]) -> bytes:
            if kill.path in (None, path):
                with lock:
                    chosen = next(counter) == kill.nth
                if chosen:
                    time.sleep(kill.signal_after_seconds)
                    sigkill(pid[0], kill.signum)
                    time.sleep(max(kill.hold_seconds - kill.signal_after_seconds, 0.0))
            return answer(params)

        return answer_or_kill

    for path, answer in originals.items():
        routes[path] = wrap(path, answer)
    try:
        yield pid.append
    finally:
        routes.update(originals)


@dataclass
class TapRun:
    """What one sync wrote, and how it ended (a sync run in-process exits 0, with no stderr)."""

    messages: list[Message]
    returncode: int = 0
    stdout: str = ""
    stderr: str = ""
    workdir: Path | None = None
    peak_rss_bytes: int = 0
    killed: bool = False

    @property
    def stderr_lines(self) -> list[str]:
        return [line for line in self.stderr.splitlines() if line.strip()]

    @property
    def record_messages(self) -> list[Message]:
        return [m for m in self.messages if m.get("type") == "RECORD"]

    def records(self, stream: str) -> list[dict[str, Any]]:
        """The records of `stream`, in the order written."""
        return [m["record"] for m in self.record_messages if m["stream"] == stream]

    @property
    def states(self) -> list[dict[str, Any]]:
        return [m["value"] for m in self.messages if m.get("type") == "STATE"]

    @property
    def last_state(self) -> dict[str, Any] | None:
        states = self.states
        return states[-1] if states else None

    @property
    def key_properties(self) -> dict[str, list[str]]:
        """Each stream's primary key, as its SCHEMA message names it."""
        return key_properties_of(self.messages)

    def keys(self, stream: str) -> list[Key]:
        """Primary keys of `stream`'s records, in the order written, duplicates included."""
        names = self.key_properties.get(stream, [])
        return [tuple(record.get(name) for name in names) for record in self.records(stream)]

    def key_set(self) -> set[tuple[str, Key]]:
        """Every (stream, primary key) pair this run wrote."""
        return {(stream, key) for stream in self.streams_written() for key in self.keys(stream)}

    def streams_written(self) -> list[str]:
        return sorted({m["stream"] for m in self.record_messages})

    def counts(self) -> Counter[str]:
        """The number of records of each stream written."""
        return Counter(m["stream"] for m in self.record_messages)

    def describe(self) -> str:
        """A short account of the run for assertion messages."""
        tail = "\n".join(self.stderr_lines[-15:])
        return (
            f"exit {self.returncode}, killed={self.killed}, records {dict(self.counts())}, "
            f"{len(self.states)} STATE messages; stderr tail:\n{tail}"
        )


def parse_messages(stdout: str, *, interrupted: bool = False) -> list[Message]:
    """Singer messages from a tap's stdout; any line that is not JSON is a defect.

    A process `interrupted` mid-write (killed, signalled, or its reader gone) can leave an
    incomplete last line: a target would never see it as a message either, so it is dropped.
    """
    lines = stdout.split("\n")
    complete, partial = lines[:-1], lines[-1]
    messages = [json.loads(line) for line in complete if line.strip()]
    if partial.strip():
        if not interrupted:
            messages.append(json.loads(partial))
        else:
            with contextlib.suppress(json.JSONDecodeError):
                messages.append(json.loads(partial))
    return messages


def key_properties_of(messages: Iterable[Message]) -> dict[str, list[str]]:
    return {
        m["stream"]: list(m.get("key_properties") or [])
        for m in messages
        if m.get("type") == "SCHEMA"
    }


def tap_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment for a tap subprocess: the network guard on, no inherited log settings."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.endswith("LOGLEVEL") and key != "SINGER_SDK_LOG_CONFIG"
    }
    env["PYTHONPATH"] = os.pathsep.join(
        [str(TAP_SITE), *filter(None, [os.environ.get("PYTHONPATH")])]
    )
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra or {})
    return env


def clock_env(frozen_now: datetime.datetime | None) -> dict[str, str]:
    return {} if frozen_now is None else {"TAP_FROZEN_NOW": frozen_now.isoformat()}


def write_json(path: Path, value: Any) -> Path:
    path.write_text(json.dumps(value), encoding="utf-8")
    return path


def run_tap(
    config: Mapping[str, Any],
    workdir: Path,
    *,
    state: Mapping[str, Any] | None = None,
    catalog: Mapping[str, Any] | None = None,
    args: Iterable[str] = (),
    kill_at: KillPoint | None = None,
    stop_reading_after: int | None = None,
    on_start: Callable[[int], None] | None = None,
    read_slowly: SlowReader | None = None,
    signal_at: SignalAfterBytes | None = None,
    frozen_now: datetime.datetime | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float = 180,
    singer_output: bool = True,
) -> TapRun:
    """Run `tap-thinkst-canary` once, in `workdir`, and collect everything it wrote.

    stdout is read line by line as it arrives so that a kill lands right after the chosen
    record; what the tap had already written into the pipe before the kill is still read, as a
    target downstream would read it. `on_start` receives the tap's pid (to kill it from
    elsewhere, e.g. from a console handler while the tap waits for its answer).
    `stop_reading_after` closes the tap's stdout after that many lines, as a dying target would.
    `read_slowly` reads stdout as that slow target would, and `signal_at` signals the tap once
    that much of it has been read. `frozen_now` stops the tap's clock at that instant.
    `singer_output=False` is for commands whose stdout is not Singer messages (`--discover`),
    or not to be trusted to be.
    """
    workdir.mkdir(parents=True, exist_ok=True)
    command = [str(TAP_EXECUTABLE), "--config", str(write_json(workdir / "config.json", config))]
    if state is not None:
        command += ["--state", str(write_json(workdir / "state.json", state))]
    if catalog is not None:
        command += ["--catalog", str(write_json(workdir / "catalog.json", catalog))]
    command += list(args)

    stderr_path = workdir / "stderr.txt"
    with stderr_path.open("wb") as stderr_file:
        process = subprocess.Popen(
            command,
            cwd=workdir,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=stderr_file,
            env=tap_env({**clock_env(frozen_now), **(env or {})}),
        )
        peak_rss = PeakRss(process.pid, interval=0.02)
        peak_rss.start()
        if on_start is not None:
            on_start(process.pid)
        timed_out = threading.Event()
        watchdog = threading.Timer(timeout, _kill_on_timeout, args=(process, timed_out))
        watchdog.start()
        try:
            if read_slowly is not None:
                stdout = _read_slowly(process, read_slowly, signal_at)
            else:
                stdout = _read_stdout(process, kill_at, stop_reading_after)
            returncode = process.wait()
        finally:
            watchdog.cancel()
            peak_rss.stop()
    if timed_out.is_set():
        raise TimeoutError(f"tap did not finish within {timeout} s: {command}")
    # Killed means the kill landed: a SIGKILL sent after the tap had exited does not count.
    killed = returncode == -signal.SIGKILL
    (workdir / "stdout.jsonl").write_text(stdout, encoding="utf-8")
    interrupted = returncode < 0 or any(
        given is not None for given in (kill_at, stop_reading_after, signal_at, on_start)
    )
    messages = parse_messages(stdout, interrupted=interrupted) if singer_output else []
    return TapRun(
        returncode=returncode,
        stdout=stdout,
        stderr=stderr_path.read_text(encoding="utf-8", errors="replace"),
        messages=messages,
        workdir=workdir,
        peak_rss_bytes=peak_rss.peak_bytes,
        killed=killed,
    )


def _read_stdout(
    process: subprocess.Popen[bytes], kill_at: KillPoint | None, stop_reading_after: int | None
) -> str:
    assert process.stdout is not None
    chunks: list[bytes] = []
    sent = False
    seen = 0
    for line in process.stdout:
        chunks.append(line)
        if stop_reading_after is not None and len(chunks) >= stop_reading_after:
            process.stdout.close()  # as a target that dies does: the tap's next write fails
            break
        if kill_at is None or sent or not line.endswith(b"\n"):
            continue
        message = json.loads(line)
        if message.get("type") == "RECORD" and message.get("stream") == kill_at.stream:
            seen += 1
            if seen >= kill_at.nth:
                sigkill(process.pid)
                sent = True
    return b"".join(chunks).decode("utf-8")


def _read_slowly(
    process: subprocess.Popen[bytes], reader: SlowReader, signal_at: SignalAfterBytes | None
) -> str:
    assert process.stdout is not None
    descriptor = process.stdout.fileno()
    fcntl.fcntl(descriptor, fcntl.F_SETPIPE_SZ, reader.pipe_bytes)
    chunks: list[bytes] = []
    received = 0
    while True:
        if signal_at is not None and received >= signal_at.nth_byte:
            sigkill(process.pid, signal_at.signum)
            signal_at = None
        chunk = os.read(descriptor, reader.chunk_bytes)
        if not chunk:
            return b"".join(chunks).decode("utf-8")
        chunks.append(chunk)
        received += len(chunk)
        time.sleep(reader.pause_seconds)


def sigkill(pid: int, signum: int = signal.SIGKILL) -> None:
    """Signal the tap (SIGKILL unless told); harmless if it has exited already."""
    # os.kill, not Popen.send_signal: the latter polls and could reap the child before `wait`.
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signum)


def _kill_on_timeout(process: subprocess.Popen[bytes], timed_out: threading.Event) -> None:
    timed_out.set()
    sigkill(process.pid)


def run_concurrently(jobs: Mapping[str, Callable[[], T]], workers: int = 4) -> dict[str, T]:
    """Run independent jobs (each typically a tap run against its own console) side by side.

    Most of a sync under faults is spent waiting for retries, so running a few at once cuts the
    suite's wall time without changing what any one of them does. The first failure is raised.
    """
    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = {name: pool.submit(job) for name, job in jobs.items()}
        return {name: future.result() for name, future in futures.items()}


def discover(config: Mapping[str, Any], workdir: Path) -> dict[str, Any]:
    """The tap's catalog, from `--discover`."""
    run = run_tap(config, workdir, args=["--discover"], singer_output=False)
    if run.returncode != 0:
        raise AssertionError(f"--discover failed: {run.describe()}")
    catalog: dict[str, Any] = json.loads(run.stdout)
    return catalog


def selecting(catalog: Mapping[str, Any], streams: Iterable[str]) -> dict[str, Any]:
    """A copy of `catalog` in which exactly `streams` are selected."""
    wanted = set(streams)
    missing = wanted - {entry["tap_stream_id"] for entry in catalog["streams"]}
    if missing:
        raise ValueError(f"the catalog lists no stream named {', '.join(sorted(missing))}")
    selected: dict[str, Any] = json.loads(json.dumps(catalog))
    for entry in selected["streams"]:
        for metadata in entry.get("metadata", []):
            if metadata.get("breadcrumb") == []:
                metadata["metadata"]["selected"] = entry["tap_stream_id"] in wanted
    return selected


def union_keys(runs: Iterable[TapRun]) -> set[tuple[str, Key]]:
    result: set[tuple[str, Key]] = set()
    for run in runs:
        result |= run.key_set()
    return result


def sync_in_process(
    config: Mapping[str, Any],
    state: Mapping[str, Any] | None = None,
    catalog: Mapping[str, Any] | None = None,
) -> TapRun:
    """Run a whole sync in this process and collect its messages."""
    stdout = io.StringIO()
    tap = TapThinkstCanary(
        config=dict(config),
        state=dict(state) if state else None,
        catalog=dict(catalog) if catalog else None,
    )
    with contextlib.redirect_stdout(stdout):
        tap.sync_all()
    return TapRun(parse_messages(stdout.getvalue()), stdout=stdout.getvalue())
