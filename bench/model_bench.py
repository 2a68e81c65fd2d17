"""How fast the data model converts records, next to a bare JSON loop over the same data.

    .venv/bin/python bench/model_bench.py                 # 20,000 simulated incidents
    .venv/bin/python bench/model_bench.py --incidents 100000 --repeat 3

The baseline is what any tap must do anyway: parse the response bodies with orjson
and serialise every record again. Each line adds one model function to that loop
and prints records per CPU second and the CPU time relative to the baseline (best
of ``--repeat`` runs; CPU time, because a busy machine distorts wall time most).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from canary_simulator import Console, generators
from tap_thinkst_canary.model import (
    audit_record,
    bird_record,
    incident_event_records,
    incident_event_rows,
    incident_record,
    token_record,
)


def pages(objects: list[dict[str, Any]], size: int = 1000) -> list[bytes]:
    return [orjson.dumps(objects[i : i + size]) for i in range(0, len(objects), size)]


def best(repeat: int, run: Callable[[], int]) -> tuple[float, float, int]:
    """Best wall and CPU seconds over ``repeat`` runs, and the record count."""
    walls, cpus = [], []
    count = 0
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        count = run()
        cpus.append(time.process_time() - cpu)
        walls.append(time.perf_counter() - wall)
    return min(walls), min(cpus), count


def loop(bodies: list[bytes], convert: Callable[[Any], Iterator[Any]]) -> Callable[[], int]:
    def run() -> int:
        count = 0
        dumps = orjson.dumps
        for body in bodies:
            for raw in orjson.loads(body):
                for record in convert(raw):
                    dumps(record)
                    count += 1
        return count

    return run


def one_each(convert: Callable[[Any], Any]) -> Callable[[Any], Iterator[Any]]:
    """A loop's step that converts each raw object into one record."""
    return lambda raw: iter((convert(raw),))


def report(label: str, measured: tuple[float, float, int], baseline: float | None) -> float:
    """Print one line; return its CPU seconds (the baseline of the lines after it)."""
    wall, cpu, count = measured
    relative = f"{cpu / baseline:5.2f}x" if baseline else "  1.00x"
    print(
        f"{label:<50} {count:>9,} records  cpu {cpu:7.3f} s {count / cpu:>10,.0f}/s {relative}"
        f"  (wall {wall:7.3f} s)"
    )
    return cpu


def main() -> None:
    parser = argparse.ArgumentParser(description="Data model throughput")
    parser.add_argument("--incidents", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    console = Console(seed=args.seed, incidents=args.incidents, tokens=2_000, birds=500)
    incidents = list(console.iter_incidents())
    events = sum(len(raw["description"].get("events") or []) for raw in incidents)
    print(f"{len(incidents):,} incidents with {events:,} events, best of {args.repeat} runs\n")

    incident_pages = pages(incidents)
    base = report(
        "incidents: orjson loads + dumps (baseline)",
        best(args.repeat, loop(incident_pages, lambda raw: iter((raw,)))),
        None,
    )
    report(
        "incidents: + incident_record",
        best(args.repeat, loop(incident_pages, lambda raw: iter((incident_record(raw),)))),
        base,
    )
    base = report(
        "events: orjson loads + dumps raw events (baseline)",
        best(
            args.repeat,
            loop(incident_pages, lambda raw: iter(raw["description"].get("events") or ())),
        ),
        None,
    )
    report(
        "events: + incident_event_records",
        best(args.repeat, loop(incident_pages, incident_event_records)),
        base,
    )
    report(
        "events: + incident_record + incident_event_rows",
        best(
            args.repeat,
            loop(incident_pages, lambda raw: incident_event_rows(incident_record(raw))),
        ),
        base,
    )

    utc = ZoneInfo("UTC")
    for label, objects, convert in (
        ("tokens", console.tokens(), token_record),
        ("birds", [generators.render_bird(b, utc) for b in console.birds()], bird_record),
        (
            "audit",
            [generators.render_audit_entry(e, utc) for e in console.audit_entries()],
            audit_record,
        ),
    ):
        bodies = pages(objects)
        base = report(
            f"{label}: orjson loads + dumps (baseline)",
            best(args.repeat, loop(bodies, lambda raw: iter((raw,)))),
            None,
        )
        report(
            f"{label}: + {convert.__name__}",
            best(args.repeat, loop(bodies, one_each(convert))),
            base,
        )


if __name__ == "__main__":
    main()
