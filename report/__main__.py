"""`python -m report --duckdb PATH` or `--postgres URL`: writes the report page.

Reads the tables the dbt project in `transform/` builds (schema `canary_analytics` unless
`--schema` says otherwise) and writes one HTML file that needs no network.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from report.data import DEFAULT_SCHEMA, ReportData, ReportError, read_duckdb, read_postgres
from report.render import render

DEFAULT_OUTPUT = Path("output") / "report.html"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m report", description="Write the Canary report page from the dbt models."
    )
    warehouse = parser.add_mutually_exclusive_group(required=True)
    warehouse.add_argument("--duckdb", type=Path, metavar="PATH", help="a DuckDB database file")
    warehouse.add_argument(
        "--postgres", metavar="URL", help="a PostgreSQL URL, e.g. postgresql://user@host/db"
    )
    parser.add_argument(
        "--schema",
        default=DEFAULT_SCHEMA,
        help=f"schema the dbt models are built in (default {DEFAULT_SCHEMA})",
    )
    parser.add_argument(
        "--output",
        type=Path,
        default=DEFAULT_OUTPUT,
        help=f"the HTML file to write (default {DEFAULT_OUTPUT})",
    )
    arguments = parser.parse_args(argv)
    try:
        data: ReportData = (
            read_duckdb(arguments.duckdb, arguments.schema)
            if arguments.duckdb
            else read_postgres(arguments.postgres, arguments.schema)
        )
    except ReportError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    arguments.output.parent.mkdir(parents=True, exist_ok=True)
    arguments.output.write_text(render(data), encoding="utf-8")
    print(
        f"Wrote {arguments.output}: {data.incidents} incidents, "
        f"{data.source_count} attacker sources, {len(data.birds)} birds."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
