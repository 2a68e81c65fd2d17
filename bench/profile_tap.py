"""Where the tap spends its time: a full sync under cProfile, against the simulator.

    .venv/bin/python bench/profile_tap.py                      # incidents, 100,000
    .venv/bin/python bench/profile_tap.py --streams all --top 40

Prints the most expensive functions by own time and by cumulative time, and keeps
the profile (bench/results/profile-<streams>.prof) for snakeviz or pstats.
"""

from __future__ import annotations

import argparse
import pstats
import subprocess
import sys
import tempfile
from pathlib import Path

import orjson
from harness import REPO, TAP, Measured, SimulatorProcess, measure, select_streams, write_json


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--incidents", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--streams", choices=("incidents", "all"), default="incidents")
    parser.add_argument("--page-size", type=int, default=None)
    parser.add_argument("--top", type=int, default=30)
    args = parser.parse_args()

    results = REPO / "bench" / "results"
    results.mkdir(exist_ok=True)
    profile = results / f"profile-{args.streams}.prof"
    workdir = Path(tempfile.mkdtemp(prefix="tap-canary-profile-"))

    with SimulatorProcess(incidents=args.incidents, seed=args.seed) as sim:
        config: dict[str, object] = {"base_url": sim.base_url, "auth_token": sim.auth_token}
        if args.page_size:
            config["page_size"] = args.page_size
        config_path = write_json(workdir / "config.json", config)
        command = [TAP, "--config", str(config_path)]
        if args.streams == "incidents":
            discovered = subprocess.run(
                [*command, "--discover"], capture_output=True, check=True
            ).stdout
            catalog = select_streams(orjson.loads(discovered), ["incidents"])
            command += ["--catalog", str(write_json(workdir / "catalog.json", catalog))]
        profiled = [sys.executable, "-m", "cProfile", "-o", str(profile), *command]
        measured: Measured = measure(
            profiled, stdout=workdir / "tap.out", stderr=workdir / "tap.err"
        )
    if measured.returncode != 0:
        print(f"the tap failed (log in {workdir / 'tap.err'}):", file=sys.stderr)
        print(measured.stderr_tail.replace(sim.auth_token, "<auth_token>"), file=sys.stderr)
        return 1

    print(
        f"{args.streams} sync of {args.incidents:,} incidents under cProfile: "
        f"{measured.wall_seconds:.1f} s wall (profiling roughly doubles it)"
    )
    stats = pstats.Stats(str(profile))
    stats.sort_stats("tottime").print_stats(args.top)
    stats.sort_stats("cumulative").print_stats(args.top)
    print(f"profile kept in {profile.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
