"""Benchmark of tap-thinkst-canary against the console simulator, side by side with the floor.

    .venv/bin/python bench/run.py                  # the default run, a few minutes
    .venv/bin/python bench/run.py --memory-check   # adds 10,000 vs 1,000,000 incidents
    .venv/bin/python bench/run.py --check          # exits 1 when a target is missed

Prints a table and writes every figure to bench/results/latest.json.
"""

from __future__ import annotations

import argparse
import itertools
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Protocol

import orjson
from floor import Floor
from floor import run as run_floor
from harness import (
    FLOOR,
    FLOOR_STREAMS,
    INCREMENTAL_STREAMS,
    REPO,
    SNAPSHOT_STREAMS,
    TAP,
    BenchError,
    Request,
    RequestSummary,
    SimulatorProcess,
    SingerOutput,
    write_json,
)
from replay import RecordedConsole

from testkit.process import Measured, measure
from testkit.tap import selecting

RESULTS = REPO / "bench" / "results" / "latest.json"
MEMORY_RESULTS = REPO / "bench" / "results" / "memory.json"

# The targets the tap must meet, measured by this benchmark.
MAX_INCIDENTS_RATIO = 1.5
MAX_ALL_STREAMS_RATIO = 2.0
MAX_LATENCY_RATIO = 1.05
MAX_PEAK_RSS_MB = 150.0
MAX_MEMORY_GROWTH = 1.2
# The figures before the benchmark served recorded pages (README at 2a6f0c6): the start-up
# paths must not get slower.
BEFORE_ABOUT_SECONDS = 1.16
BEFORE_NO_CHANGE_SECONDS = 1.56
# The realistic-latency run: every answer 200 ms late, enough pages that the tap's start-up
# (importing the SDK) is a small part of the wall time.
LATENCY_MS = 200
LATENCY_PAGE_SIZE = 100
LATENCY_REPEAT = 2
# "Far fewer requests than one per day of history": at most one per ten days.
MAX_AUDIT_REQUESTS_PER_DAY = 0.1
AUDIT_BACKFILL_DAYS = 3 * 365 + 1
AUDIT_LATENCY_MS = 50
MEMORY_SIZES = (10_000, 1_000_000)
# Many consoles: this many, each answering every request this late, synced at once within
# this factor of the slowest one synced alone.
MANY_CONSOLES = 10
MANY_CONSOLES_LATENCY_MS = 100
MANY_CONSOLES_INCIDENTS = 300
MANY_CONSOLES_PAGE_SIZE = 100
MAX_MANY_CONSOLES_RATIO = 1.5
PAGED_LIKE_THE_FLOOR = ("incidents", "birds", "tokens", "flocks")
# Room for every encoded incident of the default run, so that after one warm-up pass the
# simulator serves pages from memory and the timed runs measure the client, not the server.
SIMULATOR_CACHE_MB = 2048

_SCRATCH_NUMBERS = itertools.count(1)


@dataclass
class Sync:
    """One measured sync (tap or floor): the process, its requests, its output."""

    label: str
    measured: Measured
    requests: RequestSummary
    records: int
    output: SingerOutput | None = None
    #: How many runs the figures summarise (medians of wall and CPU time, highest peak RSS).
    runs: int = 1

    @property
    def records_per_second(self) -> float:
        return self.records / self.measured.wall_seconds

    def as_json(self) -> dict[str, Any]:
        figures: dict[str, Any] = {
            "wall_seconds": round(self.measured.wall_seconds, 3),
            "cpu_seconds": round(self.measured.cpu_seconds, 3),
            "records": self.records,
            "records_per_second": round(self.records_per_second),
            "peak_rss_mb": round(self.measured.peak_rss_mb, 1),
            "requests": self.requests.per_stream,
            "requests_total": self.requests.total,
            "duplicate_requests": self.requests.duplicates,
            "page_limits": self.requests.page_limits,
        }
        if self.output is not None:
            figures["records_per_stream"] = dict(self.output.records)
            figures["state_messages"] = self.output.state_messages
        return figures


class Console(Protocol):
    """What the benchmark needs of the server it points the tap at: the simulator itself or
    its recorded answers."""

    @property
    def base_url(self) -> str: ...

    @property
    def auth_token(self) -> str: ...

    def request_log(self) -> list[Request]: ...

    def count_requests(self) -> int: ...


class Bench:
    """Runs the tap and the floor against one console, in a scratch directory."""

    def __init__(self, sim: Console, workdir: Path, page_size: int) -> None:
        self.sim = sim
        self.workdir = workdir
        self.page_size = page_size
        self.env = {**os.environ, "BENCH_AUTH_TOKEN": sim.auth_token}

    def _scratch(self, name: str) -> Path:
        """A fresh path in the scratch directory, numbered in the order of the runs."""
        return self.workdir / f"{next(_SCRATCH_NUMBERS):03d}-{name}"

    def _paths(self, name: str) -> tuple[Path, Path]:
        stem = self._scratch(name)
        return stem.with_suffix(".out"), stem.with_suffix(".err")

    def config(self, **extra: Any) -> Path:
        config = {
            "base_url": self.sim.base_url,
            "auth_token": self.sim.auth_token,
            "page_size": self.page_size,
            **extra,
        }
        return write_json(self._scratch("config.json"), config)

    def _run(self, name: str, command: list[str]) -> tuple[Measured, RequestSummary, Path]:
        stdout, stderr = self._paths(name)
        before = self.sim.count_requests()
        measured = measure(command, stdout=stdout, stderr=stderr, env=self.env)
        if measured.returncode != 0:
            tail = measured.stderr_tail.replace(self.sim.auth_token, "<auth_token>")
            raise BenchError(
                f"{name} exited with {measured.returncode} (full log in {stderr}):\n{tail}"
            )
        requests = RequestSummary(self.sim.request_log()[before:])
        return measured, requests, stdout

    def floor(self, streams: str) -> Sync:
        out, _ = self._paths(f"floor-{streams}-records")
        command = [sys.executable, FLOOR, "--base-url", self.sim.base_url]
        command += ["--page-size", str(self.page_size), "--streams", streams, "--out", str(out)]
        measured, requests, stdout = self._run(f"floor-{streams}", command)
        return Sync(f"floor {streams}", measured, requests, int(stdout.read_text()))

    def tap(
        self,
        label: str,
        *,
        catalog: dict[str, Any] | None = None,
        state: dict[str, Any] | None = None,
        **config: Any,
    ) -> Sync:
        command = [TAP, "--config", str(self.config(**config))]
        if catalog is not None:
            path = write_json(self._scratch("catalog.json"), catalog)
            command += ["--catalog", str(path)]
        if state is not None:
            path = write_json(self._scratch("state.json"), state)
            command += ["--state", str(path)]
        measured, requests, stdout = self._run(label.replace(" ", "-"), command)
        output = SingerOutput.read(stdout)
        return Sync(label, measured, requests, output.total_records, output)

    def best_of(self, repeat: int, run: Callable[[], Sync]) -> Sync:
        """The fastest of `repeat` runs, carrying the highest peak RSS seen over all of them."""
        runs: list[Sync] = [run() for _ in range(repeat)]
        best = min(runs, key=lambda sync: sync.measured.wall_seconds)
        best.measured.peak_rss_mb = max(sync.measured.peak_rss_mb for sync in runs)
        return best

    def alternating(
        self, repeat: int, floor: Callable[[], Sync], tap: Callable[[], Sync]
    ) -> tuple[Sync, Sync]:
        """Floor, tap, floor, tap...: `repeat` runs of each, summarised by their medians, so
        that a burst of load elsewhere on the machine falls on both alike."""
        floors: list[Sync] = []
        taps: list[Sync] = []
        for _ in range(repeat):
            floors.append(floor())
            taps.append(tap())
        return median_of(floors), median_of(taps)

    def timed_command(self, name: str, command: list[str], repeat: int = 3) -> tuple[float, Path]:
        """Best wall time of a short command such as `--about`, and its last stdout."""
        walls = []
        for _ in range(repeat):
            measured, _, stdout = self._run(name, command)
            walls.append(measured.wall_seconds)
        return min(walls), stdout


def median_of(runs: list[Sync]) -> Sync:
    """The first run's records and requests with the median wall and CPU time of all runs
    and the highest peak RSS any of them reached."""
    first = runs[0]
    measured = replace(
        first.measured,
        wall_seconds=statistics.median(sync.measured.wall_seconds for sync in runs),
        cpu_seconds=statistics.median(sync.measured.cpu_seconds for sync in runs),
        peak_rss_mb=max(sync.measured.peak_rss_mb for sync in runs),
    )
    return replace(first, measured=measured, runs=len(runs))


def tap_default_page_size() -> int:
    about = subprocess.run([TAP, "--about", "--format", "json"], capture_output=True, check=True)
    settings = orjson.loads(about.stdout)["settings"]["properties"]
    return int(settings["page_size"]["default"])


def main_run(args: argparse.Namespace) -> dict[str, Any]:
    page_size = args.page_size or tap_default_page_size()
    results: dict[str, Any] = {"environment": environment(), "parameters": vars(args).copy()}
    results["parameters"]["page_size"] = page_size
    workdir = Path(tempfile.mkdtemp(prefix="tap-canary-bench-"))
    results["workdir"] = str(workdir)
    print(f"scratch files in {workdir} (removed at the end unless --keep)", file=sys.stderr)
    if args.memory_only:
        results["memory"] = memory_check(args, workdir, page_size)
        return results

    with (
        SimulatorProcess(
            incidents=args.incidents, seed=args.seed, cache_mb=SIMULATOR_CACHE_MB
        ) as sim,
        RecordedConsole(sim) as console,
    ):
        results["simulator_startup_seconds"] = round(sim.startup_seconds, 2)
        bench = Bench(console, workdir, page_size)
        _, discovered = bench.timed_command(
            "discover", [TAP, "--config", str(bench.config()), "--discover"], repeat=1
        )
        catalog = orjson.loads(discovered.read_bytes())
        results["recording"] = record(bench, catalog)

        about_seconds, _ = bench.timed_command("about", [TAP, "--about"])
        discover_seconds, _ = bench.timed_command(
            "discover", [TAP, "--config", str(bench.config()), "--discover"]
        )
        results["about_seconds"] = round(about_seconds, 3)
        results["discover_seconds"] = round(discover_seconds, 3)

        progress(f"incidents: floor and tap, alternating, median of {args.repeat}")
        incidents_catalog = selecting(catalog, ["incidents"])
        floor_incidents, tap_incidents = bench.alternating(
            args.repeat,
            lambda: bench.floor("incidents"),
            lambda: bench.tap("tap incidents", catalog=incidents_catalog),
        )
        progress(f"all streams: floor and tap, alternating, median of {args.repeat}")
        floor_catalog = selecting(catalog, FLOOR_STREAMS)
        floor_all, tap_all = bench.alternating(
            args.repeat,
            lambda: bench.floor("all"),
            lambda: bench.tap("tap all streams", catalog=floor_catalog),
        )

        progress(f"no-change incremental run against the simulator, best of {args.repeat}")
        assert tap_all.output is not None
        final_state = tap_all.output.final_state
        on_simulator = Bench(sim, workdir, page_size)
        no_change = on_simulator.best_of(
            args.repeat,
            lambda: on_simulator.tap("tap no-change", state=final_state, catalog=floor_catalog),
        )

    results["incidents"] = pair_figures(floor_incidents, tap_incidents)
    results["all_streams"] = pair_figures(floor_all, tap_all)
    expected_no_change = len(INCREMENTAL_STREAMS) + sum(
        floor_all.requests.per_stream.get(stream, 0) for stream in SNAPSHOT_STREAMS
    )
    results["no_change"] = {**no_change.as_json(), "expected_requests": expected_no_change}

    progress(
        f"latency: {args.latency_incidents:,} incidents, page size {LATENCY_PAGE_SIZE}, "
        f"{LATENCY_MS} ms per answer"
    )
    results["latency"] = latency_run(args, workdir, catalog)

    progress(f"audit-trail backfill of {AUDIT_BACKFILL_DAYS} days at {AUDIT_LATENCY_MS} ms")
    results["audit_backfill"] = audit_backfill(args, workdir, page_size, catalog)

    progress(
        f"many consoles: {MANY_CONSOLES} consoles at {MANY_CONSOLES_LATENCY_MS} ms per answer, "
        "at once and one at a time alone"
    )
    results["many_consoles"] = many_consoles_run(workdir)

    if args.memory_check:
        results["memory"] = memory_check(args, workdir, page_size)
    return results


def many_consoles_run(workdir: Path) -> dict[str, Any]:
    """Every stream of `MANY_CONSOLES` simulated consoles, each answering late, in one sync,
    against the slowest of them synced alone.

    The consoles are served by a simulator process of their own, whose CPU time is reported:
    this process only starts and times the tap. The floor fetching every console at once,
    against one console alone, shows the server keeps up.
    """
    with SimulatorProcess(
        incidents=MANY_CONSOLES_INCIDENTS, seed=7, latency_ms=MANY_CONSOLES_LATENCY_MS,
        audit_days=10, consoles=MANY_CONSOLES,
    ) as sim:  # fmt: skip
        consoles = sim.consoles_served()

        def sync_seconds(chosen: list[dict[str, str]]) -> float:
            config = workdir / f"consoles-{next(_SCRATCH_NUMBERS)}.json"
            config.write_bytes(
                orjson.dumps({"consoles": chosen, "page_size": MANY_CONSOLES_PAGE_SIZE})
            )
            started = time.monotonic()
            subprocess.run(
                [TAP, "--config", str(config)], stdout=subprocess.DEVNULL, check=True,
                stderr=subprocess.DEVNULL,
            )  # fmt: skip
            return time.monotonic() - started

        floor_alone = max(floor_seconds([console]) for console in consoles)
        floor_together = floor_seconds(consoles)
        server_cpu_before = sim.cpu_seconds()
        together = sync_seconds(consoles)
        server_cpu = sim.cpu_seconds() - server_cpu_before
        alone = [sync_seconds([console]) for console in consoles]
    slowest = max(alone)
    return {
        "consoles": MANY_CONSOLES,
        "latency_ms": MANY_CONSOLES_LATENCY_MS,
        "together_seconds": round(together, 2),
        "slowest_alone_seconds": round(slowest, 2),
        "sum_alone_seconds": round(sum(alone), 2),
        "ratio": round(together / slowest, 2),
        "server_cpu_seconds_together": round(server_cpu, 2),
        "floor_slowest_alone_seconds": round(floor_alone, 2),
        "floor_together_seconds": round(floor_together, 2),
    }


def floor_seconds(consoles: list[dict[str, str]]) -> float:
    """How long the floor takes to fetch every stream of these consoles, all at once, a thread
    each (its work is waiting for answers), writing nothing."""

    def fetch(console: dict[str, str]) -> None:
        floor = Floor(console["base_url"], console["auth_token"], MANY_CONSOLES_PAGE_SIZE)
        with open(os.devnull, "wb") as out:
            run_floor(floor, "all", out)

    started = time.monotonic()
    with ThreadPoolExecutor(len(consoles)) as pool:
        for fetched in [pool.submit(fetch, console) for console in consoles]:
            fetched.result()
    return time.monotonic() - started


def record(bench: Bench, catalog: dict[str, Any]) -> dict[str, Any]:
    """Every request of the timed runs, asked of the simulator once and kept.

    The floor asks for every page of every endpoint; the tap then asks for what the floor
    does not (the access check, the audit trail by windows of days). The tap's incident
    pages are the floor's, so the tap records them with the floor's other streams.
    """
    console = bench.sim
    assert isinstance(console, RecordedConsole)
    started = time.perf_counter()
    progress("recording: the floor over every endpoint (the simulator builds every answer)")
    bench.floor("all")
    progress("recording: the tap's own requests")
    others = [stream for stream in FLOOR_STREAMS if stream not in {"incidents", "incident_events"}]
    bench.tap("tap recording", catalog=selecting(catalog, others))
    console.recording = False
    return {
        "requests": console.recorded_requests,
        "megabytes": round(console.recorded_megabytes, 1),
        "took_seconds": round(time.perf_counter() - started, 1),
    }


def latency_run(args: argparse.Namespace, workdir: Path, catalog: dict[str, Any]) -> dict[str, Any]:
    """The floor and the tap over recorded pages that each arrive `LATENCY_MS` late."""
    with (
        SimulatorProcess(incidents=args.latency_incidents, seed=args.seed) as sim,
        RecordedConsole(sim) as console,
    ):
        bench = Bench(console, workdir, LATENCY_PAGE_SIZE)
        incidents_catalog = selecting(catalog, ["incidents"])
        bench.floor("incidents")
        bench.tap("tap latency recording", catalog=incidents_catalog)
        console.recording = False
        console.latency_seconds = LATENCY_MS / 1000
        floor, tap = bench.alternating(
            LATENCY_REPEAT,
            lambda: bench.floor("incidents"),
            lambda: bench.tap("tap latency", catalog=incidents_catalog),
        )
    return {
        **pair_figures(floor, tap),
        "incidents": args.latency_incidents,
        "page_size": LATENCY_PAGE_SIZE,
        "latency_ms": LATENCY_MS,
        "latency_alone_seconds": round(floor.requests.total * LATENCY_MS / 1000, 1),
    }


def pair_figures(floor: Sync, tap: Sync) -> dict[str, Any]:
    return {
        "floor": floor.as_json(),
        "tap": tap.as_json(),
        "ratio": round(ratio(tap, floor), 2),
        "cpu_ratio": round(cpu_ratio(tap, floor), 2),
        "runs": floor.runs,
    }


def audit_backfill(
    args: argparse.Namespace, workdir: Path, page_size: int, catalog: dict[str, Any]
) -> dict[str, Any]:
    today = datetime.now(timezone.utc).date()
    start = today - timedelta(days=AUDIT_BACKFILL_DAYS - 1)
    with SimulatorProcess(
        incidents=100,
        seed=args.seed,
        latency_ms=AUDIT_LATENCY_MS,
        audit_days=AUDIT_BACKFILL_DAYS,
    ) as sim:
        bench = Bench(sim, workdir, page_size)
        sync = bench.tap(
            "tap audit backfill",
            catalog=selecting(catalog, ["audit_trail"]),
            start_date=f"{start.isoformat()}T00:00:00Z",
        )
    assert sync.output is not None
    return {
        **sync.as_json(),
        "days_of_history": AUDIT_BACKFILL_DAYS,
        "latency_ms": AUDIT_LATENCY_MS,
        "one_request_per_day_would_take_seconds": round(
            AUDIT_BACKFILL_DAYS * AUDIT_LATENCY_MS / 1000, 1
        ),
        "days_with_entries": sync.output.audit_days,
        "days_checkpointed": sync.output.audit_day_checkpoints,
        "days_unsorted": sync.output.audit_days_unsorted,
        "days_out_of_order": sync.output.audit_days_out_of_order,
    }


def memory_check(args: argparse.Namespace, workdir: Path, page_size: int) -> dict[str, Any]:
    started = time.perf_counter()
    figures: dict[str, Any] = {}
    for incidents in MEMORY_SIZES:
        progress(f"memory check: {incidents:,} incidents")
        with SimulatorProcess(incidents=incidents, seed=args.seed) as sim:
            bench = Bench(sim, workdir, page_size)
            _, discovered = bench.timed_command(
                "discover", [TAP, "--config", str(bench.config()), "--discover"], repeat=1
            )
            catalog = selecting(orjson.loads(discovered.read_bytes()), ["incidents"])
            sync = bench.tap("tap memory", catalog=catalog)
        figures[str(incidents)] = sync.as_json()
    small, large = (figures[str(n)]["peak_rss_mb"] for n in MEMORY_SIZES)
    return {
        "incidents": figures,
        "growth": round(large / small, 3),
        "took_seconds": round(time.perf_counter() - started, 1),
    }


def ratio(tap: Sync, floor: Sync) -> float:
    return tap.measured.wall_seconds / floor.measured.wall_seconds


def cpu_ratio(tap: Sync, floor: Sync) -> float:
    return tap.measured.cpu_seconds / floor.measured.cpu_seconds


def progress(message: str) -> None:
    print(f"... {message}", file=sys.stderr, flush=True)


def environment() -> dict[str, Any]:
    commit = subprocess.run(
        ["git", "describe", "--always", "--dirty"], cwd=REPO, capture_output=True, text=True
    ).stdout.strip()
    return {
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "commit": commit,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "load_average_at_start": [round(load, 2) for load in os.getloadavg()],
    }


# --- report -------------------------------------------------------------------------------


def targets(results: dict[str, Any]) -> list[tuple[bool, str]]:
    """Each target with whether it is met and the figure that decides it."""
    checks: list[tuple[bool, str]] = []
    if "incidents" not in results:
        return memory_targets(results)
    incidents, everything = results["incidents"], results["all_streams"]
    for label, pair, most in (
        ("incidents full sync", incidents, MAX_INCIDENTS_RATIO),
        ("all streams (the floor writes every event too)", everything, MAX_ALL_STREAMS_RATIO),
    ):
        for kind, key in (("CPU time", "cpu_ratio"), ("wall time", "ratio")):
            checks.append(
                (pair[key] <= most, f"{label}, {kind} at most {most}x the floor: {pair[key]}x")
            )
    latency = results["latency"]
    checks.append(
        (
            latency["ratio"] <= MAX_LATENCY_RATIO,
            f"{latency['latency_ms']} ms per answer, {latency['floor']['requests_total']} pages: "
            f"wall time at most {MAX_LATENCY_RATIO}x the floor: {latency['ratio']}x",
        )
    )
    checks.append(
        (
            results["about_seconds"] <= BEFORE_ABOUT_SECONDS,
            f"--about no slower than before ({BEFORE_ABOUT_SECONDS:.2f} s): "
            f"{results['about_seconds']:.2f} s",
        )
    )
    taps = {
        "incidents": incidents["tap"],
        "all streams": everything["tap"],
        "no-change": results["no_change"],
        "audit backfill": results["audit_backfill"],
    }
    for size, figures in results.get("memory", {}).get("incidents", {}).items():
        taps[f"{int(size):,} incidents"] = figures
    peak_name, peak = max(taps.items(), key=lambda item: item[1]["peak_rss_mb"])
    checks.append(
        (
            peak["peak_rss_mb"] <= MAX_PEAK_RSS_MB,
            f"peak RSS at most {MAX_PEAK_RSS_MB:.0f} MB: {peak['peak_rss_mb']} MB ({peak_name})",
        )
    )
    if "memory" in results:
        checks.append(memory_targets(results)[-1])
    duplicates = sum(figures["duplicate_requests"] for figures in taps.values())
    checks.append((duplicates == 0, f"no page fetched twice: {duplicates} repeated requests"))
    page_size = results["parameters"]["page_size"]
    small_pages = sorted(
        {
            f"{stream} limit={limit}"
            for figures in taps.values()
            for stream, limits in figures["page_limits"].items()
            for limit in limits
            if limit < page_size
        }
    )
    checks.append(
        (
            not small_pages,
            f"every page asks for page_size={page_size}: "
            + (", ".join(small_pages) if small_pages else "yes"),
        )
    )
    for label, pair in (("incidents", incidents), ("all streams", everything)):
        tap_requests, floor_requests = pair["tap"]["requests"], pair["floor"]["requests"]
        # The audit trail is paged differently on purpose (windows of days); the floor
        # pages it as one list, so only the other streams compare page for page.
        extra = {
            stream: count
            for stream, count in tap_requests.items()
            if stream in PAGED_LIKE_THE_FLOOR and count > floor_requests.get(stream, 0)
        }
        checks.append(
            (
                not extra,
                f"{label}: no more pages than the floor fetched"
                + (f" (tap: {extra}, floor: {floor_requests})" if extra else ""),
            )
        )
        checks.append(
            (
                pair["tap"]["records"] == pair["floor"]["records"],
                f"{label}: the tap emits the floor's {pair['floor']['records']:,} records: "
                f"{pair['tap']['records']:,}",
            )
        )
    no_change = results["no_change"]
    checks.append(
        (
            no_change["requests_total"] <= no_change["expected_requests"],
            f"no-change run: {no_change['requests_total']} requests, at most one per incremental "
            f"stream plus the snapshot pages ({no_change['expected_requests']})",
        )
    )
    checks.append(
        (
            no_change["wall_seconds"] <= BEFORE_NO_CHANGE_SECONDS,
            f"no-change run no slower than before ({BEFORE_NO_CHANGE_SECONDS:.2f} s): "
            f"{no_change['wall_seconds']:.2f} s",
        )
    )
    changed = {
        stream: count
        for stream, count in no_change.get("records_per_stream", {}).items()
        if stream in {*INCREMENTAL_STREAMS, "incident_events"} and count
    }
    checks.append((not changed, f"no-change run emits no incremental record: {changed or 'none'}"))
    many = results.get("many_consoles")
    if many:
        checks.append(
            (
                many["ratio"] <= MAX_MANY_CONSOLES_RATIO,
                f"{many['consoles']} consoles at {many['latency_ms']} ms, at once, at most "
                f"{MAX_MANY_CONSOLES_RATIO}x the slowest alone: {many['together_seconds']} s "
                f"against {many['slowest_alone_seconds']} s ({many['ratio']}x; one after the "
                f"other would be {many['sum_alone_seconds']} s; the simulator's CPU "
                f"{many['server_cpu_seconds_together']} s; the floor, every console at once "
                f"{many['floor_together_seconds']} s, the slowest alone "
                f"{many['floor_slowest_alone_seconds']} s)",
            )
        )
    audit = results["audit_backfill"]
    allowed = int(audit["days_of_history"] * MAX_AUDIT_REQUESTS_PER_DAY)
    checks.append(
        (
            0 < audit["requests_total"] <= allowed,
            f"audit backfill of {audit['days_of_history']} days: {audit['requests_total']} "
            f"requests (target at most {allowed})",
        )
    )
    checks.append(
        (
            audit["days_with_entries"] > 0
            and audit["days_unsorted"] == 0
            and audit["days_out_of_order"] == 0
            and audit["days_checkpointed"] == audit["days_with_entries"],
            f"audit backfill: {audit['days_with_entries']} days emitted in order, "
            f"{audit['days_unsorted']} unsorted, {audit['days_checkpointed']} checkpointed",
        )
    )
    return checks


def memory_targets(results: dict[str, Any]) -> list[tuple[bool, str]]:
    memory = results["memory"]
    peak = max(figures["peak_rss_mb"] for figures in memory["incidents"].values())
    return [
        (peak <= MAX_PEAK_RSS_MB, f"peak RSS at most {MAX_PEAK_RSS_MB:.0f} MB: {peak} MB"),
        (
            memory["growth"] <= MAX_MEMORY_GROWTH,
            f"flat memory, {MEMORY_SIZES[1]:,} vs {MEMORY_SIZES[0]:,} incidents at most "
            f"{MAX_MEMORY_GROWTH}x: "
            f"{memory['growth']}x",
        ),
    ]


def report_memory(results: dict[str, Any]) -> None:
    memory = results["memory"]
    print()
    for size, figures in memory["incidents"].items():
        print(
            f"incidents sync of {int(size):>9,}: peak RSS {figures['peak_rss_mb']:6.1f} MB, "
            f"{figures['wall_seconds']:7.1f} s wall, {figures['cpu_seconds']:7.1f} s CPU"
        )
    print(f"memory check: growth {memory['growth']}x, took {memory['took_seconds']:.0f} s")
    print()


LABEL_WIDTH = 36


def summary_rows(results: dict[str, Any]) -> list[tuple[str, dict[str, Any], float | None]]:
    """The runs of the figures table, in order, each with its tap/floor ratio where it has one:
    the terminal report and the README's table both list exactly these."""
    incidents, all_streams = results["incidents"], results["all_streams"]
    audit, latency = results["audit_backfill"], results["latency"]
    return [
        ("incidents: floor", incidents["floor"], None),
        ("incidents: tap", incidents["tap"], incidents["ratio"]),
        ("all streams: floor", all_streams["floor"], None),
        ("all streams: tap", all_streams["tap"], all_streams["ratio"]),
        (f"latency {latency['latency_ms']} ms: floor", latency["floor"], None),
        (f"latency {latency['latency_ms']} ms: tap", latency["tap"], latency["ratio"]),
        ("no-change incremental run", results["no_change"], None),
        (f"audit backfill, {audit['days_of_history']} days, {audit['latency_ms']} ms", audit, None),
    ]


def report(results: dict[str, Any]) -> list[tuple[bool, str]]:
    if "incidents" not in results:
        report_memory(results)
        checks = targets(results)
        for met, text in checks:
            print(f"  [{'PASS' if met else 'MISS'}] {text}")
        print()
        return checks
    params = results["parameters"]
    print()
    print(
        f"tap-thinkst-canary benchmark: {params['incidents']:,} incidents, page size "
        f"{params['page_size']}, seed {params['seed']}, median of {params['repeat']} "
        f"({results['environment']['commit']}, Python {results['environment']['python']}, "
        f"{results['environment']['cpus']} CPUs)"
    )
    print()
    header = (
        f"{'run':<{LABEL_WIDTH}}{'wall s':>8}{'CPU s':>8}{'records':>11}{'records/s':>11}"
        f"{'peak RSS MB':>13}{'tap/floor':>11}  requests"
    )
    print(header)
    print("-" * (len(header) + 40))

    def row(label: str, figures: dict[str, Any], tap_floor: float | None = None) -> None:
        requests = ", ".join(f"{stream} {n}" for stream, n in sorted(figures["requests"].items()))
        print(
            f"{label:<{LABEL_WIDTH}}{figures['wall_seconds']:>8.2f}{figures['cpu_seconds']:>8.2f}"
            f"{figures['records']:>11,}"
            f"{figures['records_per_second']:>11,}{figures['peak_rss_mb']:>13.1f}"
            f"{(f'{tap_floor:.2f}x' if tap_floor else ''):>11}  {requests or '-'}"
        )

    for label, figures, tap_floor in summary_rows(results):
        row(label, figures, tap_floor)
    audit = results["audit_backfill"]
    for size, figures in results.get("memory", {}).get("incidents", {}).items():
        row(f"incidents: tap {int(size):,}", figures)
    print()
    per_stream = results["all_streams"]["tap"].get("records_per_stream", {})
    print(
        "all streams, records per stream: "
        + ", ".join(f"{stream} {n:,}" for stream, n in sorted(per_stream.items()))
    )
    print(
        f"CPU time tap/floor: incidents {results['incidents']['cpu_ratio']}x, all streams "
        f"{results['all_streams']['cpu_ratio']}x; load average at start "
        f"{results['environment']['load_average_at_start'][0]}"
    )
    print(
        f"--about {results['about_seconds']:.2f} s, --discover {results['discover_seconds']:.2f} s"
        f" (best of 3); simulator startup {results['simulator_startup_seconds']:.1f} s"
    )
    recording, latency = results["recording"], results["latency"]
    print(
        f"recorded {recording['requests']} answers of the simulator ({recording['megabytes']} MB) "
        f"in {recording['took_seconds']:.0f} s; incidents and all streams replay them from memory"
    )
    print(
        f"latency run: {latency['incidents']:,} incidents, page size {latency['page_size']}, "
        f"each answer {latency['latency_ms']} ms late ({latency['latency_alone_seconds']} s of "
        f"the floor's wall time is latency alone)"
    )
    print(
        f"audit backfill: {audit['days_of_history']} days of history in "
        f"{audit['requests_total']} requests and {audit['wall_seconds']:.1f} s "
        f"(one request per day would wait {audit['one_request_per_day_would_take_seconds']} s "
        "on latency alone)"
    )
    if "memory" in results:
        memory = results["memory"]
        print(f"memory check: growth {memory['growth']}x, took {memory['took_seconds']:.0f} s")
    print()
    checks = targets(results)
    for met, text in checks:
        print(f"  [{'PASS' if met else 'MISS'}] {text}")
    print()
    return checks


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Benchmark tap-thinkst-canary against the console simulator and the floor."
    )
    parser.add_argument("--incidents", type=int, default=100_000, help="default 100,000")
    parser.add_argument("--seed", type=int, default=1, help="simulator seed (default 1)")
    parser.add_argument(
        "--page-size", type=int, default=None, help="the tap's page_size (default: its own)"
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=3,
        help="run the floor and the tap N times each, alternating, and keep the medians "
        "(default 3)",
    )
    parser.add_argument(
        "--latency-incidents",
        type=int,
        default=10_000,
        help=f"incidents of the {LATENCY_MS} ms latency run (default 10,000)",
    )
    parser.add_argument(
        "--memory-check",
        action="store_true",
        help="also sync 10,000 and 1,000,000 incidents and compare peak RSS (several minutes)",
    )
    parser.add_argument("--memory-only", action="store_true", help="run only the memory check")
    parser.add_argument(
        "--keep", action="store_true", help="keep the scratch files (configs, outputs, logs)"
    )
    parser.add_argument("--check", action="store_true", help="exit 1 if a target is missed")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        results = main_run(args)
    except BenchError as error:
        print(f"bench: {error}", file=sys.stderr)
        return 2
    if not args.keep:
        shutil.rmtree(results.pop("workdir"), ignore_errors=True)
    checks = report(results)
    results["targets"] = [{"met": met, "target": text} for met, text in checks]
    path = MEMORY_RESULTS if args.memory_only else RESULTS
    path.parent.mkdir(exist_ok=True)
    write_json(path, results)
    print(f"figures written to {path.relative_to(REPO)}")
    missed = [text for met, text in checks if not met]
    if args.check and missed:
        print(f"bench: {len(missed)} target(s) missed", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
