"""The throwaway PostgreSQL cluster, and the rule that CI never skips the PostgreSQL test."""

from __future__ import annotations

from pathlib import Path

import pytest

from e2e.conftest import start_postgres
from e2e.pgcluster import PostgresCluster


def test_cluster_listens_on_loopback_and_is_removed_on_stop(postgres: PostgresCluster) -> None:
    assert postgres.psql("SELECT inet_server_addr()") == [["127.0.0.1"]]
    root = postgres.root
    assert root.is_dir()

    with PostgresCluster() as second:
        assert second.port != postgres.port
        assert second.psql("SELECT 1 + 1") == [["2"]]
        second_root = second.root
    assert not second_root.exists()


def test_a_server_that_cannot_start_fails_under_ci(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI=true forbids skipping"):
        start_postgres(bindir=tmp_path / "no-postgres-here")


def test_a_server_that_cannot_start_skips_outside_ci(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="PostgreSQL could not start"):
        start_postgres(bindir=tmp_path / "no-postgres-here")
