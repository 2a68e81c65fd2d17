"""`meltano run tap-thinkst-canary target-postgres dbt-postgres:build` into a real PostgreSQL:
the same models and tests as on DuckDB, the same figures, and the report from PostgreSQL."""

from __future__ import annotations

import sys
from collections import Counter
from datetime import date
from pathlib import Path

import pytest

from canary_simulator import Simulator
from e2e.analytics import (
    ANALYTICS_SCHEMA,
    admins,
    bird_services,
    birds_behind_on_firmware,
    incidents_per_day,
    incidents_per_source,
    seconds_to_acknowledge,
    without_second_factor,
)
from e2e.conftest import AUTH_TOKEN
from e2e.pgcluster import PostgresCluster
from e2e.pipeline import ROOT, meltano_env, require_meltano, run

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def test_dbt_build_on_postgres_matches_the_simulator_and_feeds_the_report(
    postgres: PostgresCluster, e2e_simulator: Simulator, tmp_path: Path
) -> None:
    database = "canary_dbt"
    postgres.create_database(database)
    connection = {
        "HOST": postgres.host,
        "PORT": str(postgres.port),
        "USER": postgres.user,
        "PASSWORD": "unused-trust-auth",
        "DATABASE": database,
    }
    env = meltano_env(
        tmp_path,
        TAP_THINKST_CANARY_BASE_URL=e2e_simulator.base_url,
        TAP_THINKST_CANARY_AUTH_TOKEN=AUTH_TOKEN,
        **{f"TARGET_POSTGRES_{key}": value for key, value in connection.items()},
        **{f"DBT_POSTGRES_{key}": value for key, value in connection.items()},
        DBT_TARGET_PATH=str(tmp_path / "dbt-target"),
        DBT_LOG_PATH=str(tmp_path / "dbt-logs"),
    )
    pipeline: list[str | Path] = [
        require_meltano(),
        "run",
        "tap-thinkst-canary",
        "target-postgres",
        "dbt-postgres:build",
    ]

    output = run(pipeline, cwd=ROOT, env=env)

    assert "Completed successfully" in output.stdout + output.stderr
    assert AUTH_TOKEN not in output.stdout + output.stderr
    console = e2e_simulator.console

    def rows(sql: str) -> list[list[str]]:
        return postgres.psql(sql, database)

    daily = {
        (date.fromisoformat(day), flock, category or None): int(incidents)
        for day, flock, category, incidents in rows(
            "SELECT incident_date, flock_id, logtype_category, incidents "
            f"FROM {ANALYTICS_SCHEMA}.daily_incidents"
        )
    }
    assert daily == dict(incidents_per_day(console))

    sources = Counter(
        {
            source: int(incidents)
            for source, incidents in rows(
                f"SELECT src_host, incidents FROM {ANALYTICS_SCHEMA}.attacker_sources"
            )
        }
    )
    assert sources == incidents_per_source(console)

    acknowledged = {
        incident_id: int(seconds)
        for incident_id, seconds in rows(
            "SELECT incident_id, seconds_to_acknowledge FROM "
            f"{ANALYTICS_SCHEMA}.fct_incidents WHERE acknowledged"
        )
    }
    assert acknowledged == seconds_to_acknowledge(console)

    def users(condition: str) -> set[str]:
        return {
            email
            for [email] in rows(
                f"SELECT principal_name FROM {ANALYTICS_SCHEMA}.access_review "
                f"WHERE principal_type = 'user' AND {condition}"
            )
        }

    assert users("without_second_factor") == without_second_factor(console)
    assert users("is_admin") == admins(console)

    behind = birds_behind_on_firmware(console)
    assert 0 < len(behind) < len(console.bird_ids())
    assert {
        bird_id
        for [bird_id] in rows(
            f"SELECT bird_id FROM {ANALYTICS_SCHEMA}.bird_health WHERE firmware_behind"
        )
    } == behind
    services = dict(
        rows(
            f"SELECT bird_id, services FROM {ANALYTICS_SCHEMA}.bird_health "
            "WHERE services IS NOT NULL"
        )
    )
    assert services == bird_services(console)

    # target-postgres stores a missing object as JSON null; staging reads it as SQL NULL.
    [[json_nulls]] = rows("SELECT count(*) FROM canary.incidents WHERE extra = 'null'::jsonb")
    assert int(json_nulls) > 0
    assert rows(f"SELECT count(*) FROM {ANALYTICS_SCHEMA}.stg_incidents WHERE extra IS NULL") == [
        [json_nulls]
    ]

    # target-postgres adds _sdc_deleted_at already: a row marked deleted leaves the models.
    [[incident_id]] = rows("SELECT id FROM canary.incidents ORDER BY id LIMIT 1")
    rows(f"UPDATE canary.incidents SET _sdc_deleted_at = now() WHERE id = '{incident_id}'")
    run([require_meltano(), "invoke", "dbt-postgres:build"], cwd=ROOT, env=env)
    for model in ("fct_incidents", "fct_incident_events", "ocsf_detection_finding"):
        assert rows(
            f"SELECT count(*) FROM {ANALYTICS_SCHEMA}.{model} WHERE incident_id = '{incident_id}'"
        ) == [["0"]], model

    report = tmp_path / "report.html"
    url = f"postgresql://{postgres.user}@{postgres.host}:{postgres.port}/{database}"
    written = run(
        [sys.executable, "-m", "report", "--postgres", url, "--output", report], cwd=ROOT, env=env
    )
    incidents = console.incident_count() - 1
    assert f"{incidents} incidents" in written.stdout
    page = report.read_text(encoding="utf-8")
    assert f'<div class="value">{incidents}</div><div class="label">Incidents</div>' in page
    assert page.count('data-rendered="pending"') == 5
