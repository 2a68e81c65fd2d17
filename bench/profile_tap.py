"""Where the tap spends its time: a full sync profiled, against the simulator.

    .venv/bin/python bench/profile_tap.py                          # incidents, 100,000, cProfile
    .venv/bin/python bench/profile_tap.py --sampler py-spy --streams all

cProfile sees only the main thread, so it misses the page read-ahead thread, and its
per-call overhead inflates small Python functions. py-spy (`pip install py-spy`)
samples every thread at little cost; its report gives each function's share of all
samples, inclusive and self. The raw profile is kept in bench/results/.
"""

from __future__ import annotations

import argparse
import os
import pstats
import re
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

import orjson
from harness import BIN, REPO, TAP, SimulatorProcess, write_json

from testkit.process import Measured, measure
from testkit.tap import selecting

RESULTS = REPO / "bench" / "results"
# One frame of py-spy's collapsed stacks: "function (path/to/file.py:123)".
_FRAME = re.compile(r"(?P<function>.*) \((?P<file>[^:()]*)(:\d+)?\)$")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--incidents", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--streams", choices=("incidents", "all"), default="incidents")
    parser.add_argument("--page-size", type=int, default=None)
    parser.add_argument("--sampler", choices=("cprofile", "py-spy"), default="cprofile")
    parser.add_argument("--top", type=int, default=30)
    args = parser.parse_args()

    RESULTS.mkdir(exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix="tap-canary-profile-"))
    suffix = "prof" if args.sampler == "cprofile" else "txt"
    profile = RESULTS / f"profile-{args.streams}-{args.sampler}.{suffix}"
    py_spy = shutil.which("py-spy", path=f"{BIN}:{os.environ.get('PATH', '')}")
    if args.sampler == "py-spy" and py_spy is None:
        print("profile: py-spy is not installed; `.venv/bin/pip install py-spy`", file=sys.stderr)
        return 2

    with SimulatorProcess(incidents=args.incidents, seed=args.seed, cache_mb=2048) as sim:
        config: dict[str, object] = {"base_url": sim.base_url, "auth_token": sim.auth_token}
        if args.page_size:
            config["page_size"] = args.page_size
        command = [TAP, "--config", str(write_json(workdir / "config.json", config))]
        if args.streams == "incidents":
            discovered = subprocess.run(
                [*command, "--discover"], capture_output=True, check=True
            ).stdout
            catalog = selecting(orjson.loads(discovered), ["incidents"])
            command += ["--catalog", str(write_json(workdir / "catalog.json", catalog))]
        # One unprofiled pass first, so the simulator serves every page from memory.
        measure(command, stdout=workdir / "warm.out", stderr=workdir / "warm.err")
        if args.sampler == "cprofile":
            profiled = [sys.executable, "-m", "cProfile", "-o", str(profile), *command]
        else:
            assert py_spy is not None
            profiled = [py_spy, "record", "--threads", "-r", "250", "-f", "raw"]
            profiled += ["-o", str(profile), "--", *command]
        measured: Measured = measure(
            profiled, stdout=workdir / "tap.out", stderr=workdir / "tap.err"
        )
    if measured.returncode != 0:
        print(f"the tap failed (log in {workdir / 'tap.err'}):", file=sys.stderr)
        print(measured.stderr_tail.replace(sim.auth_token, "<auth_token>"), file=sys.stderr)
        return 1

    shutil.rmtree(workdir, ignore_errors=True)
    print(
        f"{args.streams} sync of {args.incidents:,} incidents under {args.sampler}: "
        f"{measured.wall_seconds:.1f} s wall, {measured.cpu_seconds:.1f} s CPU"
    )
    if args.sampler == "cprofile":
        stats = pstats.Stats(str(profile))
        stats.sort_stats("tottime").print_stats(args.top)
        stats.sort_stats("cumulative").print_stats(args.top)
    else:
        print_samples(profile, args.top)
    print(f"profile kept in {profile.relative_to(REPO)}")
    return 0


def print_samples(collapsed: Path, top: int) -> None:
    """Each function's share of all samples, inclusive (anywhere on the stack) and self."""
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    total = 0
    for line in collapsed.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        samples = int(count)
        total += samples
        names = [_short(frame) for frame in stack.split(";")]
        own[names[-1]] += samples
        for name in set(names):
            inclusive[name] += samples
    for title, counter in (("inclusive", inclusive), ("self", own)):
        print(f"\n{title} share of {total:,} samples")
        for name, samples in counter.most_common(top):
            print(f"{100 * samples / total:6.1f}%  {name}")


def _short(frame: str) -> str:
    match = _FRAME.match(frame)
    if match is None:
        return frame
    path = match["file"].split("site-packages/")[-1].removeprefix(f"{REPO}/")
    return f"{match['function']} ({path})"


if __name__ == "__main__":
    sys.exit(main())
