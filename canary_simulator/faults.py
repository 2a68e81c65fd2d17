"""Faults on demand: which request fails, and how, reproducibly from a seed."""

from __future__ import annotations

import random
import threading
from collections.abc import Mapping

# The order is part of the plan: one uniform draw per request is compared against the
# cumulative rates in this order, so a seed always picks the same faults.
FAULT_KINDS = ("429", "500", "502", "503", "timeout", "reset", "truncate", "error-body")


class FaultPlan:
    """Draws, for each API request in turn, the fault it suffers (or none)."""

    def __init__(self, rates: Mapping[str, float] | None = None, seed: int = 0) -> None:
        self._lock = threading.Lock()
        self.reset(rates or {}, seed)

    def reset(self, rates: Mapping[str, float], seed: int) -> None:
        unknown = sorted(set(rates) - set(FAULT_KINDS))
        if unknown:
            raise ValueError(
                f"unknown fault kind {', '.join(unknown)}; use one of {', '.join(FAULT_KINDS)}"
            )
        if any(not 0 <= rate <= 1 for rate in rates.values()):
            raise ValueError("fault rates must be between 0 and 1")
        if sum(rates.values()) > 1:
            raise ValueError("fault rates must add up to at most 1")
        with self._lock:
            self.rates = {kind: float(rates[kind]) for kind in FAULT_KINDS if rates.get(kind)}
            self.seed = seed
            self._rng = random.Random(seed)

    def draw(self) -> str | None:
        if not self.rates:
            return None
        with self._lock:
            roll = self._rng.random()
        threshold = 0.0
        for kind, rate in self.rates.items():
            threshold += rate
            if roll < threshold:
                return kind
        return None


def parse_fault(option: str) -> tuple[str, float]:
    """``KIND=RATE`` from the command line."""
    kind, sep, rate = option.partition("=")
    if not sep:
        raise ValueError(f"--fault {option!r}: expected KIND=RATE, e.g. 503=0.1")
    try:
        return kind.strip(), float(rate)
    except ValueError:
        raise ValueError(f"--fault {option!r}: RATE must be a number between 0 and 1") from None
