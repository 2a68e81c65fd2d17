"""`meltano run tap-thinkst-canary target-postgres` into a real PostgreSQL server, twice."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from canary_simulator import Console, Simulator
from demo.queries import load_queries
from e2e.conftest import AUTH_TOKEN
from e2e.pgcluster import PostgresCluster
from e2e.pipeline import (
    KEYS,
    ROOT,
    STREAMS,
    expected_counts,
    incidents_since,
    meltano_env,
    move_console_on,
    require_meltano,
    run,
)
from tap_thinkst_canary import model

pytestmark = pytest.mark.e2e

SCHEMAS: dict[str, dict[str, Any]] = {
    "incidents": model.INCIDENT_SCHEMA,
    "incident_events": model.INCIDENT_EVENT_SCHEMA,
    "audit_trail": model.AUDIT_ENTRY_SCHEMA,
    "birds": model.BIRD_SCHEMA,
    "tokens": model.TOKEN_SCHEMA,
    "flocks": model.FLOCK_SCHEMA,
    "settings": model.SETTING_SCHEMA,
    "licenses": model.LICENSE_SCHEMA,
}
TARGET_SCHEMA = "canary"


def postgres_type(property_schema: dict[str, Any]) -> set[str]:
    """The column types target-postgres may create for a JSON-schema property."""
    declared = property_schema.get("type", [])
    types = {declared} if isinstance(declared, str) else set(declared)
    types.discard("null")
    if property_schema.get("format") == "date-time":
        return {"timestamp without time zone", "timestamp with time zone"}
    if types == {"integer"}:
        return {"bigint"}
    if types == {"number"}:
        return {"numeric"}
    if types == {"boolean"}:
        return {"boolean"}
    if types == {"object"}:
        return {"jsonb"}
    if types == {"array"}:
        return {"jsonb", "ARRAY"}
    if types == {"string"}:
        return {"text", "character varying"}
    return set()  # a union of types: any column type is acceptable


def row_count(postgres: PostgresCluster, database: str, table: str) -> int:
    sql = f"SELECT count(*) FROM {TARGET_SCHEMA}.{table}"
    return int(postgres.psql(sql, database)[0][0])


def duplicate_keys(postgres: PostgresCluster, database: str, table: str) -> list[list[str]]:
    keys = ", ".join(KEYS[table])
    sql = (
        f"SELECT {keys}, count(*) FROM {TARGET_SCHEMA}.{table} "
        f"GROUP BY {keys} HAVING count(*) > 1 LIMIT 5"
    )
    return postgres.psql(sql, database)


def test_meltano_run_into_postgres_is_typed_complete_and_upserts(
    postgres: PostgresCluster, e2e_simulator: Simulator, tmp_path: Path
) -> None:
    meltano = require_meltano()
    # A second console whose ids overlap the first's (`flock:default`, incidents from 1): the
    # two share every table, apart by their `console` column.
    other = Console(seed=32, incidents=30, birds=3, tokens=6, audit_days=5, flocks=2)
    other_token = AUTH_TOKEN + "-lab"
    database = "canary_e2e"
    postgres.create_database(database)
    with Simulator(other, auth_token=other_token, host="127.0.0.1", port=0) as lab:
        consoles = [
            {"name": "hq", "base_url": e2e_simulator.base_url, "auth_token": AUTH_TOKEN},
            {"name": "lab", "base_url": lab.base_url, "auth_token": other_token},
        ]
        _load_and_check(meltano, postgres, database, e2e_simulator, other, consoles, tmp_path)


def _load_and_check(
    meltano: Path,
    postgres: PostgresCluster,
    database: str,
    e2e_simulator: Simulator,
    other: Console,
    consoles: list[dict[str, str]],
    tmp_path: Path,
) -> None:
    console = e2e_simulator.console
    assert console.flock_ids() & other.flock_ids()
    env = meltano_env(
        tmp_path,
        TAP_THINKST_CANARY_CONSOLES=json.dumps(consoles),
        TARGET_POSTGRES_HOST=postgres.host,
        TARGET_POSTGRES_PORT=str(postgres.port),
        TARGET_POSTGRES_USER=postgres.user,
        TARGET_POSTGRES_PASSWORD="unused-trust-auth",
        TARGET_POSTGRES_DATABASE=database,
        TARGET_POSTGRES_DEFAULT_TARGET_SCHEMA=TARGET_SCHEMA,
    )
    pipeline: list[str | Path] = [meltano, "run", "tap-thinkst-canary", "target-postgres"]

    first = run(pipeline, cwd=ROOT, env=env)

    columns: dict[str, dict[str, str]] = {}
    for table, column, data_type in postgres.psql(
        "SELECT table_name, column_name, data_type FROM information_schema.columns "
        f"WHERE table_schema = '{TARGET_SCHEMA}'",
        database,
    ):
        columns.setdefault(table, {})[column] = data_type
    assert set(STREAMS) <= set(columns)
    for table, schema in SCHEMAS.items():
        for name, property_schema in schema["properties"].items():
            assert name in columns[table], f"{table}.{name} is missing"
            allowed = postgres_type(property_schema)
            if allowed:
                assert columns[table][name] in allowed, (table, name, columns[table][name])

    expected = both(expected_counts(console), expected_counts(other))
    assert {table: row_count(postgres, database, table) for table in STREAMS} == expected
    per_console = postgres.psql(
        f"SELECT console, count(*) FROM {TARGET_SCHEMA}.flocks GROUP BY console ORDER BY 1",
        database,
    )
    assert per_console == [
        ["hq", str(len(console.flock_ids()))],
        ["lab", str(len(other.flock_ids()))],
    ]

    # The console moves on; the second run asks only for what changed since its bookmark.
    bookmark = console.max_updated_id()
    acknowledged_id = move_console_on(console)
    e2e_simulator.clear_request_log()

    second = run(pipeline, cwd=ROOT, env=env)

    assert incidents_since(e2e_simulator.requests)[:1] == [str(bookmark)]
    expected = both(expected_counts(console), expected_counts(other))
    assert {table: row_count(postgres, database, table) for table in STREAMS} == expected
    for table in STREAMS:
        assert duplicate_keys(postgres, database, table) == [], table
    acknowledged = postgres.psql(
        f"SELECT acknowledged FROM {TARGET_SCHEMA}.incidents "
        f"WHERE console = 'hq' AND id = '{acknowledged_id}'",
        database,
    )
    assert acknowledged == [["t"]]

    # The example questions of the README and the demo run on PostgreSQL as they do on DuckDB.
    for query in load_queries():
        sql = query.sql
        assert postgres.psql(sql, database), f"{query.name} returned no rows"

    for output in (first, second):
        assert AUTH_TOKEN not in output.stdout + output.stderr


def both(first: dict[str, int], second: dict[str, int]) -> dict[str, int]:
    return {table: first[table] + second[table] for table in first}
