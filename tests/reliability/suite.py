"""What the reliability suite shares: the token, the frozen clock, the console and how to sync it.

The console is small (a hundred and fifty incidents, two weeks of audit trail) and the pages are
small, so that a sync crosses many pages in a few seconds. The console and every tap process
share one frozen clock, so the data, and the state a sync ends with, are the same whatever the
day and hour the suite runs.
"""

from __future__ import annotations

import datetime
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from console_keys import Key, console_keys

from canary_simulator import Console, Simulator
from testkit.tap import TapRun, run_tap

# A token shaped like a real Canary API key. Nothing the tap writes may ever contain it.
AUTH_TOKEN = "5c1e0b7a9d3f48e2a6c4b1d8e0f29a7c"

# Mid-afternoon, so that "today" already has audit entries when the tap asks for them.
FROZEN_NOW = datetime.datetime(2026, 3, 14, 15, 9, 26, tzinfo=datetime.timezone.utc)

CONSOLE_SIZE: dict[str, Any] = {
    "seed": 2026,
    "incidents": 150,
    "birds": 6,
    "tokens": 40,
    "audit_days": 15,
    "flocks": 4,
    "big_incident_events": 1500,
}

# Small pages make many pages; short timeouts and waits keep faults cheap. The simulator's
# timeout fault answers just after `request_timeout`, and its Retry-After is 1 s.
PAGE_SIZE = 25
FAST_RETRIES: dict[str, Any] = {"request_timeout": 1, "max_tries": 8, "max_retry_wait": 1}
FAULT_TIMEOUT_SECONDS = 1.5


def tap_config(base_url: str, auth_token: str = AUTH_TOKEN, **settings: Any) -> dict[str, Any]:
    """A configuration for a test console: small pages, fast retries, `settings` on top."""
    return {
        "base_url": base_url,
        "auth_token": auth_token,
        "page_size": PAGE_SIZE,
        **FAST_RETRIES,
        **settings,
    }


def new_console(**size: Any) -> Console:
    """A console of the suite's size (or `size`), on the suite's frozen clock."""
    return Console(**{**CONSOLE_SIZE, **size}, now=FROZEN_NOW)


def simulator(console: Console, **kwargs: Any) -> Simulator:
    """A simulator over `console` with the suite's token and fault timings (not started)."""
    kwargs.setdefault("auth_token", AUTH_TOKEN)
    kwargs.setdefault("fault_timeout_seconds", FAULT_TIMEOUT_SECONDS)
    kwargs.setdefault("retry_after_seconds", 1)
    return Simulator(console, **kwargs)


def sync(config: dict[str, Any], workdir: Path, **kwargs: Any) -> TapRun:
    """`run_tap` on the suite's frozen clock."""
    kwargs.setdefault("frozen_now", FROZEN_NOW)
    return run_tap(config, workdir, **kwargs)


@dataclass(frozen=True)
class CleanSync:
    """A fault-free sync of the suite's console: what every other sync must match."""

    run: TapRun
    requests_per_path: Counter[str]


def expected_keys(console: Console, name: str = "127.0.0.1") -> set[tuple[str, Key]]:
    """Every (stream, primary key) a complete sync of `console`, known to the tap as `name`
    (by default the host of a loopback `base_url`), must write.

    `incident_events` is left out: its expected keys come from a clean sync (the number of
    events per incident is what the console holds, but the positions are the tap's numbering).
    """
    return console_keys(console, name)


def without_stream(keys: set[tuple[str, Key]], stream: str) -> set[tuple[str, Key]]:
    return {pair for pair in keys if pair[0] != stream}
