"""The report page from known figures, and its errors, without a warehouse or a browser."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date, datetime
from pathlib import Path
from typing import Any

import duckdb
import pytest

from report.__main__ import main
from report.data import Bird, DailyCount, ReportData, Source, TokenKind, redact_url
from report.render import CHARTS, axis_max, render


def figures(page: str) -> dict[str, str]:
    return dict(re.findall(r'<figure class="chart" data-chart="([^"]+)"[^>]*>(.*?)</figure>', page))


def sample(**changes: Any) -> ReportData:
    data = ReportData(
        source="warehouse.duckdb",
        consoles=["ab12cd34.canary.tools"],
        incidents=7,
        unacknowledged=3,
        daily=[
            DailyCount(date(2024, 3, 1), "SSH", 2),
            DailyCount(date(2024, 3, 3), "Canarytoken", 5),
        ],
        sources=[Source("ab12cd34.canary.tools", "203.0.113.9", 4, 90, 2, 1, 12, None, None)],
        source_count=1,
        seconds_to_acknowledge=[59, 60, 7200, 700000],
        tokens=[TokenKind("aws-id", 3, 1, 5, 2)],
        birds=[
            Bird(
                "c", "<b>NAS</b>", "HQ", False, datetime(2024, 3, 3, 12), 5400, "3.8.0", 2, "4.1.2"
            ),
            Bird("c", "DC-1", "HQ", True, datetime(2024, 3, 3, 12), 0, "4.1.2", 5),
        ],
    )
    return replace(data, **changes)


def test_every_chart_is_drawn_from_the_figures() -> None:
    page = render(sample(), generated_at=datetime(2024, 3, 4))

    charts = figures(page)
    assert list(charts) == list(CHARTS)
    # A day without incidents keeps its slot: 1 to 3 March is three days, two bars.
    assert charts["incidents-per-day"].count('class="mark"') == 2
    assert "02 Mar" in charts["incidents-per-day"]
    assert "<title>2024-03-03: 5 Canarytoken</title>" in charts["incidents-per-day"]
    assert "203.0.113.9: 4 incidents, 90 events" in charts["top-sources"]
    # 59 s is under a minute, 60 s is not; 700000 s is more than a week.
    ack = charts["time-to-acknowledge"]
    assert "<title>1 acknowledged in &lt; 1 min</title>" in ack
    assert "<title>1 acknowledged in 1-5 min</title>" in ack
    assert "<title>1 acknowledged in &gt; 7 days</title>" in ack
    assert "median 1.0 h" in ack
    assert "aws-id (1/3)" in charts["tokens"]
    assert 'data-live="false"' in charts["bird-health"]
    assert "offline 1.5 h" in charts["bird-health"]
    assert charts["bird-health"].count('data-firmware-behind="true"') == 1
    assert "firmware 3.8.0 → 4.1.2</text>" in charts["bird-health"]
    assert "firmware 4.1.2</text>" in charts["bird-health"]
    assert (
        '<div class="value">1 of 2</div><div class="label">Birds behind on firmware</div>' in page
    )


def test_names_from_the_console_are_escaped() -> None:
    page = render(sample())

    assert "<b>NAS</b>" not in page
    assert "&lt;b&gt;NAS&lt;/b&gt;" in page


def test_a_console_without_data_gets_empty_charts_not_an_error() -> None:
    page = render(
        sample(
            incidents=0,
            unacknowledged=0,
            daily=[],
            sources=[],
            source_count=0,
            seconds_to_acknowledge=[],
            tokens=[],
            birds=[],
        )
    )

    charts = figures(page)
    assert all('<p class="empty">' in body and "<svg" not in body for body in charts.values())


def test_the_value_axis_ends_on_a_round_number() -> None:
    assert [axis_max(value) for value in (0, 3, 7, 41, 49, 120)] == [4, 4, 8, 80, 80, 200]


def test_a_missing_duckdb_file_is_a_one_line_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--duckdb", str(tmp_path / "nothing.duckdb")]) == 2

    error = capsys.readouterr().err
    assert error.count("\n") == 1
    assert "no DuckDB file at" in error


def test_a_warehouse_without_the_models_says_how_to_build_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    database = tmp_path / "warehouse.duckdb"
    duckdb.connect(str(database)).close()

    assert main(["--duckdb", str(database), "--output", str(tmp_path / "r.html")]) == 2

    error = capsys.readouterr().err
    assert error.count("\n") == 1
    assert "dbt-duckdb:build" in error
    assert not (tmp_path / "r.html").exists()


def test_a_postgres_password_never_shows() -> None:
    assert redact_url("postgresql://canary:s3cret@db:5432/canary") == (
        "postgresql://canary:***@db:5432/canary"
    )
    assert "s3cret" not in redact_url("postgresql://db/canary?user=a&password=s3cret")
