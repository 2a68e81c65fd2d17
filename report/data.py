"""What the report shows, read from the dbt models' tables in DuckDB or PostgreSQL.

The SQL is written once for both databases, against the schema the models are built in.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

DEFAULT_SCHEMA = "canary_analytics"
TOP_SOURCES = 10
BUILD_HINT = (
    "build the models first: `meltano run tap-thinkst-canary target-duckdb dbt-duckdb:build` "
    "(or target-postgres dbt-postgres:build)"
)

Rows = list[tuple[Any, ...]]
Query = Callable[[str], Rows]


class ReportError(RuntimeError):
    """The warehouse cannot be read or does not hold the models."""


@dataclass(frozen=True)
class DailyCount:
    day: date
    category: str
    incidents: int


@dataclass(frozen=True)
class Source:
    console: str
    address: str
    incidents: int
    events: int
    birds: int
    tokens: int
    credentials: int
    first_seen: datetime | None
    last_seen: datetime | None


@dataclass(frozen=True)
class TokenKind:
    kind: str
    tokens: int
    triggered: int
    times_triggered: int
    never_triggered: int


@dataclass(frozen=True)
class Bird:
    console: str
    name: str
    flock: str
    live: bool
    last_seen: datetime | None
    seconds_offline: int | None
    firmware: str
    incidents: int
    #: The newer firmware the console offers the bird; None when it is up to date.
    firmware_available: str | None = None


@dataclass(frozen=True)
class ReportData:
    source: str
    consoles: list[str]
    incidents: int
    unacknowledged: int
    daily: list[DailyCount]
    sources: list[Source]
    source_count: int
    seconds_to_acknowledge: list[int]
    tokens: list[TokenKind]
    birds: list[Bird]


def read_duckdb(path: Path, schema: str = DEFAULT_SCHEMA) -> ReportData:
    import duckdb

    if not path.is_file():
        raise ReportError(f"no DuckDB file at {path}: pass the file target-duckdb loaded")
    try:
        connection = duckdb.connect(str(path), read_only=True)
    except duckdb.Error as error:
        raise ReportError(f"cannot open {path}: {first_line(error)}") from error
    with connection:

        def query(sql: str) -> Rows:
            try:
                return connection.execute(sql).fetchall()
            except duckdb.CatalogException as error:
                raise ReportError(f"{path} has no models in {schema}: {BUILD_HINT}") from error

        return read(query, schema, str(path))


def read_postgres(url: str, schema: str = DEFAULT_SCHEMA) -> ReportData:
    import psycopg

    shown = redact_url(url)
    try:
        connection = psycopg.connect(url, connect_timeout=10)
    except psycopg.Error as error:
        raise ReportError(f"cannot connect to {shown}: {first_line(error)}") from error
    with connection:

        def query(sql: str) -> Rows:
            try:
                with connection.cursor() as cursor:
                    cursor.execute(sql.encode())
                    return list(cursor.fetchall())
            except psycopg.errors.UndefinedTable as error:
                raise ReportError(f"{shown} has no models in {schema}: {BUILD_HINT}") from error

        return read(query, schema, shown)


def read(query: Query, schema: str, source: str) -> ReportData:
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", schema):
        raise ReportError(f"{schema!r} is not a schema name: use letters, digits and underscores")

    def table(name: str) -> str:
        return f"{schema}.{name}"

    consoles = [row[0] for row in query(f"SELECT DISTINCT console FROM {table('fct_incidents')}")]
    totals = query(
        "SELECT count(*), coalesce(sum(CASE WHEN acknowledged THEN 0 ELSE 1 END), 0) "
        f"FROM {table('fct_incidents')}"
    )[0]
    daily = [
        DailyCount(day, category or "Unknown", int(count))
        for day, category, count in query(
            "SELECT incident_date, logtype_category, sum(incidents) "
            f"FROM {table('daily_incidents')} GROUP BY incident_date, logtype_category "
            "ORDER BY incident_date, logtype_category"
        )
    ]
    sources = [
        Source(
            console=str(row[0]),
            address=str(row[1]),
            incidents=int(row[2]),
            events=int(row[3]),
            birds=int(row[4]),
            tokens=int(row[5]),
            credentials=int(row[6]),
            first_seen=row[7],
            last_seen=row[8],
        )
        for row in query(
            "SELECT console, src_host, incidents, events, birds_touched, tokens_triggered, "
            f"distinct_credentials, first_seen_at, last_seen_at FROM {table('attacker_sources')} "
            f"ORDER BY incidents DESC, events DESC, src_host LIMIT {TOP_SOURCES}"
        )
    ]
    source_count = int(query(f"SELECT count(*) FROM {table('attacker_sources')}")[0][0])
    seconds = [
        int(row[0])
        for row in query(
            f"SELECT seconds_to_acknowledge FROM {table('fct_incidents')} "
            "WHERE seconds_to_acknowledge IS NOT NULL ORDER BY seconds_to_acknowledge"
        )
    ]
    tokens = [
        TokenKind(
            kind=str(row[0]),
            tokens=int(row[1]),
            triggered=int(row[2]),
            times_triggered=int(row[3]),
            never_triggered=int(row[4]),
        )
        for row in query(
            "SELECT kind, count(*), sum(CASE WHEN incidents > 0 THEN 1 ELSE 0 END), "
            "sum(times_triggered), sum(CASE WHEN never_triggered THEN 1 ELSE 0 END) "
            f"FROM {table('token_inventory')} "
            "GROUP BY kind ORDER BY sum(times_triggered) DESC, kind"
        )
    ]
    birds = [
        Bird(
            console=str(row[0]),
            name=str(row[1] or row[2]),
            flock=str(row[3] or ""),
            live=bool(row[4]),
            last_seen=row[5],
            seconds_offline=None if row[6] is None else int(row[6]),
            firmware=str(row[7] or "unknown"),
            incidents=int(row[8]),
            firmware_available=str(row[9]) if row[9] else None,
        )
        for row in query(
            "SELECT console, bird_name, bird_id, flock_name, live, last_seen_at, seconds_offline, "
            "firmware_version, incidents, "
            "CASE WHEN firmware_behind THEN coalesce(firmware_available, '?') END "
            f"FROM {table('bird_health')} "
            "ORDER BY live, seconds_offline DESC, bird_name"
        )
    ]
    return ReportData(
        source=source,
        consoles=sorted(str(console) for console in consoles),
        incidents=int(totals[0]),
        unacknowledged=int(totals[1]),
        daily=daily,
        sources=sources,
        source_count=source_count,
        seconds_to_acknowledge=seconds,
        tokens=tokens,
        birds=birds,
    )


def redact_url(url: str) -> str:
    """A connection URL without its password, fit for messages and the page."""
    without_userinfo = re.sub(r"(://[^:/@]+):[^@]*@", r"\1:***@", url)
    return re.sub(r"(password=)[^&\s]*", r"\1***", without_userinfo)


def first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def median(values: Sequence[int]) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return float(ordered[middle])
    return (ordered[middle - 1] + ordered[middle]) / 2
