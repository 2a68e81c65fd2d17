"""Write the figures of the last benchmark run into the README's Performance section.

    .venv/bin/python bench/run.py && .venv/bin/python bench/run.py --memory-only
    .venv/bin/python bench/readme_figures.py          # rewrites README.md between the markers
    .venv/bin/python bench/readme_figures.py --print  # prints the block instead

The block between `<!-- bench:start -->` and `<!-- bench:end -->` is generated from
bench/results/latest.json (and memory.json when present), so the README never shows a
figure that no run produced.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

import orjson
from harness import REPO
from run import memory_targets, summary_rows, targets

RESULTS = REPO / "bench" / "results"
README = REPO / "README.md"
START, END = "<!-- bench:start -->", "<!-- bench:end -->"


def load(name: str) -> dict[str, Any] | None:
    path = RESULTS / name
    return orjson.loads(path.read_bytes()) if path.exists() else None


def requests_text(requests: dict[str, int]) -> str:
    return ", ".join(f"{stream} {count}" for stream, count in sorted(requests.items()))


def duration(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.0f} minutes"


def block(results: dict[str, Any], memory: dict[str, Any] | None) -> str:
    env, params = results["environment"], results["parameters"]
    lines = [
        f"Measured on {env['date'][:10]} at commit `{env['commit']}`: Python {env['python']}, "
        f"{env['cpus']} CPUs, load average {env['load_average_at_start'][0]} at start; "
        f"{params['incidents']:,} simulated incidents, page size {params['page_size']}, "
        f"median of {params['repeat']} alternating runs of the floor and the tap.",
        "",
        "| run | wall s | CPU s | records | records/s | peak RSS MB | tap/floor (wall) "
        "| requests |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]

    def row(label: str, figures: dict[str, Any], ratio: float | None = None) -> None:
        lines.append(
            f"| {label} | {figures['wall_seconds']:.1f} | {figures['cpu_seconds']:.1f} "
            f"| {figures['records']:,} | {figures['records_per_second']:,} "
            f"| {figures['peak_rss_mb']:.0f} | {f'{ratio:.2f}x' if ratio else ''} "
            f"| {requests_text(figures['requests'])} |"
        )

    for label, figures, tap_floor in summary_rows(results):
        row(label, figures, tap_floor)
    audit, recording, latency = (
        results["audit_backfill"],
        results["recording"],
        results["latency"],
    )
    lines += [
        "",
        f"- Incidents and all streams replay {recording['requests']} recorded answers of the "
        f"simulator ({recording['megabytes']} MB) from memory; the latency run replays "
        f"{latency['incidents']:,} incidents at page size {latency['page_size']}, each answer "
        f"{latency['latency_ms']} ms late ({latency['latency_alone_seconds']} s of latency).",
        f"- CPU time, tap/floor: incidents {results['incidents']['cpu_ratio']}x, all streams "
        f"{results['all_streams']['cpu_ratio']}x.",
        f"- `--about` {results['about_seconds']:.2f} s, `--discover` "
        f"{results['discover_seconds']:.2f} s (best of 3).",
        f"- Audit trail: {audit['days_of_history']} days of history in "
        f"{audit['requests_total']} requests, {audit['days_with_entries']} days with entries, "
        f"each emitted whole and sorted ({audit['days_unsorted']} unsorted) and followed by its "
        f"own checkpoint ({audit['days_checkpointed']} checkpoints); one request per day would "
        f"spend {audit['one_request_per_day_would_take_seconds']} s on latency alone.",
    ]
    if memory is not None:
        figures = memory["memory"]["incidents"]
        sizes = sorted(figures, key=int)
        lines.append(
            "- Memory, `incidents` sync: "
            + ", ".join(f"{int(n):,} incidents {figures[n]['peak_rss_mb']:.0f} MB" for n in sizes)
            + f" peak RSS, {memory['memory']['growth']}x (commit "
            f"`{memory['environment']['commit']}`; the check took "
            f"{duration(memory['memory']['took_seconds'])})."
        )
    lines += ["", "Targets:", ""]
    checks = targets(results) + (memory_targets(memory) if memory is not None else [])
    for met, target in checks:
        lines.append(f"- {'met' if met else '**missed**'}: {target}")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--print", action="store_true", help="print the block, touch nothing")
    args = parser.parse_args()
    results = load("latest.json")
    if results is None or "incidents" not in results:
        print("readme_figures: run `.venv/bin/python bench/run.py` first", file=sys.stderr)
        return 2
    text = block(results, load("memory.json"))
    if args.print:
        print(text)
        return 0
    readme = README.read_text()
    if START not in readme or END not in readme:
        print(f"readme_figures: README.md has no {START} ... {END} block", file=sys.stderr)
        return 2
    head, rest = readme.split(START, 1)
    _, tail = rest.split(END, 1)
    README.write_text(f"{head}{START}\n{text}\n{END}{tail}")
    print("README.md: Performance figures updated")
    return 0


if __name__ == "__main__":
    sys.exit(main())
