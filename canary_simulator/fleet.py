"""Several simulated consoles at once, a loopback port each, as an operator of many sees them.

Every console has its own seed, name (so its own domain) and token, and their ids overlap the
way real consoles' do: each has a `flock:default`, and their incidents' `updated_id`s all
start at 1.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from typing_extensions import override

from canary_simulator.console import Console
from canary_simulator.loopback import Background
from canary_simulator.server import Simulator


@dataclass(frozen=True)
class ConsoleSpec:
    """One console of a fleet: `console_options` go to `Console`, `simulator_options` to
    `Simulator`."""

    name: str
    seed: int
    auth_token: str
    console_options: dict[str, Any] = field(default_factory=dict)
    simulator_options: dict[str, Any] = field(default_factory=dict)


def numbered_specs(count: int, seed: int = 7, token_prefix: str = "simulator-token",
                   **console_options: Any) -> list[ConsoleSpec]:  # fmt: skip
    """`count` consoles named ``console-1``... with seeds `seed`, `seed + 1`... and tokens
    ``<token_prefix>-1``..."""
    if count < 1:
        raise ValueError("a fleet needs at least one console")
    return [
        ConsoleSpec(f"console-{i}", seed + i - 1, f"{token_prefix}-{i}", dict(console_options))
        for i in range(1, count + 1)
    ]


def parse_console_option(option: str) -> ConsoleSpec:
    """``NAME:SEED:TOKEN`` from the command line."""
    parts = option.split(":", 2)
    if len(parts) != 3 or not all(parts):
        raise ValueError(f"--console {option!r}: expected NAME:SEED:TOKEN, e.g. acme:11:acme-token")
    name, seed, token = parts
    try:
        return ConsoleSpec(name, int(seed), token)
    except ValueError:
        raise ValueError(f"--console {option!r}: SEED must be an integer") from None


class SimulatorFleet(Background):
    """Starts, describes and stops one `Simulator` per `ConsoleSpec`."""

    def __init__(self, specs: Iterable[ConsoleSpec], host: str = "127.0.0.1",
                 first_port: int = 0, **simulator_options: Any) -> None:  # fmt: skip
        self.specs = list(specs)
        names = [spec.name for spec in self.specs]
        if len(set(names)) != len(names):
            raise ValueError("every console of a fleet needs its own name")
        tokens = [spec.auth_token for spec in self.specs]
        if len(set(tokens)) != len(tokens):
            raise ValueError("every console of a fleet needs its own token")
        self.simulators: list[Simulator] = []
        for i, spec in enumerate(self.specs):
            options = {**simulator_options, **spec.simulator_options}
            console = Console(seed=spec.seed, name=spec.name, **spec.console_options)
            port = first_port + i if first_port else 0
            simulator = Simulator(
                console, auth_token=spec.auth_token, host=host, port=port, **options
            )
            simulator.fleet = self
            self.simulators.append(simulator)

    def __getitem__(self, name: str) -> Simulator:
        for spec, simulator in zip(self.specs, self.simulators, strict=True):
            if spec.name == name:
                return simulator
        raise KeyError(f"no console {name!r} in this fleet")

    @override
    def start(self) -> SimulatorFleet:
        try:
            for simulator in self.simulators:
                simulator.start()
        except OSError:
            self.stop()
            raise
        return self

    @override
    def stop(self) -> None:
        for simulator in self.simulators:
            simulator.stop()

    def describe(self) -> list[dict[str, Any]]:
        """Each console's name, seed, domain, base_url, admin_url and auth_token."""
        return [
            {
                "name": spec.name,
                "seed": spec.seed,
                "domain": simulator.console.estate.domain,
                "base_url": simulator.base_url,
                "admin_url": simulator.admin_url,
                "auth_token": spec.auth_token,
            }
            for spec, simulator in zip(self.specs, self.simulators, strict=True)
        ]

    def write_description(self, path: Path) -> None:
        """The description as JSON, readable by its owner only: it holds every token."""
        text = json.dumps({"consoles": self.describe()}, indent=1, ensure_ascii=False) + "\n"
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as out:
            out.write(text)
