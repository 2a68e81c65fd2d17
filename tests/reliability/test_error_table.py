"""Every failure the user must act on ends in one line that names the problem and the fix.

Table-driven over `scenarios.SCENARIOS`, through the real console script in a subprocess, at the
default log level: the exit code, the last line of stderr (which must say what the scenario
says), no traceback, the error said once, and the token nowhere. Configuration errors are found
before any request: stderr holds the one line and nothing else, stdout nothing at all, and the
console never sees a connection.
"""

from __future__ import annotations

from contextlib import ExitStack
from pathlib import Path

import pytest

from .harness import run_tap
from .scenarios import SCENARIOS, Scenario
from .suite import FROZEN_NOW

pytestmark = pytest.mark.slow

ERROR_LEVELS = ("| ERROR", "| CRITICAL")


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda scenario: scenario.name)
def test_failure_ends_in_one_line_that_names_the_fix(scenario: Scenario, tmp_path: Path) -> None:
    with ExitStack() as stack:
        setup = scenario.setup(stack, tmp_path)
        run = run_tap(
            setup.config, tmp_path / "run", args=setup.args, env=setup.env, frozen_now=FROZEN_NOW
        )
        requests_made = setup.requests_made()
        setup.check()

    assert run.returncode == scenario.exit_code, run.describe()
    error = run.stderr_lines[-1]
    for piece in scenario.says:
        assert piece.lower() in error.lower(), f"{piece!r} missing from: {error}"
    assert "Traceback" not in run.stderr
    assert [line for line in run.stderr_lines if any(level in line for level in ERROR_LEVELS)] == [
        error
    ], "the error must be said once, and be the only error line"
    token = setup.config.get("auth_token")
    if isinstance(token, str):
        assert token not in run.stdout + run.stderr

    if scenario.is_config_error:
        assert run.stderr_lines == [error]
        assert run.stdout == ""
        assert requests_made == 0
