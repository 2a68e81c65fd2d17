"""An offline double of the Thinkst Canary Console API, for tests, benchmarks and the demo."""

from canary_simulator.console import Console
from canary_simulator.faults import FAULT_KINDS
from canary_simulator.fleet import ConsoleSpec, SimulatorFleet, numbered_specs
from canary_simulator.server import RequestLogEntry, Simulator

__all__ = [
    "FAULT_KINDS",
    "Console",
    "ConsoleSpec",
    "RequestLogEntry",
    "Simulator",
    "SimulatorFleet",
    "numbered_specs",
]
