"""Every model test runs twice: with each shape of object compiled into its own fill at first
sight, and with every object filled key by key. Both are the model; a difference is a bug."""

from __future__ import annotations

import sys
from collections.abc import Iterator

import pytest

from tap_thinkst_canary.model import _table

from .helpers import model_tables


def _forget_compiled_fills() -> None:
    for table in model_tables().values():
        table._fills.clear()
        table._sightings.clear()


@pytest.fixture(scope="session", autouse=True, params=["compiled", "key by key"])
def table_fills(request: pytest.FixtureRequest) -> Iterator[str]:
    patch = pytest.MonkeyPatch()
    first_sight_or_never = 1 if request.param == "compiled" else sys.maxsize
    patch.setattr(_table, "COMPILE_AFTER_SIGHTINGS", first_sight_or_never)
    _forget_compiled_fills()
    yield request.param
    patch.undo()
    _forget_compiled_fills()
