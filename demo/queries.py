"""The example questions of `queries.sql`, shared by `make demo` and the PostgreSQL end-to-end test.

Each query in the file starts with a `-- name:` line and a `-- title:` line and ends with `;`.
The SQL is written once for both DuckDB and PostgreSQL, against the tables in the `canary` schema.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from tap_thinkst_canary.streams import STREAM_NAMES

QUERIES_FILE = Path(__file__).with_name("queries.sql")

# Every stream's table, in the order the tap declares them.
TABLES = STREAM_NAMES


@dataclass(frozen=True)
class Query:
    name: str
    title: str
    sql: str


def load_queries(path: Path = QUERIES_FILE) -> list[Query]:
    queries: list[Query] = []
    name = title = ""
    body: list[str] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("-- name:"):
            name, title, body = line.removeprefix("-- name:").strip(), "", []
        elif line.startswith("-- title:"):
            title = line.removeprefix("-- title:").strip()
        elif name and not line.startswith("--"):
            body.append(line)
            if line.rstrip().endswith(";"):
                sql = "\n".join(body).strip().removesuffix(";").strip()
                queries.append(Query(name=name, title=title or name, sql=sql))
                name = ""
    return queries
