"""Deletions end to end: `meltano run tap-thinkst-canary target-postgres`, a token, a bird, a
flock, a user and an API key removed and an incident deleted in between, into a real
PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from canary_simulator import Simulator
from e2e.conftest import AUTH_TOKEN
from e2e.pgcluster import PostgresCluster
from e2e.pipeline import ROOT, meltano_env, require_meltano, run

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

SCHEMA = "canary"
KEYS = {
    "tokens": "canarytoken",
    "birds": "id",
    "flocks": "flock_id",
    "incidents": "id",
    "users": "id",
    "api_keys": "key_id",
}


def marked_deleted(postgres: PostgresCluster, database: str) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for table, key in KEYS.items():
        rows = postgres.psql(
            f"SELECT {key} FROM {SCHEMA}.{table} WHERE _sdc_deleted_at IS NOT NULL", database
        )
        found[table] = {row[0] for row in rows}
    return found


def test_what_the_console_removed_is_marked_deleted_and_nothing_else(
    postgres: PostgresCluster, e2e_simulator: Simulator, tmp_path: Path
) -> None:
    meltano = require_meltano()
    console = e2e_simulator.console
    database = "canary_deletions"
    postgres.create_database(database)
    consoles = [{"name": "hq", "base_url": e2e_simulator.base_url, "auth_token": AUTH_TOKEN}]
    env = meltano_env(
        tmp_path,
        TAP_THINKST_CANARY_CONSOLES=json.dumps(consoles),
        TARGET_POSTGRES_HOST=postgres.host,
        TARGET_POSTGRES_PORT=str(postgres.port),
        TARGET_POSTGRES_USER=postgres.user,
        TARGET_POSTGRES_PASSWORD="unused-trust-auth",
        TARGET_POSTGRES_DATABASE=database,
        TARGET_POSTGRES_DEFAULT_TARGET_SCHEMA=SCHEMA,
    )
    pipeline: list[str | Path] = [meltano, "run", "tap-thinkst-canary", "target-postgres"]
    run(pipeline, cwd=ROOT, env=env)
    assert marked_deleted(postgres, database) == {table: set() for table in KEYS}
    events_before = postgres.psql(
        f"SELECT incident_id, count(*) FROM {SCHEMA}.incident_events GROUP BY incident_id",
        database,
    )

    removed = {
        "tokens": sorted(console.token_ids())[0],
        "birds": sorted(console.bird_ids())[0],
        "flocks": sorted(console.flock_ids() - {"flock:default"})[0],
        "incidents": sorted(console.incident_ids())[0],
    }
    # A removed flock's own API keys are revoked with it: the key removed is another.
    flock_keys = {
        key_id
        for [key_id] in postgres.psql(
            f"SELECT key_id FROM {SCHEMA}.api_keys WHERE flock_id = '{removed['flocks']}'",
            database,
        )
    }
    assert flock_keys
    removed["api_keys"] = sorted(console.api_key_ids() - flock_keys)[0]
    email = sorted(console.user_emails())[0]
    [[removed["users"]]] = postgres.psql(
        f"SELECT id FROM {SCHEMA}.users WHERE email = '{email}'", database
    )
    services_of_removed_bird = postgres.psql(
        f"SELECT service FROM {SCHEMA}.bird_services WHERE node_id = '{removed['birds']}'",
        database,
    )
    assert services_of_removed_bird
    console.remove_token(removed["tokens"])
    console.remove_bird(removed["birds"])
    console.remove_flock(removed["flocks"])
    console.delete_incident(removed["incidents"])
    console.remove_user(email)
    console.remove_api_key(removed["api_keys"])
    run(pipeline, cwd=ROOT, env=env)

    expected = {t: {key} for t, key in removed.items()}
    expected["api_keys"] |= flock_keys
    assert marked_deleted(postgres, database) == expected
    # A bird's services go with it, and no other bird's.
    services_marked = postgres.psql(
        f"SELECT node_id, service FROM {SCHEMA}.bird_services WHERE _sdc_deleted_at IS NOT NULL",
        database,
    )
    assert sorted(services_marked) == sorted(
        [removed["birds"], service] for [service] in services_of_removed_bird
    )
    live = postgres.psql(
        f"SELECT count(*) FROM {SCHEMA}.tokens WHERE _sdc_deleted_at IS NULL", database
    )
    assert live == [[str(len(console.token_ids()))]]
    # The events of every incident are as they were: none were dropped or marked.
    events_after = postgres.psql(
        f"SELECT incident_id, count(*) FROM {SCHEMA}.incident_events GROUP BY incident_id",
        database,
    )
    assert sorted(events_after) == sorted(events_before)

    console.restore_token(removed["tokens"])
    run(pipeline, cwd=ROOT, env=env)

    assert marked_deleted(postgres, database) == {**expected, "tokens": set()}
    restored = postgres.psql(
        f"SELECT kind IS NOT NULL FROM {SCHEMA}.tokens WHERE canarytoken = '{removed['tokens']}'",
        database,
    )
    assert restored == [["t"]]
