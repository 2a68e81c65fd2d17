"""Fixtures for the tap's tests."""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tap_thinkst_canary import clock
from testkit.console import Reply, Request, ScriptedConsole
from testkit.tap import TapRun, run_tap


@pytest.fixture
def run_cli(tmp_path: Path) -> Callable[..., TapRun]:
    """The console script in a subprocess: ``run_cli(config, *args, state=None, env=None)``."""

    def run(config: dict[str, Any], *args: str, **kwargs: Any) -> TapRun:
        return run_tap(config, tmp_path, args=args, **kwargs)

    return run


@pytest.fixture
def frozen_now(monkeypatch: pytest.MonkeyPatch) -> Callable[[datetime.datetime], None]:
    """Set the tap's clock: ``frozen_now(moment)``, in step with ``console.set_now``, in this
    process and in every tap process the test runs (see testkit/tap_site)."""

    def freeze(moment: datetime.datetime) -> None:
        monkeypatch.setattr(clock, "utc_now", lambda: moment)
        monkeypatch.setenv("TAP_FROZEN_NOW", moment.isoformat())

    return freeze


@pytest.fixture
def scripted_console() -> Iterator[Callable[[Callable[[Request], Reply]], ScriptedConsole]]:
    """Factory for `ScriptedConsole`s, all stopped at teardown."""
    started: list[ScriptedConsole] = []

    def make(responder: Callable[[Request], Reply]) -> ScriptedConsole:
        console = ScriptedConsole(responder).start()
        started.append(console)
        return console

    yield make
    for console in started:
        console.stop()
