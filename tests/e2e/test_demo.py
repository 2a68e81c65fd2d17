"""`make demo`, twice: a populated DuckDB file, the summary, then an incremental second run."""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import duckdb
import pytest

from demo.queries import TABLES, load_queries
from e2e.pipeline import ROOT, require_meltano, run

pytestmark = pytest.mark.e2e


def synced(output: str) -> dict[str, tuple[int, int, int]]:
    """The "What this run synced" table: table -> (records synced, rows before, rows now)."""
    rows = {}
    for table in TABLES:
        match = re.search(rf"^{table}\s+(\d+)\s+(\d+)\s+(\d+)\s*$", output, re.MULTILINE)
        assert match, f"no summary line for {table} in:\n{output}"
        rows[table] = (int(match[1]), int(match[2]), int(match[3]))
    return rows


def test_demo_twice_populates_duckdb_and_the_second_run_is_incremental(tmp_path: Path) -> None:
    require_meltano()
    env = {**os.environ, "DEMO_OUTPUT": str(tmp_path)}
    demo = [sys.executable, "-m", "demo"]

    first = run(demo, cwd=ROOT, env=env).stdout
    assert "Run 1: two consoles, hq with 300 and lab with 60 incidents" in first
    assert "(its bookmark)" not in first
    first_rows = synced(first)
    for table, (records, before, now) in first_rows.items():
        assert before == 0, table
        assert records == now > 0, table
    for query in load_queries():
        assert f"== {query.title} ==" in first

    second = run(demo, cwd=ROOT, env=env).stdout
    assert "Run 2: two consoles, hq with 340 and lab with 60 incidents" in second
    # Each console resumes from its own bookmark.
    assert "The tap asked hq for incidents with updated_id > 300 (its bookmark)." in second
    assert "The tap asked lab for incidents with updated_id > 60 (its bookmark)." in second
    rows = synced(second)
    # 40 new incidents and one acknowledged one: only those, not all 400, come again.
    assert rows["incidents"] == (41, 360, 400)
    assert rows["audit_trail"][0] == 3
    assert rows["audit_trail"][2] == rows["audit_trail"][1] + 3

    with duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True) as connection:
        count = connection.execute("SELECT count(*) FROM canary.incidents").fetchone()
        assert count == (400,)
