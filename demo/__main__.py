"""`make demo`: the real pipeline against an offline console, into an embedded DuckDB.

Starts two console simulators (a head office and a lab) on free loopback ports, runs
`meltano run tap-thinkst-canary target-duckdb dbt-duckdb:build` (the tap, then the dbt models
in `transform/` and their tests), stops the simulator, prints what landed and writes the
report page. Everything the demo keeps lives in `output/` (the DuckDB file, Meltano's state,
the logs, `report.html`).
Each run finds a console that has moved on: more incidents, and one incident acknowledged, so
the second run shows an incremental sync. Delete `output/` to start over.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import subprocess
import sys
import time
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import duckdb

from canary_simulator import Console, Simulator
from demo.queries import TABLES, load_queries
from report.data import read_duckdb
from report.render import render

ROOT = Path(__file__).resolve().parent.parent
# The tests point the demo at a directory of their own.
OUTPUT = Path(os.environ.get("DEMO_OUTPUT", ROOT / "output")).resolve()
DATABASE = OUTPUT / "warehouse.duckdb"
RUN_COUNTER = OUTPUT / "demo-runs"
# When the first run built the consoles: every later run rebuilds their seeded history as of
# then, so that only its own activity is new, whatever the time or the day.
HISTORY_AS_OF = OUTPUT / "demo-history-as-of"
REPORT = OUTPUT / "report.html"
MELTANO = ROOT / ".venv-meltano" / "bin" / "meltano"

# Two consoles, as a company with a head office and a lab would run: their ids overlap (each
# has a `flock:default`, incidents numbered from 1), their rows share the tables.
CONSOLES = (("hq", 2024, 300), ("lab", 2025, 60))  # name, seed, incidents on the first run
NEW_INCIDENTS_PER_RUN = 40  # at the head office
AUDIT_ENTRIES_PER_RUN = 3


def main() -> int:
    OUTPUT.mkdir(exist_ok=True)
    run = next_run_number()
    history_as_of = history_moment(run)
    consoles = {
        name: Console(seed=seed, incidents=count, now=history_as_of)
        for name, seed, count in CONSOLES
    }
    for console in consoles.values():
        # What happens from here on (this run's incidents, acknowledgement, audit entries)
        # happens now.
        console.set_now(datetime.now(timezone.utc))
    hq = consoles["hq"]
    acknowledged = replay_activity(hq, run)

    described = " and ".join(f"{name} with {c.incident_count()}" for name, c in consoles.items())
    heading(f"Run {run}: two consoles, {described} incidents")
    if acknowledged:
        print(
            f"Since the last run, {NEW_INCIDENTS_PER_RUN} incidents arrived at hq, one was "
            f"acknowledged ({acknowledged}) and {AUDIT_ENTRIES_PER_RUN} audit trail entries were "
            "written there today."
        )
    before = row_counts()
    tokens = {name: secrets.token_urlsafe(24) for name in consoles}
    with contextlib.ExitStack() as running:
        simulators = {
            name: running.enter_context(
                Simulator(console, auth_token=tokens[name], host="127.0.0.1", port=0)
            )
            for name, console in consoles.items()
        }
        for name, simulator in simulators.items():
            print(f"Console simulator {name} listening on {simulator.base_url}")
        setting = [
            {"name": name, "base_url": simulator.base_url, "auth_token": tokens[name]}
            for name, simulator in simulators.items()
        ]
        started = time.monotonic()
        emitted = run_meltano(setting, run)
        elapsed = time.monotonic() - started
        requests = sum((simulator.request_counts() for simulator in simulators.values()), Counter())
        since = {
            name: [
                entry.params["incidents_since"]
                for entry in simulator.requests
                if entry.path.endswith("/incidents/all") and "incidents_since" in entry.params
            ]
            for name, simulator in simulators.items()
        }
    print(f"Console simulators stopped. The pipeline took {elapsed:.1f} s.")

    after = row_counts()
    heading("What this run synced")
    for name, asked in since.items():
        if asked:
            fresh = str(asked[0]) in ("", "0")
            print(f"The tap asked {name} for incidents with updated_id > {asked[0]}", end="")
            print(" (everything)." if fresh else " (its bookmark).")
    print(f"API requests: {sum(requests.values())} ({describe_requests(requests)})")
    print_table(
        ["table", "records synced", "rows before", "rows now"],
        [
            [table, emitted.get(table, "?"), before.get(table, 0), after.get(table, 0)]
            for table in TABLES
        ],
    )

    with duckdb.connect(str(DATABASE), read_only=True) as connection:
        for query in load_queries():
            heading(query.title)
            cursor = connection.execute(query.sql)
            print_table([column[0] for column in cursor.description or ()], cursor.fetchall())
    heading("Report")
    report = read_duckdb(DATABASE)
    REPORT.write_text(render(report), encoding="utf-8")
    print(
        f"The dbt models are in the schema canary_analytics; the report page, "
        f"{shown(REPORT)}, charts {report.incidents} incidents from "
        f"{report.source_count} attacker sources."
    )
    print()
    print(f"The data is in {shown(DATABASE)}.")
    print("Run `make demo` again for an incremental run; delete output/ to start over.")
    return 0


def next_run_number() -> int:
    """Counts demo runs; a missing DuckDB file means a fresh start, so Meltano's state goes too."""
    previous = int(RUN_COUNTER.read_text()) if RUN_COUNTER.exists() and DATABASE.exists() else 0
    if previous == 0:
        for stale in (DATABASE, OUTPUT / "meltano.db"):
            stale.unlink(missing_ok=True)
    RUN_COUNTER.write_text(str(previous + 1))
    return previous + 1


def history_moment(run: int) -> datetime:
    """The moment the consoles' seeded history ends: the first run's time, kept beside the
    warehouse. A console rebuilt from its seed at another time would have another day's worth
    of history (its audit entries of the day are those already past), as if its past changed."""
    if run == 1 or not HISTORY_AS_OF.exists():
        HISTORY_AS_OF.write_text(datetime.now(timezone.utc).isoformat())
    return datetime.fromisoformat(HISTORY_AS_OF.read_text())


def replay_activity(console: Console, run: int) -> str | None:
    """Brings the console to where it stands at this run; returns the incident acknowledged.

    The console is rebuilt from its seed every run, so it replays the activity of every run
    before: each run adds the same number of incidents and audit entries on top.
    """
    if run == 1:
        return None
    console.add_incidents(NEW_INCIDENTS_PER_RUN * (run - 1))
    console.add_audit_entries(AUDIT_ENTRIES_PER_RUN * (run - 1))
    for incident in console.iter_incidents():
        description = incident.get("description") or {}
        if str(description.get("acknowledged", "")).lower() == "false":
            console.acknowledge(str(incident["id"]))
            return str(incident["id"])
    return None


def run_meltano(consoles: list[dict[str, str]], run: int) -> dict[str, int]:
    """Runs the pipeline; returns the records the tap emitted per stream, from its metrics."""
    environment = {
        **os.environ,
        "MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false",
        # The demo's state lives beside its DuckDB file, so deleting output/ starts over.
        "MELTANO_DATABASE_URI": f"sqlite:///{OUTPUT / 'meltano.db'}",
        # The `consoles` setting as Meltano takes it from the environment: JSON text.
        "TAP_THINKST_CANARY_CONSOLES": json.dumps(consoles),
        "TARGET_DUCKDB_FILEPATH": str(DATABASE),
        "DBT_DUCKDB_PATH": str(DATABASE),
    }
    log = OUTPUT / f"demo-run-{run}.log"
    blocks = ["tap-thinkst-canary", "target-duckdb", "dbt-duckdb:build"]
    command = [str(MELTANO), "--log-format=json", "run", *blocks]
    print(f"$ meltano run {' '.join(blocks)}   (log: {shown(log)})")
    with log.open("w", encoding="utf-8") as log_file:
        result = subprocess.run(
            command,
            cwd=ROOT,
            env=environment,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            check=False,
        )
    lines = log.read_text(encoding="utf-8", errors="replace").splitlines()
    if result.returncode != 0:
        print("\n".join(lines[-20:]), file=sys.stderr)
        raise SystemExit(f"meltano run failed (exit {result.returncode}); the full log is in {log}")
    return records_per_stream(lines)


def records_per_stream(log_lines: Iterable[str]) -> dict[str, int]:
    """Sums the SDK's `record_count` metrics the tap logged, per stream."""
    counts: Counter[str] = Counter()
    for line in log_lines:
        try:
            event = str(json.loads(line).get("event", ""))
        except (ValueError, AttributeError):
            continue
        _, marker, payload = event.partition("METRIC: ")
        if not marker:
            continue
        try:
            metric: dict[str, Any] = json.loads(payload)
        except ValueError:
            continue
        if metric.get("metric") == "record_count":
            counts[str(metric.get("tags", {}).get("stream"))] += int(metric.get("value", 0))
    return dict(counts)


def row_counts() -> dict[str, int]:
    if not DATABASE.exists():
        return {}
    counts: dict[str, int] = {}
    with duckdb.connect(str(DATABASE), read_only=True) as connection:
        for table in TABLES:
            try:
                row = connection.execute(f"SELECT count(*) FROM canary.{table}").fetchone()
            except duckdb.CatalogException:
                continue
            counts[table] = int(row[0]) if row else 0
    return counts


def shown(path: Path) -> str:
    """A path as short as it can be: relative to the repository when it is inside it."""
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def describe_requests(counts: Counter[str]) -> str:
    return ", ".join(f"{path} {count}" for path, count in sorted(counts.items()))


def heading(title: str) -> None:
    print(f"\n== {title} ==")


def print_table(headers: Sequence[str], rows: Sequence[Sequence[Any]], width: int = 40) -> None:
    cells = [[shorten(value, width) for value in row] for row in rows]
    widths = [max([columns(h), *(columns(row[i]) for row in cells)]) for i, h in enumerate(headers)]
    print("  ".join(pad(h, w) for h, w in zip(headers, widths, strict=True)).rstrip())
    print("  ".join("-" * w for w in widths))
    for row in cells:
        print("  ".join(pad(value, w) for value, w in zip(row, widths, strict=True)).rstrip())
    if not rows:
        print("(no rows)")


def columns(text: str) -> int:
    """The width of `text` on a terminal: CJK characters and emoji take two columns."""
    return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)


def pad(text: str, width: int) -> str:
    return text + " " * (width - columns(text))


def shorten(value: Any, width: int) -> str:
    text = "" if value is None else str(value)
    return text if len(text) <= width else text[: width - 1] + "…"


if __name__ == "__main__":
    sys.exit(main())
