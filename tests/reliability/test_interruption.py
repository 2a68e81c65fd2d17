"""Stopped by SIGTERM or SIGINT (an orchestrator cancelling the run, Ctrl-C), the tap writes the
state of what it emitted, says so in one line, and exits non-zero: a sync cut short is not a
success, and a scheduler must not record it as one. Resumed from that state, the sync completes.
"""

from __future__ import annotations

import signal
from pathlib import Path

import pytest

from canary_simulator import Console
from testkit.tap import RequestKill, killing_during, union_keys

from .suite import CleanSync, simulator, sync, tap_config

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_interrupted_sync_says_so_and_resumes(
    signum: int, reliability_console: Console, clean_sync: CleanSync, tmp_path: Path
) -> None:
    # While the tap waits for the third page of incidents: two pages are done by then.
    interruption = RequestKill("/incidents/all", 3, signum)
    with simulator(reliability_console) as sim:
        config = tap_config(sim.base_url)
        with killing_during(sim, interruption) as on_start:
            stopped = sync(config, tmp_path / "stopped", on_start=on_start)
        resumed = sync(config, tmp_path / "resumed", state=stopped.last_state)

    # What a shell reports for a process stopped by that signal.
    assert stopped.returncode == 128 + signum, stopped.describe()
    assert stopped.messages[-1]["type"] == "STATE"
    assert "Traceback" not in stopped.stderr
    error = stopped.stderr_lines[-1]
    assert "| ERROR" in error
    assert f"stopped by {signal.Signals(signum).name}" in error
    assert resumed.returncode == 0, resumed.describe()
    assert union_keys([stopped, resumed]) == clean_sync.run.key_set()
    assert resumed.last_state == clean_sync.run.last_state


def test_a_target_that_stops_reading_ends_the_tap_in_one_line(
    reliability_console: Console, tmp_path: Path
) -> None:
    """The loader downstream dies mid-sync: its end of the pipe closes under the tap."""
    with simulator(reliability_console) as sim:
        stopped = sync(tap_config(sim.base_url), tmp_path, stop_reading_after=300)

    assert stopped.returncode == 1, stopped.describe()
    assert "Traceback" not in stopped.stderr
    error = stopped.stderr_lines[-1]
    assert "| ERROR" in error
    assert "stopped reading" in error.lower(), error
