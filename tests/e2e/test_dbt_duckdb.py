"""`meltano run tap-thinkst-canary target-duckdb dbt-duckdb:build`: the models, their tests,
and their figures checked against the simulator's own data."""

from __future__ import annotations

import json
import shutil
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest

from canary_simulator import Console, Simulator
from e2e.analytics import (
    ANALYTICS_SCHEMA,
    acknowledge_one,
    admins,
    api_keys_created,
    bird_services,
    birds_behind_on_firmware,
    incidents_per_day,
    incidents_per_source,
    seconds_to_acknowledge,
    without_second_factor,
)
from e2e.conftest import AUTH_TOKEN
from e2e.pipeline import ROOT, meltano_env, require_meltano, run
from tap_thinkst_canary.streams import STREAM_NAMES

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

PIPELINE = ("run", "tap-thinkst-canary", "target-duckdb", "dbt-duckdb:build")


class Warehouse:
    """A DuckDB file the pipeline loaded, and the Meltano environment that loaded it."""

    def __init__(self, console: Console, simulator: Simulator, root: Path) -> None:
        self.console = console
        self.simulator = simulator
        self.acknowledged_later = ""
        self.removed_bird = ""
        self.path = root / "warehouse.duckdb"
        self.env = meltano_env(
            root,
            TAP_THINKST_CANARY_BASE_URL=simulator.base_url,
            TAP_THINKST_CANARY_AUTH_TOKEN=AUTH_TOKEN,
            TARGET_DUCKDB_FILEPATH=str(self.path),
            DBT_DUCKDB_PATH=str(self.path),
            # dbt's compiled SQL and logs stay out of the checkout.
            DBT_TARGET_PATH=str(root / "dbt-target"),
            DBT_LOG_PATH=str(root / "dbt-logs"),
        )

    def meltano(self, *args: str) -> str:
        result = run([require_meltano(), *args], cwd=ROOT, env=self.env)
        output = result.stdout + result.stderr
        assert AUTH_TOKEN not in output
        return output

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        with duckdb.connect(str(self.path), read_only=True) as connection:
            return connection.execute(sql).fetchall()

    def execute(self, *statements: str) -> None:
        with duckdb.connect(str(self.path)) as connection:
            for statement in statements:
                connection.execute(statement)


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Warehouse]:
    console = Console(
        seed=47, incidents=150, birds=5, tokens=20, audit_days=15, flocks=3, big_incident_events=200
    )
    with Simulator(console, auth_token=AUTH_TOKEN, host="127.0.0.1", port=0) as simulator:
        loaded = Warehouse(console, simulator, tmp_path_factory.mktemp("dbt-duckdb"))
        assert "Completed successfully" in loaded.meltano(*PIPELINE)
        # The console moves on and the next run is incremental: the models see both syncs.
        loaded.acknowledged_later = acknowledge_one(console)
        console.add_incidents(6)
        # Birds come and go (the second sync tombstones the one removed), and an admin without
        # a second factor arrives.
        loaded.removed_bird = max(birds_behind_on_firmware(console))
        console.remove_bird(loaded.removed_bird)
        console.add_bird()
        console.add_bird()
        console.add_user("mallory@example.com", "admin")
        assert "Completed successfully" in loaded.meltano(*PIPELINE)
        yield loaded


def copy_of(warehouse: Warehouse, tmp_path: Path) -> Warehouse:
    """The same data in a file of the test's own, for tests that change it."""
    copy = Warehouse(warehouse.console, warehouse.simulator, tmp_path)
    shutil.copy(warehouse.path, copy.path)
    return copy


def test_every_model_is_built_and_tested(warehouse: Warehouse) -> None:
    tables = {
        row[0]
        for row in warehouse.rows(
            "SELECT table_name FROM information_schema.tables "
            f"WHERE table_schema = '{ANALYTICS_SCHEMA}'"
        )
    }
    assert tables == {
        "stg_incidents",
        "stg_incident_events",
        "stg_audit_trail",
        "stg_birds",
        "stg_tokens",
        "stg_flocks",
        "stg_users",
        "stg_api_keys",
        "stg_bird_services",
        "stg_bird_updates",
        "stg_bird_registrations",
        "stg_outside_bird_incidents",
        "stg_ignored_incidents",
        "stg_licenses",
        "stg_settings",
        "fct_incidents",
        "fct_incident_events",
        "attacker_sources",
        "daily_incidents",
        "bird_health",
        "token_inventory",
        "access_review",
        "ocsf_detection_finding",
        "ocsf_entity_management",
    }


def test_daily_incidents_match_the_simulator(warehouse: Warehouse) -> None:
    counted = {
        (day, flock, category): incidents
        for day, flock, category, incidents in warehouse.rows(
            "SELECT incident_date, flock_id, logtype_category, incidents "
            f"FROM {ANALYTICS_SCHEMA}.daily_incidents"
        )
    }
    assert counted == dict(incidents_per_day(warehouse.console))


def test_attacker_sources_match_the_simulator(warehouse: Warehouse) -> None:
    counted = Counter(
        dict(warehouse.rows(f"SELECT src_host, incidents FROM {ANALYTICS_SCHEMA}.attacker_sources"))
    )
    expected = incidents_per_source(warehouse.console)
    assert counted == expected
    # Sources that come back are what "seen before" is about: the simulator has some.
    assert max(expected.values()) > 1
    repeats = warehouse.rows(
        "SELECT count(*) FROM "
        f"{ANALYTICS_SCHEMA}.fct_incidents WHERE source_seen_before AND NOT is_operational"
    )
    assert repeats == [(sum(expected.values()) - len(expected),)]


def test_time_to_acknowledge_matches_the_simulator(warehouse: Warehouse) -> None:
    measured = dict(
        warehouse.rows(
            "SELECT incident_id, seconds_to_acknowledge FROM "
            f"{ANALYTICS_SCHEMA}.fct_incidents WHERE acknowledged"
        )
    )
    expected = seconds_to_acknowledge(warehouse.console)
    assert expected
    assert measured == expected


def test_access_review_matches_the_simulator(warehouse: Warehouse) -> None:
    def users(condition: str) -> set[str]:
        return {
            email
            for (email,) in warehouse.rows(
                f"SELECT principal_name FROM {ANALYTICS_SCHEMA}.access_review "
                f"WHERE principal_type = 'user' AND {condition}"
            )
        }

    expected = without_second_factor(warehouse.console)
    assert users("without_second_factor") == expected
    assert users("is_admin") == admins(warehouse.console)
    # The simulator's own admin without a second factor, and the one added since the first sync.
    assert users("is_admin AND without_second_factor") == {
        "bob@example.com",
        "mallory@example.com",
    }

    keys = {
        key_id: (created_by, created_at)
        for key_id, created_by, created_at in warehouse.rows(
            "SELECT principal_id, created_by, created_at "
            f"FROM {ANALYTICS_SCHEMA}.access_review WHERE principal_type = 'api_key'"
        )
    }
    assert keys == api_keys_created(warehouse.console)
    # A key's creator is a user, found by e-mail, or another key.
    creators = warehouse.rows(
        "SELECT DISTINCT created_by, creator_type, creator_user_id IS NOT NULL "
        f"FROM {ANALYTICS_SCHEMA}.access_review WHERE principal_type = 'api_key' ORDER BY ALL"
    )
    assert ("alice@example.com", "user", True) in creators
    assert ("Global-API-Token[key_id:ffffffff]", "api_key", False) in creators


def test_bird_health_firmware_and_services_match_the_simulator(warehouse: Warehouse) -> None:
    behind = birds_behind_on_firmware(warehouse.console)
    [(birds,)] = warehouse.rows(f"SELECT count(*) FROM {ANALYTICS_SCHEMA}.bird_health")
    # Some birds are up to date, some behind: a model that says "all" or "none" fails.
    assert 0 < len(behind) < birds == len(warehouse.console.bird_ids())
    assert {
        bird_id
        for (bird_id,) in warehouse.rows(
            f"SELECT bird_id FROM {ANALYTICS_SCHEMA}.bird_health WHERE firmware_behind"
        )
    } == behind
    assert warehouse.removed_bird not in behind
    services = dict(
        warehouse.rows(
            f"SELECT bird_id, services FROM {ANALYTICS_SCHEMA}.bird_health "
            "WHERE services IS NOT NULL"
        )
    )
    assert services == bird_services(warehouse.console)


def test_an_incident_acknowledged_after_the_first_sync_gets_its_time_to_acknowledge(
    warehouse: Warehouse,
) -> None:
    incident_id = warehouse.acknowledged_later
    [(acknowledged, source, seconds)] = warehouse.rows(
        "SELECT acknowledged, acknowledged_at_source, seconds_to_acknowledge "
        f"FROM {ANALYTICS_SCHEMA}.fct_incidents WHERE incident_id = '{incident_id}'"
    )
    assert (acknowledged, source) == (True, "incident_updated_at")
    assert seconds == seconds_to_acknowledge(warehouse.console)[incident_id] > 0


def test_an_audit_trail_acknowledgement_names_who_and_when(
    warehouse: Warehouse, tmp_path: Path
) -> None:
    copy = copy_of(warehouse, tmp_path)
    [(incident_id, created_at)] = copy.rows(
        "SELECT incident_id, created_at FROM "
        f"{ANALYTICS_SCHEMA}.fct_incidents WHERE acknowledged ORDER BY incident_id LIMIT 1"
    )
    # How the console records an acknowledgement: the incident's key in the entry's
    # additional information, as it does for a deletion.
    information = json.dumps({"incident_key": incident_id})
    copy.execute(
        "INSERT INTO canary.audit_trail (console, id, timestamp, action_type, message, "
        '"user", user_ip, additional_information) '
        "SELECT console, 999999001, created_at + INTERVAL 1234 SECOND, 'incident_acknowledge', "
        f"'User carol@example.com acknowledged an incident', 'carol@example.com', "
        f"'127.0.0.1', '{information}' FROM canary.incidents WHERE id = '{incident_id}'"
    )

    copy.meltano("invoke", "dbt-duckdb:build")

    assert copy.rows(
        "SELECT acknowledged_by, acknowledged_at_source, seconds_to_acknowledge, acknowledged_at "
        f"FROM {ANALYTICS_SCHEMA}.fct_incidents WHERE incident_id = '{incident_id}'"
    ) == [
        (
            "carol@example.com",
            "audit_trail",
            1234,
            created_at + timedelta(seconds=1234),
        )
    ]
    [(entity,)] = copy.rows(
        f"SELECT entity FROM {ANALYTICS_SCHEMA}.ocsf_entity_management WHERE audit_id = 999999001"
    )
    assert json.loads(entity) == {
        "type": "Incident",
        "uid": incident_id,
        "name": "Incident",
    }


def test_two_consoles_in_the_same_tables_stay_apart(warehouse: Warehouse, tmp_path: Path) -> None:
    copy = copy_of(warehouse, tmp_path)
    [(first,)] = copy.rows("SELECT DISTINCT console FROM canary.incidents")
    second = "zz99yy88.canary.tools"
    copy.execute(
        *(
            f"INSERT INTO canary.{table} SELECT * REPLACE ('{second}' AS console) "
            f"FROM canary.{table}"
            for table in STREAM_NAMES
        )
    )

    copy.meltano("invoke", "dbt-duckdb:build")

    # Every figure of the second console is the first's, and what it was before the second
    # console arrived: no join crosses consoles. (bird_health's offline time is measured at
    # build time.)
    build_time = {
        "bird_health": ", measured_at, seconds_offline",
        "access_review": ", measured_at, age_days",
    }
    for model in (
        "fct_incidents",
        "fct_incident_events",
        "attacker_sources",
        "daily_incidents",
        "bird_health",
        "token_inventory",
        "access_review",
    ):
        columns = f"* EXCLUDE (console{build_time.get(model, '')})"
        alone = warehouse.rows(f"SELECT {columns} FROM {ANALYTICS_SCHEMA}.{model} ORDER BY ALL")
        assert alone, model
        for console in (first, second):
            assert (
                copy.rows(
                    f"SELECT {columns} FROM {ANALYTICS_SCHEMA}.{model} "
                    f"WHERE console = '{console}' ORDER BY ALL"
                )
                == alone
            ), (model, console)


def test_rows_marked_deleted_leave_the_models(warehouse: Warehouse, tmp_path: Path) -> None:
    copy = copy_of(warehouse, tmp_path)
    current = "_sdc_deleted_at IS NULL"
    [(bird_id,)] = copy.rows(f"SELECT id FROM canary.birds WHERE {current} ORDER BY id LIMIT 1")
    [(incident_id, events)] = copy.rows(
        "SELECT id, events_count FROM canary.incidents ORDER BY events_count DESC LIMIT 1"
    )
    # The tap's tombstones set `_sdc_deleted_at` on rows the console no longer has.
    [(birds,)] = copy.rows(f"SELECT count(*) FROM canary.birds WHERE {current}")
    [(key_id,)] = copy.rows(
        f"SELECT key_id FROM canary.api_keys WHERE {current} ORDER BY key_id LIMIT 1"
    )
    copy.execute(
        f"UPDATE canary.birds SET _sdc_deleted_at = now() WHERE id = '{bird_id}'",
        f"UPDATE canary.incidents SET _sdc_deleted_at = now() WHERE id = '{incident_id}'",
        "UPDATE canary.users SET _sdc_deleted_at = now() WHERE email = 'bob@example.com'",
        f"UPDATE canary.api_keys SET _sdc_deleted_at = now() WHERE key_id = '{key_id}'",
    )

    copy.meltano("invoke", "dbt-duckdb:build")

    schema = ANALYTICS_SCHEMA
    assert copy.rows(f"SELECT count(*) FROM {schema}.bird_health WHERE bird_id = '{bird_id}'") == [
        (0,)
    ]
    assert copy.rows(f"SELECT count(*) FROM {schema}.stg_birds") == [(birds - 1,)]
    # A deleted bird's services go with it, whether or not they have tombstones of their own.
    assert copy.rows(
        f"SELECT count(*) FROM {schema}.stg_bird_services WHERE bird_id = '{bird_id}'"
    ) == [(0,)]
    # A deleted user and key leave the review; the keys the user created stay, creator gone.
    assert (
        copy.rows(
            f"SELECT principal_type FROM {schema}.access_review "
            f"WHERE principal_id = '{key_id}' OR principal_name = 'bob@example.com'"
        )
        == []
    )
    assert copy.rows(
        f"SELECT DISTINCT creator_type, creator_user_id FROM {schema}.access_review "
        "WHERE created_by = 'bob@example.com'"
    ) == [("user", None)]
    for model in ("fct_incidents", "ocsf_detection_finding", "fct_incident_events"):
        assert copy.rows(
            f"SELECT count(*) FROM {schema}.{model} WHERE incident_id = '{incident_id}'"
        ) == [(0,)], model
    [(incidents,)] = copy.rows("SELECT count(*) FROM canary.incidents")
    assert copy.rows(f"SELECT count(*) FROM {schema}.fct_incidents") == [(incidents - 1,)]
    [(all_events,)] = copy.rows("SELECT count(*) FROM canary.incident_events")
    assert copy.rows(f"SELECT count(*) FROM {schema}.fct_incident_events") == [
        (all_events - events,)
    ]


@pytest.mark.parametrize(
    ("damage", "failing_test"),
    [
        pytest.param(
            "DELETE FROM canary.incident_events WHERE (incident_id, position) IN "
            "(SELECT incident_id, max(position) FROM canary.incident_events "
            "GROUP BY incident_id ORDER BY incident_id LIMIT 1)",
            "assert_incident_event_counts_match_the_console",
            id="an event goes missing",
        ),
        pytest.param(
            # Staging drops the events of a tombstoned incident, not those of one that never
            # landed: those are reported.
            "DELETE FROM canary.incidents WHERE id = (SELECT min(incident_id) "
            "FROM canary.incident_events)",
            "relationships_within_console_stg_incident_events_incident_id",
            id="an event's incident is missing",
        ),
        pytest.param(
            "UPDATE canary.birds SET console = 'elsewhere.canary.tools' "
            "WHERE id = (SELECT min(id) FROM canary.birds)",
            "relationships_within_console_stg_birds_flock_id",
            id="a bird's flock is in another console",
        ),
    ],
)
def test_the_tests_catch_damaged_data(
    warehouse: Warehouse, tmp_path: Path, damage: str, failing_test: str
) -> None:
    copy = copy_of(warehouse, tmp_path)
    copy.execute(damage)

    with pytest.raises(AssertionError) as failure:
        copy.meltano("invoke", "dbt-duckdb:build")

    assert f"Failure in test {failing_test}" in str(failure.value)
