"""A throwaway PostgreSQL cluster for end-to-end tests.

The cluster lives in a temporary directory, listens only on 127.0.0.1 on a free port, trusts
local connections, and is deleted on stop. PostgreSQL refuses to run as root, so when the tests
run as root the server runs as an unprivileged system user, created if it does not exist yet.
"""

from __future__ import annotations

import csv
import io
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path
from types import TracebackType

DEFAULT_BINDIRS = ("/usr/lib/postgresql/15/bin", "/usr/lib/postgresql/16/bin")
SERVER_USER = "canary-pg"
SUPERUSER = "postgres"


class ClusterError(RuntimeError):
    """The throwaway cluster could not be created or started."""


def find_bindir() -> Path:
    """The directory of initdb/pg_ctl/psql: $PG_BINDIR, a Debian PostgreSQL 15/16, or $PATH."""
    candidates = [os.environ.get("PG_BINDIR", ""), *DEFAULT_BINDIRS]
    on_path = shutil.which("pg_ctl")
    if on_path:
        candidates.append(str(Path(on_path).parent))
    for candidate in filter(None, candidates):
        if (Path(candidate) / "initdb").is_file() and (Path(candidate) / "pg_ctl").is_file():
            return Path(candidate)
    raise ClusterError(
        "PostgreSQL server binaries (initdb, pg_ctl) not found: install PostgreSQL 15 "
        "or set PG_BINDIR to the directory that holds them"
    )


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def ensure_server_user(name: str = SERVER_USER) -> pwd.struct_passwd:
    """The unprivileged account the server runs as, created on first use."""
    try:
        return pwd.getpwnam(name)
    except KeyError:
        pass
    result = subprocess.run(
        ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", name],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise ClusterError(f"cannot create the system user {name!r}: {result.stderr.strip()}")
    return pwd.getpwnam(name)


class PostgresCluster:
    """Start with `with PostgresCluster() as pg:`; connect to `pg.host`:`pg.port` as `pg.user`."""

    host = "127.0.0.1"
    user = SUPERUSER

    def __init__(self, bindir: Path | None = None) -> None:
        self.bindir = bindir or find_bindir()
        self.port = 0
        self.root = Path()
        self._run_as: list[str] = []
        self._started = False

    @property
    def datadir(self) -> Path:
        return self.root / "data"

    @property
    def logfile(self) -> Path:
        return self.root / "server.log"

    def start(self) -> PostgresCluster:
        self.root = Path(tempfile.mkdtemp(prefix="canary-pg-"))
        (self.root / "sockets").mkdir()
        if os.geteuid() == 0:
            account = ensure_server_user()
            for path in (self.root, self.root / "sockets"):
                os.chown(path, account.pw_uid, account.pw_gid)
            self._run_as = ["runuser", "-u", account.pw_name, "--"]
        try:
            self._initdb()
            self._start_server()
        except BaseException:
            self.stop()
            raise
        return self

    def _server_command(self, *args: str) -> subprocess.CompletedProcess[str]:
        try:
            return subprocess.run(
                [*self._run_as, *args],
                capture_output=True,
                text=True,
                check=False,
                cwd=self.root,
                timeout=120,
            )
        except (OSError, subprocess.TimeoutExpired) as error:
            raise ClusterError(f"{Path(args[0]).name} could not run: {error}") from error

    def _initdb(self) -> None:
        result = self._server_command(
            str(self.bindir / "initdb"),
            "--pgdata",
            str(self.datadir),
            "--username",
            SUPERUSER,
            "--auth",
            "trust",
            "--encoding",
            "UTF8",
            "--no-locale",
            "--no-sync",
        )
        if result.returncode != 0:
            raise ClusterError(f"initdb failed: {result.stderr.strip() or result.stdout.strip()}")

    def _start_server(self) -> None:
        # Another process may take the free port between the probe and the bind: try a few.
        for _ in range(5):
            self.port = free_port()
            options = (
                f"-c listen_addresses={self.host} -p {self.port} "
                f"-c unix_socket_directories={self.root / 'sockets'} "
                "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
            )
            result = self._server_command(
                str(self.bindir / "pg_ctl"),
                "--pgdata",
                str(self.datadir),
                "--log",
                str(self.logfile),
                "--options",
                options,
                "--wait",
                "--timeout",
                "60",
                "start",
            )
            if result.returncode == 0:
                self._started = True
                return
        log = self.logfile.read_text(errors="replace") if self.logfile.exists() else ""
        raise ClusterError(f"PostgreSQL did not start: {result.stderr.strip()} {log[-2000:]}")

    def stop(self) -> None:
        if self._started:
            self._server_command(
                str(self.bindir / "pg_ctl"),
                "--pgdata",
                str(self.datadir),
                "-m",
                "immediate",
                "stop",
            )
            self._started = False
        if self.root != Path() and self.root.exists():
            shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> PostgresCluster:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def psql(self, sql: str, database: str = "postgres") -> list[list[str]]:
        """Run SQL with psql over TCP and return the rows of the last statement, as strings."""
        psql = self.bindir / "psql"
        result = subprocess.run(
            [
                str(psql if psql.is_file() else "psql"),
                "--no-psqlrc",
                "--csv",
                "--tuples-only",
                "--set",
                "ON_ERROR_STOP=1",
                "--host",
                self.host,
                "--port",
                str(self.port),
                "--username",
                self.user,
                "--dbname",
                database,
                "--command",
                sql,
            ],
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        )
        if result.returncode != 0:
            raise ClusterError(f"psql failed: {result.stderr.strip()}")
        return list(csv.reader(io.StringIO(result.stdout)))

    def create_database(self, name: str) -> None:
        self.psql(f'CREATE DATABASE "{name}"')
