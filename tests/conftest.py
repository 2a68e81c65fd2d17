"""Shared fixtures: a seeded console and a simulator serving it on a free loopback port."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from canary_simulator import Console, Simulator

AUTH_TOKEN = "test-token"


@pytest.fixture
def console() -> Console:
    """A small console with fixed seed: every logtype, one big brute-force incident."""
    return Console(seed=7)


@pytest.fixture
def simulator(console: Console) -> Iterator[Simulator]:
    """A running simulator over `console`, token ``test-token``, no faults."""
    with Simulator(console, auth_token=AUTH_TOKEN) as sim:
        yield sim


@pytest.fixture
def make_simulator() -> Iterator[Callable[..., Simulator]]:
    """Factory: ``make_simulator(console=None, **kwargs)``; Console kwargs (seed, incidents,
    birds, tokens, audit_days, flocks, big_incident_events, now) build a new console, the rest
    go to `Simulator`. Every simulator it starts is stopped at teardown."""
    started: list[Simulator] = []
    console_options = {"seed", "incidents", "birds", "tokens", "audit_days", "flocks"}
    console_options |= {"big_incident_events", "now"}

    def make(console: Console | None = None, **kwargs: Any) -> Simulator:
        console_kwargs = {k: kwargs.pop(k) for k in list(kwargs) if k in console_options}
        if console is None:
            console = Console(**console_kwargs)
        elif console_kwargs:
            raise TypeError("pass either a console or Console options, not both")
        kwargs.setdefault("auth_token", AUTH_TOKEN)
        sim = Simulator(console, **kwargs).start()
        started.append(sim)
        return sim

    yield make
    for sim in started:
        sim.stop()
