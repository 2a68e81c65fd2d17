"""SIGTERM and SIGINT while the tap writes into a pipe that a slow target reads.

This is how the tap runs in life: `tap-thinkst-canary | target-...`, the target busy with its
database, the pipe full, the tap blocked in the middle of a write most of the time. That is where
a signal lands: in the middle of a message. Whatever the moment, the target must get whole JSON
lines only, a STATE last, and the tap must end with 128 + the signal and one ERROR line; a sync
resumed from that state must complete the data.

The moments are drawn with a fixed seed, as a number of bytes the target has read when the signal
is sent, anywhere in the sync but its last few KiB: the pipe is made to hold one page only, so
the tap is at most that far ahead of its reader, and certainly still writing when the signal
lands. Each signal is tried with Python's own output buffer and without it
(PYTHONUNBUFFERED), which fail differently when a write is re-entered. Start-up, before the tap
writes anything, is tried too: while it imports and builds its command line, and during `/ping`;
and so is a signal while the tap waits for a page the console is slow to send.
"""

from __future__ import annotations

import json
import random
import signal
import threading
import time
from collections import Counter
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from singer_sdk.singerlib import RecordMessage

from canary_simulator import Console
from tap_thinkst_canary.state import console_bookmark
from tap_thinkst_canary.writer import FastSingerWriter
from testkit.tap import (
    Message,
    RequestKill,
    SignalAfterBytes,
    SlowReader,
    TapRun,
    killing_during,
    run_concurrently,
    sigkill,
    union_keys,
)

from .suite import new_console, simulator, sync, tap_config

pytestmark = pytest.mark.slow

SEED = 20260314
SIGNALS = (signal.SIGTERM, signal.SIGINT)
# An empty PYTHONUNBUFFERED leaves Python's own stdout buffer in place.
BUFFERINGS: dict[str, dict[str, str]] = {
    "buffered": {"PYTHONUNBUFFERED": ""},
    "unbuffered": {"PYTHONUNBUFFERED": "1"},
}
TRIALS_PER_SIGNAL_AND_BUFFERING = 13  # 52 signals in all
START_UP_TRIALS_PER_SIGNAL = 4
# Small enough to sync in about a second, with many pages and many STATE messages.
SMALL_CONSOLE: dict[str, Any] = {
    "incidents": 60,
    "audit_days": 6,
    "big_incident_events": 300,
    "tokens": 20,
}
SLOW_READER = SlowReader(chunk_bytes=4096, pause_seconds=0.004, pipe_bytes=4096)
# The console takes this long over a page, and the signal comes this far into the wait.
SLOW_PAGE_SECONDS = 40
SIGNAL_INTO_SLOW_PAGE_SECONDS = 1.5
# Importing the SDK and building the command line take about this long after the tap's handlers
# are installed.
START_UP_SECONDS = 0.6


@dataclass(frozen=True)
class Trial:
    signal_at: SignalAfterBytes
    buffering: str

    def __str__(self) -> str:
        return f"{self.signal_at}, {self.buffering}"


@pytest.fixture(scope="module")
def small_console() -> Console:
    return new_console(**SMALL_CONSOLE)


@pytest.fixture(scope="module")
def small_clean_sync(small_console: Console, tmp_path_factory: pytest.TempPathFactory) -> TapRun:
    with simulator(small_console) as sim:
        run = sync(tap_config(sim.base_url), tmp_path_factory.mktemp("clean"))
    assert run.returncode == 0, run.describe()
    assert not _repeated_records(run), "a clean sync writes every record once"
    return run


def test_signals_into_a_slow_pipe_leave_a_stream_a_target_can_read(
    small_console: Console, small_clean_sync: TapRun, tmp_path: Path
) -> None:
    trials = _draw_trials(len(small_clean_sync.stdout.encode()))
    assert len(trials) >= 50
    with simulator(small_console) as sim:
        config = tap_config(sim.base_url)
        stops = run_concurrently(
            {
                str(number): partial(_stop, trial, config, tmp_path / f"stopped-{number}")
                for number, trial in enumerate(trials)
            },
            workers=2,
        )
        # Many signals stop the sync after the same page: each state is resumed from once.
        states = {_key_of(run.last_state): run.last_state for run, _ in stops.values()}
        resumes = run_concurrently(
            {
                key: partial(sync, config, tmp_path / f"resumed-{number}", state=state)
                for number, (key, state) in enumerate(states.items())
            },
            workers=2,
        )

    failed: dict[str, list[str]] = {}
    for number, trial in enumerate(trials):
        stopped, problems = stops[str(number)]
        resumed = resumes[_key_of(stopped.last_state)]
        problems += _resume_problems(stopped, resumed, small_clean_sync)
        if problems:
            failed[f"trial {number} ({trial})"] = problems
    report = "\n".join(f"{name}: {'; '.join(found)}" for name, found in failed.items())
    assert not failed, f"{len(failed)} of {len(trials)} signals broke the stream:\n{report}"


@pytest.mark.parametrize("signum", SIGNALS, ids=[s.name for s in SIGNALS])
def test_a_signal_during_start_up_ends_in_one_line(
    signum: signal.Signals, small_console: Console, tmp_path: Path
) -> None:
    rng = random.Random(SEED + signum)
    delays = [rng.uniform(0, START_UP_SECONDS) for _ in range(START_UP_TRIALS_PER_SIGNAL)]
    problems: dict[str, list[str]] = {}
    # Every answer as late as the latest signal: the sync cannot be over before it comes.
    with simulator(small_console, latency_ms=1000 * START_UP_SECONDS) as sim:
        config = tap_config(sim.base_url)
        for number, delay in enumerate(delays):
            stopped = sync(
                config,
                tmp_path / f"delay-{number}",
                on_start=partial(_signal_once_handled, signum, delay),
                singer_output=False,
            )
            problems[f"{delay:.3f} s into start-up"] = _stop_problems(stopped, signum)[1]
        with killing_during(sim, RequestKill("/ping", 1, signum)) as on_start:
            stopped = sync(config, tmp_path / "ping", on_start=on_start, singer_output=False)
        problems["during /ping"] = _stop_problems(stopped, signum)[1]

    failed = {name: found for name, found in problems.items() if found}
    report = "\n".join(f"{name}: {'; '.join(found)}" for name, found in failed.items())
    assert not failed, f"{len(failed)} of {len(problems)} signals at start-up:\n{report}"


@pytest.mark.parametrize("signum", SIGNALS, ids=[s.name for s in SIGNALS])
def test_a_signal_while_a_page_is_slow_to_come_stops_the_wait_at_once(
    signum: signal.Signals, small_console: Console, small_clean_sync: TapRun, tmp_path: Path
) -> None:
    """The main thread waits for the read-ahead thread's page: the signal ends the wait, and the
    request still in flight is abandoned; the tap does not wait for the answer."""
    slow_page = RequestKill(
        "/incidents/all",
        2,
        signum,
        hold_seconds=SLOW_PAGE_SECONDS,
        signal_after_seconds=SIGNAL_INTO_SLOW_PAGE_SECONDS,
    )
    with simulator(small_console) as sim:
        # Long enough for the tap to keep waiting, rather than give up on the page and retry.
        config = tap_config(sim.base_url, request_timeout=2 * SLOW_PAGE_SECONDS)
        started = time.monotonic()
        with killing_during(sim, slow_page) as on_start:
            run = sync(config, tmp_path / "stopped", on_start=on_start, singer_output=False)
        took = time.monotonic() - started
        stopped, problems = _stop_problems(run, signum)
        resumed = sync(config, tmp_path / "resumed", state=stopped.last_state)

    assert not problems, problems
    assert took < SLOW_PAGE_SECONDS / 2, f"the tap waited for the slow page: {took:.1f} s"
    assert not _resume_problems(stopped, resumed, small_clean_sync)
    # The first page was done: its incidents are in the state the sync resumes from.
    assert stopped.last_state is not None
    assert console_bookmark(stopped.last_state, "incidents", "127.0.0.1").get(
        "replication_key_value"
    )


def _draw_trials(clean_bytes: int) -> list[Trial]:
    rng = random.Random(SEED)
    # When the signal is sent, the reader has read less than a chunk past the chosen byte, and
    # the tap has written at most a pipeful past that: it has more to write yet.
    last_safe_byte = clean_bytes - 2 * (SLOW_READER.chunk_bytes + SLOW_READER.pipe_bytes)
    return [
        Trial(SignalAfterBytes(signum, rng.randrange(1, last_safe_byte)), buffering)
        for signum in SIGNALS
        for buffering in BUFFERINGS
        for _ in range(TRIALS_PER_SIGNAL_AND_BUFFERING)
    ]


def _stop(trial: Trial, config: dict[str, Any], workdir: Path) -> tuple[TapRun, list[str]]:
    """A sync stopped by the trial's signal, and what went wrong with it (nothing, if all is
    well)."""
    stopped, problems = _stop_problems(
        sync(
            config,
            workdir,
            read_slowly=SLOW_READER,
            signal_at=trial.signal_at,
            env=BUFFERINGS[trial.buffering],
            singer_output=False,
        ),
        trial.signal_at.signum,
    )
    if not stopped.messages:
        problems.append("the tap wrote nothing before it stopped")
    if repeated := _repeated_records(stopped):
        problems.append(f"records written twice: {repeated[:3]}")
    return stopped, problems


def _resume_problems(stopped: TapRun, resumed: TapRun, clean: TapRun) -> list[str]:
    """How a sync resumed from a stopped one's state falls short of a clean sync."""
    problems = []
    if resumed.returncode != 0:
        problems.append(f"the resumed sync failed: {resumed.describe()}")
    synced = union_keys([stopped, resumed])
    if missing := clean.key_set() - synced:
        problems.append(f"{len(missing)} records never synced, e.g. {sorted(missing)[:3]}")
    if extra := synced - clean.key_set():
        problems.append(f"{len(extra)} records a clean sync does not have: {sorted(extra)[:3]}")
    if resumed.last_state != clean.last_state:
        problems.append(f"the resumed sync ended in {resumed.last_state}")
    return problems


def _key_of(state: dict[str, Any] | None) -> str:
    return json.dumps(state, sort_keys=True)


def _stop_problems(run: TapRun, signum: int) -> tuple[TapRun, list[str]]:
    """A stopped run with the messages a target could read, and how its output or its ending
    differs from what a target and a scheduler need."""
    messages, problems = _read_strictly(run.stdout)
    stopped = replace(run, messages=messages)
    if stopped.messages and stopped.messages[-1].get("type") != "STATE":
        problems.append(f"the last message is a {stopped.messages[-1].get('type')}, not a STATE")
    if stopped.returncode != 128 + signum:
        problems.append(f"exit {stopped.returncode}, not {128 + signum}")
    if "Traceback" in stopped.stderr or "KeyboardInterrupt" in stopped.stderr:
        problems.append("a traceback on stderr: " + " | ".join(stopped.stderr_lines[-3:]))
    last = stopped.stderr_lines[-1] if stopped.stderr_lines else ""
    if "| ERROR" not in last or f"stopped by {signal.Signals(signum).name}" not in last:
        problems.append(f"stderr does not end with the one-line error: {last!r}")
    if sum("| ERROR" in line for line in stopped.stderr_lines) != 1:
        problems.append("not exactly one ERROR line")
    return stopped, problems


def _read_strictly(stdout: str) -> tuple[list[Message], list[str]]:
    """The messages of a tap's output, and every line that is not a whole JSON object ended by
    its newline: a target would fail on it."""
    if not stdout:
        return [], []
    messages: list[Message] = []
    lines = stdout.split("\n")
    problems = [] if lines[-1] == "" else [f"a cut last line: {lines[-1][:80]!r}"]
    for number, line in enumerate(lines[:-1], start=1):
        try:
            message = json.loads(line)
        except ValueError:
            message = None
        if isinstance(message, dict):
            messages.append(message)
        else:
            problems.append(f"line {number} is not a JSON object: {line[:80]!r}")
    return messages, problems


def _repeated_records(run: TapRun) -> list[tuple[str, Any]]:
    counts = Counter((stream, key) for stream in run.streams_written() for key in run.keys(stream))
    return [pair for pair, count in counts.items() if count > 1]


def _signal_once_handled(signum: int, delay: float, pid: int) -> None:
    """Signal the tap `delay` seconds after it has set up its own handling of SIGTERM.

    Before that, the interpreter is still starting and Python's defaults apply, which no code
    of the tap's can change.
    """

    def wait_then_signal() -> None:
        deadline = time.monotonic() + 30
        while not _catches(pid, signal.SIGTERM) and time.monotonic() < deadline:
            time.sleep(0.002)
        time.sleep(delay)
        sigkill(pid, signum)

    threading.Thread(target=wait_then_signal, daemon=True).start()


def _catches(pid: int, signum: int) -> bool:
    """Whether the process has a handler for `signum` (the SigCgt mask of /proc/PID/status)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return True  # gone already: nothing to wait for
    for line in status.splitlines():
        if line.startswith("SigCgt:"):
            return bool(int(line.split()[1], 16) >> (signum - 1) & 1)
    return False


class _ShortWritingStdout:
    """An unbuffered stdout whose writes take at most `limit` bytes, as a raw pipe does when a
    signal arrives in the middle of a write."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.received = bytearray()
        self.buffer = self

    def write(self, data: bytes) -> int:
        taken = bytes(data[: self.limit])
        self.received += taken
        return len(taken)

    def flush(self) -> None:
        pass


def test_a_write_that_takes_part_of_the_data_is_finished(monkeypatch: pytest.MonkeyPatch) -> None:
    stdout = _ShortWritingStdout(limit=1000)
    monkeypatch.setattr("sys.stdout", stdout)
    writer = FastSingerWriter()
    records = [{"id": number, "text": "x" * 700} for number in range(400)]
    for record in records:
        writer.write_message(RecordMessage(stream="s", record=record))
    writer.write_out()

    lines = bytes(stdout.received).decode().splitlines()
    assert [json.loads(line)["record"] for line in lines] == records
