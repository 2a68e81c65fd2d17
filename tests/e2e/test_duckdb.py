"""`meltano run tap-thinkst-canary target-duckdb`, the demo's pipeline, twice."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from canary_simulator import Simulator
from demo.queries import load_queries
from e2e.conftest import AUTH_TOKEN
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

pytestmark = pytest.mark.e2e


def row_counts(database: Path) -> dict[str, int]:
    with duckdb.connect(str(database), read_only=True) as connection:
        return {
            table: int(connection.execute(f"SELECT count(*) FROM canary.{table}").fetchone()[0])  # type: ignore[index]
            for table in STREAMS
        }


def test_meltano_run_into_duckdb_lands_every_row_and_upserts(
    e2e_simulator: Simulator, tmp_path: Path
) -> None:
    meltano = require_meltano()
    console = e2e_simulator.console
    database = tmp_path / "warehouse.duckdb"
    env = meltano_env(
        tmp_path,
        TAP_THINKST_CANARY_BASE_URL=e2e_simulator.base_url,
        TAP_THINKST_CANARY_AUTH_TOKEN=AUTH_TOKEN,
        TARGET_DUCKDB_FILEPATH=str(database),
    )
    pipeline: list[str | Path] = [meltano, "run", "tap-thinkst-canary", "target-duckdb"]

    run(pipeline, cwd=ROOT, env=env)
    assert row_counts(database) == expected_counts(console)

    bookmark = console.max_updated_id()
    acknowledged_id = move_console_on(console)
    e2e_simulator.clear_request_log()
    run(pipeline, cwd=ROOT, env=env)

    assert incidents_since(e2e_simulator.requests)[:1] == [str(bookmark)]
    # Full-table streams upsert too: the new bird is added, the old ones are not duplicated.
    assert row_counts(database) == expected_counts(console)
    with duckdb.connect(str(database), read_only=True) as connection:
        for table in STREAMS:
            keys = ", ".join(KEYS[table])
            duplicates = connection.execute(
                f"SELECT {keys} FROM canary.{table} GROUP BY {keys} HAVING count(*) > 1"
            ).fetchall()
            assert duplicates == [], table
        acknowledged = connection.execute(
            "SELECT acknowledged FROM canary.incidents WHERE id = ?", [acknowledged_id]
        ).fetchall()
        assert acknowledged == [(True,)]
        for query in load_queries():
            assert connection.execute(query.sql).fetchall(), f"{query.name} returned no rows"
