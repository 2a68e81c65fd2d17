"""CPU time of this checkout's tap against copies of it, run after run, on the same answers.

    .venv/bin/python bench/cpu_compare.py --compare /tmp/variant          # incidents, 30,000
    .venv/bin/python bench/cpu_compare.py --runs all --incidents 10000 --compare /tmp/a

Where `bench/instructions.py` counts instructions, this times: the floor, this tap and each
copy (a directory holding a `tap_thinkst_canary` package) in turn, `--repeat` rounds against
the simulator's answers recorded once and replayed from memory, and prints the median CPU time
of each and its ratio to the floor's. The rounds alternate, so a burst of load elsewhere falls
on all of them alike. Use it for a change in how much the tap decodes or allocates, which
instructions do not show.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

from harness import REPO, write_json
from instructions import (
    RUNS,
    add_compare_argument,
    check_compare_argument,
    check_imports_from,
    recorded_answers,
)

from testkit.process import measure
from testkit.tap import selecting


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--incidents", type=int, default=30_000, help="default 30,000")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--page-size", type=int, default=1000)
    parser.add_argument("--runs", choices=sorted(RUNS), default="incidents")
    parser.add_argument("--repeat", type=int, default=5, help="rounds (default 5)")
    add_compare_argument(parser)
    args = parser.parse_args()
    check_compare_argument(parser, args.compare)

    workdir = Path(tempfile.mkdtemp(prefix="tap-canary-cpu-"))
    outside = Path(tempfile.mkdtemp(prefix="tap-canary-cwd-"))
    with recorded_answers(args.incidents, args.seed, args.page_size, workdir) as (
        console,
        bench,
        config,
        catalog,
    ):
        selected = write_json(workdir / "catalog.json", selecting(catalog, RUNS[args.runs]))
        tap_command = [sys.executable, "-m", "tap_thinkst_canary"]
        tap_command += ["--config", str(config), "--catalog", str(selected)]
        # Each tap runs from outside the checkout: `python -m` puts the working directory
        # first on the path, and the copy on PYTHONPATH is to be the package imported.
        taps = {"this checkout": {**bench.env, "PYTHONPATH": str(REPO)}}
        for variant in args.compare:
            taps[str(variant)] = {**bench.env, "PYTHONPATH": str(variant)}
            check_imports_from(variant, taps[str(variant)], outside)
        seconds: dict[str, list[float]] = {"floor": [], **{name: [] for name in taps}}
        for round_number in range(args.repeat):
            seconds["floor"].append(bench.floor(args.runs).measured.cpu_seconds)
            # Each tap takes its turn first after the floor: in one series, a tap that always
            # ran first came out a tenth slower than an identical copy of it run second.
            turn = round_number % len(taps)
            in_order = list(taps.items())
            for name, env in in_order[turn:] + in_order[:turn]:
                measured = measure(
                    tap_command,
                    stdout=workdir / "tap.out",
                    stderr=workdir / "tap.err",
                    env=env,
                    cwd=outside,
                )
                if measured.returncode != 0:
                    tail = measured.stderr_tail.replace(console.auth_token, "<auth_token>")
                    raise SystemExit(f"cpu_compare: {name} failed:\n{tail}")
                seconds[name].append(measured.cpu_seconds)
    floor = statistics.median(seconds["floor"])
    print(f"\n{args.incidents:,} incidents, {args.runs}, CPU seconds, median of {args.repeat}")
    for name, times in seconds.items():
        median = statistics.median(times)
        spread = f"{min(times):.3f} to {max(times):.3f}"
        print(f"{name:40s} {median:7.3f} s  ({spread})  {median / floor:5.2f}x the floor")
    return 0


if __name__ == "__main__":
    sys.exit(main())
