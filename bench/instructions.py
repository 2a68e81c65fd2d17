"""The tap's cost in instructions, against the floor's: a figure that does not move with the load.

    .venv/bin/python bench/instructions.py                  # 20,000 incidents, both runs
    .venv/bin/python bench/instructions.py --runs incidents --incidents 5000
    .venv/bin/python bench/instructions.py --compare /tmp/variant   # this tap, then a copy's

CPU time on a shared machine moves by 10% from one run to the next, more than most changes to
the tap are worth. Valgrind's callgrind counts the instructions a process executes instead: the
same count, to a fraction of a percent, for the same program and input whatever else the
machine does (`apt-get install valgrind`). The runs are `bench/run.py`'s `incidents` and
`all streams`, against the simulator's answers recorded once and replayed from memory, once
each: no median is needed.

An instruction is not a unit of time: the floor spends its instructions in orjson's parsing and
writing, which run faster per instruction than the interpreter does, so the instruction ratio
is higher than the CPU time ratio `bench/run.py` prints. It is the figure to compare two
versions of the tap with; the targets are `bench/run.py`'s. `--compare DIR` counts, in the
same run and against the same answers, the tap whose `tap_thinkst_canary` package is in DIR
(a copy with a change, or with compiled modules beside its sources), each after this one.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson
from harness import FLOOR, FLOOR_STREAMS, REPO, TAP, SimulatorProcess, write_json
from replay import RecordedConsole
from run import SIMULATOR_CACHE_MB, Bench, record

from testkit.tap import selecting

_COLLECTED = re.compile(r"Collected : (\d+)")
RUNS = {"incidents": ["incidents"], "all": list(FLOOR_STREAMS)}


def instructions(
    command: list[str],
    workdir: Path,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
) -> int:
    """The instructions `command` executes, all its threads together."""
    output = f"--callgrind-out-file={workdir / 'callgrind.out'}"
    done = subprocess.run(
        ["valgrind", "--tool=callgrind", output, *command],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=cwd,
        check=False,
    )
    counted = _COLLECTED.search(done.stderr)
    if done.returncode != 0 or counted is None:
        tail = "\n".join(done.stderr.strip().splitlines()[-5:])
        raise SystemExit(f"instructions: {command[0]} failed under callgrind:\n{tail}")
    return int(counted.group(1))


def check_imports_from(variant: Path, env: dict[str, str], cwd: Path) -> None:
    """Stop unless the tap run with `env` imports the package in `variant`: counting this
    checkout's tap twice would look like a change that does nothing. Its byte code is
    written first, as this checkout's is, so no run pays for compiling it (a run that may
    not write byte code, under PYTHONDONTWRITEBYTECODE, would pay every time)."""
    for package in (variant, REPO):
        subprocess.run(
            [sys.executable, "-m", "compileall", "-q", str(package / "tap_thinkst_canary")],
            check=True,
        )
    found = subprocess.run(
        [sys.executable, "-c", "import tap_thinkst_canary; print(tap_thinkst_canary.__file__)"],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        check=True,
    ).stdout.strip()
    if not Path(found).resolve().is_relative_to(variant.resolve()):
        raise SystemExit(f"--compare {variant} imports {found} instead")


def add_compare_argument(parser: argparse.ArgumentParser) -> None:
    """`--compare DIR`, repeatable: a copy of the tap to run besides this checkout's."""
    parser.add_argument(
        "--compare",
        action="append",
        default=[],
        type=Path,
        metavar="DIR",
        help="also run the tap whose package is in DIR/tap_thinkst_canary (repeatable)",
    )


def check_compare_argument(parser: argparse.ArgumentParser, variants: list[Path]) -> None:
    for variant in variants:
        if not (variant / "tap_thinkst_canary" / "__init__.py").is_file():
            parser.error(f"--compare {variant}: no tap_thinkst_canary package in it")


@contextmanager
def recorded_answers(
    incidents: int, seed: int, page_size: int, workdir: Path
) -> Iterator[tuple[RecordedConsole, Bench, Path, dict[str, Any]]]:
    """A simulator of `incidents` behind a recording server, its answers to the floor and the
    tap recorded once: the console, a bench on it, a tap config and the tap's catalog."""
    with (
        SimulatorProcess(incidents=incidents, seed=seed, cache_mb=SIMULATOR_CACHE_MB) as sim,
        RecordedConsole(sim) as console,
    ):
        bench = Bench(console, workdir, page_size)
        config = bench.config()
        discovered = subprocess.run(
            [TAP, "--config", str(config), "--discover"], capture_output=True, check=True
        ).stdout
        catalog = orjson.loads(discovered)
        record(bench, catalog)
        yield console, bench, config, catalog


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--incidents", type=int, default=20_000, help="default 20,000")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--page-size", type=int, default=1000)
    parser.add_argument("--runs", default="incidents,all", help="incidents, all, or both")
    add_compare_argument(parser)
    args = parser.parse_args()
    runs = args.runs.split(",")
    if unknown := set(runs) - set(RUNS):
        parser.error(f"unknown run {sorted(unknown)}; choose from {sorted(RUNS)}")
    if shutil.which("valgrind") is None:
        print("instructions: valgrind is not installed (apt-get install valgrind)", file=sys.stderr)
        return 2
    check_compare_argument(parser, args.compare)

    workdir = Path(tempfile.mkdtemp(prefix="tap-canary-instructions-"))
    try:
        with recorded_answers(args.incidents, args.seed, args.page_size, workdir) as (
            console,
            _,
            config,
            catalog,
        ):
            floor_env = {"BENCH_AUTH_TOKEN": console.auth_token, "PATH": "/usr/bin:/bin"}
            print(f"\n{args.incidents:,} incidents, page size {args.page_size}, instructions")
            for run in runs:
                streams = selecting(catalog, RUNS[run])
                selected = write_json(workdir / f"catalog-{run}.json", streams)
                floor_command = [sys.executable, FLOOR, "--base-url", console.base_url]
                floor_command += ["--page-size", str(args.page_size), "--streams", run]
                floor_command += ["--out", str(workdir / "floor.out")]
                floor = instructions(floor_command, workdir, env=floor_env)
                tap_command = [sys.executable, "-m", "tap_thinkst_canary"]
                tap_command += ["--config", str(config), "--catalog", str(selected)]
                tap = instructions(tap_command, workdir)
                print(
                    f"{run:<10} floor {floor / 1e9:7.3f} G   tap {tap / 1e9:7.3f} G   "
                    f"tap/floor {tap / floor:5.2f}x"
                )
                for variant in args.compare:
                    # Run from outside this checkout: `python -m` puts the working directory
                    # first on the path, before PYTHONPATH's copy.
                    env = {**os.environ, "PYTHONPATH": str(variant.resolve())}
                    check_imports_from(variant, env, workdir)
                    other = instructions(tap_command, workdir, env=env, cwd=workdir)
                    print(
                        f"{'':<10} {variant!s:<19} {other / 1e9:7.3f} G   "
                        f"tap/floor {other / floor:5.2f}x   against this tap {other / tap:5.3f}x"
                    )
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
