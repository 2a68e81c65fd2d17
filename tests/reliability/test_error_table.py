"""Every failure the user must act on ends in one line that names the problem and the fix.

Table-driven over `scenarios.SCENARIOS`, through the real console script in a subprocess, at the
default log level: the exit code, the last line of stderr (which must say what the scenario
says), no traceback, the error said once, and the token nowhere. Configuration errors are found
before any request: stderr holds the one line and nothing else, stdout nothing at all, and the
console never sees a connection.
"""

from __future__ import annotations

from contextlib import ExitStack
from dataclasses import dataclass
from functools import partial

import pytest

from testkit.tap import TapRun, run_concurrently, run_tap

from .scenarios import SCENARIOS, Scenario, Setup
from .suite import FROZEN_NOW

pytestmark = pytest.mark.slow

ERROR_LEVELS = ("| ERROR", "| CRITICAL")


@dataclass(frozen=True)
class Outcome:
    setup: Setup
    run: TapRun
    requests_made: int
    #: What the scenario's own check found wrong, if anything.
    check_failure: AssertionError | None


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Outcome]:
    """Every scenario, run side by side: each has its own console and its own directory."""
    root = tmp_path_factory.mktemp("errors")

    def run_scenario(scenario: Scenario) -> Outcome:
        workdir = root / scenario.name
        with ExitStack() as stack:
            setup = scenario.setup(stack, workdir)
            run = run_tap(
                setup.config, workdir / "run", args=setup.args, env=setup.env,
                frozen_now=FROZEN_NOW,
            )  # fmt: skip
            requests_made = setup.requests_made()
        try:
            setup.check()
        except AssertionError as failure:
            return Outcome(setup, run, requests_made, failure)
        return Outcome(setup, run, requests_made, None)

    jobs = {scenario.name: partial(run_scenario, scenario) for scenario in SCENARIOS}
    return run_concurrently(jobs, workers=4)


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda scenario: scenario.name)
def test_failure_ends_in_one_line_that_names_the_fix(
    scenario: Scenario, outcomes: dict[str, Outcome]
) -> None:
    outcome = outcomes[scenario.name]
    setup, run = outcome.setup, outcome.run
    if outcome.check_failure is not None:
        raise outcome.check_failure

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
        assert outcome.requests_made == 0
