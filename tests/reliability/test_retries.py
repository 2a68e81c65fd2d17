"""How the tap waits between tries: Retry-After honoured and capped, backoff growing with jitter,
the timeout and the number of tries as configured, the total time bounded.

A proxy in front of the simulator fails the first requests to one endpoint and notes when every
request arrived; the sync must then complete with every record, and the gaps between tries show
the waits the tap chose.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable
from email.utils import formatdate
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from canary_simulator import Console
from testkit.console import Reply, Request, ScriptedConsole
from testkit.tap import Key, TapRun, discover, run_concurrently, selecting

from .suite import CleanSync, simulator, sync, tap_config

pytestmark = pytest.mark.slow

PATH = "/incidents/all"
# Scheduling and a busy machine add a little to every wait; they never take anything away.
SLACK = 0.6


class FailFirst:
    """Answers the first `count` requests to `PATH` with `reply()`, forwards the rest."""

    def __init__(self, count: int, reply: Callable[[], Reply], hold: float = 0) -> None:
        self.count = count
        self.reply = reply
        self.hold = hold
        self.arrivals: list[float] = []
        self._lock = threading.Lock()

    def __call__(self, request: Request) -> Reply | None:
        if request.path != PATH:
            return None
        with self._lock:
            self.arrivals.append(request.arrived)
            failing = len(self.arrivals) <= self.count
        if not failing:
            return None
        time.sleep(self.hold)
        return self.reply()

    def gaps(self) -> list[float]:
        """Seconds between one try and the next, for the failed tries and the one that worked."""
        tries = self.arrivals[: self.count + 1]
        return [later - earlier for earlier, later in itertools.pairwise(tries)]


@pytest.fixture(scope="module")
def incidents_only(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A catalog that selects only `incidents`: the waits are what is measured, not the sync."""
    config = tap_config("https://ab12cd34.canary.tools/api/v1")
    return selecting(discover(config, tmp_path_factory.mktemp("discover")), ["incidents"])


@pytest.fixture
def clean_incidents(clean_sync: CleanSync) -> set[tuple[str, Key]]:
    return {pair for pair in clean_sync.run.key_set() if pair[0] == "incidents"}


def sync_through(
    proxy_rule: FailFirst,
    console: Console,
    catalog: dict[str, Any],
    workdir: Path,
    **settings: Any,
) -> TapRun:
    with simulator(console) as sim, ScriptedConsole(proxy_rule, upstream=sim.base_url) as proxy:
        return sync(tap_config(proxy.base_url, **settings), workdir, catalog=catalog)


def status(code: int, **headers: str) -> Callable[[], Reply]:
    return lambda: Reply(status=code, body=b"busy", content_type="text/plain", headers=headers)


@pytest.mark.parametrize("code", [429, 503])
def test_retry_after_is_honoured(
    code: int,
    reliability_console: Console,
    incidents_only: dict[str, Any],
    clean_incidents: set[tuple[str, Key]],
    tmp_path: Path,
) -> None:
    # Two seconds: longer than any first wait of the tap's own backoff (at most one second).
    rule = FailFirst(1, status(code, **{"Retry-After": "2"}))
    run = sync_through(rule, reliability_console, incidents_only, tmp_path, max_retry_wait=30)
    assert run.returncode == 0, run.describe()
    assert run.key_set() == clean_incidents
    for gap in rule.gaps():
        assert 2 <= gap < 2 + SLACK


def test_retry_after_as_an_http_date_is_honoured(
    reliability_console: Console,
    incidents_only: dict[str, Any],
    clean_incidents: set[tuple[str, Key]],
    tmp_path: Path,
) -> None:
    def three_seconds_from_now() -> Reply:
        return status(503, **{"Retry-After": formatdate(time.time() + 3, usegmt=True)})()

    rule = FailFirst(1, three_seconds_from_now)
    run = sync_through(rule, reliability_console, incidents_only, tmp_path, max_retry_wait=30)
    assert run.returncode == 0, run.describe()
    assert run.key_set() == clean_incidents
    (gap,) = rule.gaps()
    # The date has a one-second resolution: the wait is the two to three seconds left of it.
    assert 2 <= gap < 3 + SLACK


def test_retry_after_is_capped_by_max_retry_wait(
    reliability_console: Console,
    incidents_only: dict[str, Any],
    clean_incidents: set[tuple[str, Key]],
    tmp_path: Path,
) -> None:
    rule = FailFirst(1, status(429, **{"Retry-After": "3600"}))
    run = sync_through(rule, reliability_console, incidents_only, tmp_path, max_retry_wait=1)
    assert run.returncode == 0, run.describe()
    assert run.key_set() == clean_incidents
    (gap,) = rule.gaps()
    assert 1 <= gap < 1 + SLACK


def test_backoff_grows_exponentially_with_jitter_up_to_the_cap(
    reliability_console: Console, incidents_only: dict[str, Any], tmp_path: Path
) -> None:
    """Without Retry-After, try k waits a random time in [2^k / 2, 2^k] seconds, capped."""
    rule = FailFirst(3, status(500))
    run = sync_through(
        rule, reliability_console, incidents_only, tmp_path, max_tries=4, max_retry_wait=2
    )
    assert run.returncode == 0, run.describe()
    gaps = rule.gaps()
    assert len(gaps) == 3
    for attempt, gap in enumerate(gaps):
        ceiling = 2.0**attempt
        assert min(ceiling / 2, 2) <= gap < min(ceiling, 2) + SLACK, gaps


def test_waits_differ_between_runs(
    reliability_console: Console, incidents_only: dict[str, Any], tmp_path: Path
) -> None:
    """Jitter: two taps failing the same way at the same time do not retry in lockstep."""
    rules = [FailFirst(3, status(502)), FailFirst(3, status(502))]

    def sync_failing(index: int) -> TapRun:
        rule, workdir = rules[index], tmp_path / str(index)
        return sync_through(rule, reliability_console, incidents_only, workdir, max_retry_wait=4)

    runs = run_concurrently({str(i): partial(sync_failing, i) for i in range(2)}, workers=2)
    assert all(run.returncode == 0 for run in runs.values())
    first, second = (rule.gaps() for rule in rules)
    # Three independent random waits agreeing to 50 ms by chance: about one in a thousand.
    differences = [abs(a - b) for a, b in zip(first, second, strict=True)]
    assert max(differences) > 0.05, (first, second)


def test_request_timeout_is_the_setting(
    reliability_console: Console, incidents_only: dict[str, Any], tmp_path: Path
) -> None:
    """A console that does not answer within `request_timeout` is given up on and tried again."""
    rule = FailFirst(1, status(200), hold=6)
    run = sync_through(
        rule, reliability_console, incidents_only, tmp_path, request_timeout=2, max_retry_wait=1
    )
    assert run.returncode == 0, run.describe()
    (gap,) = rule.gaps()
    # Two seconds of patience, then a wait of at most `max_retry_wait`.
    assert 2 <= gap < 3 + SLACK
    assert any("no answer from 127.0.0.1 within 2 s" in line for line in run.stderr_lines)


def test_max_tries_is_the_setting_and_the_total_time_is_bounded(
    incidents_only: dict[str, Any], tmp_path: Path
) -> None:
    requests: list[Request] = []

    def always_busy(request: Request) -> Reply:
        requests.append(request)
        return status(503)()

    with ScriptedConsole(always_busy) as console:
        started = time.monotonic()
        config = tap_config(console.base_url, max_tries=4, max_retry_wait=1)
        run = sync(config, tmp_path, catalog=incidents_only)
        elapsed = time.monotonic() - started
    assert run.returncode != 0
    assert len(requests) == 4
    assert "still after 4 tries" in run.stderr_lines[-1]
    # Three waits of at most `max_retry_wait`, plus start-up.
    assert elapsed < 3 * 1 + 10
