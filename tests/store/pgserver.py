"""A throwaway PostgreSQL server for the store tests and benchmarks (Debian's postgresql package).

initdb into a temporary directory, then postgres listening on a unix socket in that directory and
on 127.0.0.1 at a free port; stopped and removed by stop(). PostgreSQL refuses to run as root, so
as root the server runs as the `postgres` system user (the package creates it; else we create
`ccboard-pg`) through runuser. Never skipped: without the package, fail() names the apt command.
$CCBOARD_PG_OPTS adds server options (for diagnosis only; tests and benchmarks run without it).
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

APT_HINT = "apt-get install -y postgresql  (Debian's PostgreSQL 15: /usr/lib/postgresql/15/bin)"
SUPERUSER = "ccboard"


class PgUnavailable(RuntimeError):
    """PostgreSQL binaries are missing or the server did not start (message says how to fix)."""


def bindir() -> Path:
    """The newest /usr/lib/postgresql/*/bin that has initdb, pg_ctl and postgres."""
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parent.parent.name)
    )
    for initdb in reversed(found):
        d = Path(initdb).parent
        if (d / "pg_ctl").exists() and (d / "postgres").exists():
            return d
    raise PgUnavailable(f"PostgreSQL server binaries not found; install them: {APT_HINT}")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _run_user() -> str | None:
    """The unprivileged user to run the server as when we are root (None: run as ourselves)."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "ccboard-pg"):
        try:
            pwd.getpwnam(name)
            return name
        except KeyError:
            pass
    subprocess.run(
        ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", "ccboard-pg"], check=True
    )
    return "ccboard-pg"


class PgServer:
    """One running server; `url(db)` is a libpq URI over the unix socket."""

    def __init__(self) -> None:
        self.bin = bindir()
        self.user = _run_user()
        self.dir = Path(tempfile.mkdtemp(prefix="ccboard-pg-"))
        self.data = self.dir / "data"
        self.log = self.dir / "server.log"
        self.port = _free_port()
        self._dbs = 0
        if self.user:
            u = pwd.getpwnam(self.user)
            os.chown(self.dir, u.pw_uid, u.pw_gid)
        os.chmod(self.dir, 0o755)  # the socket lives here; clients of any user may reach it
        try:
            self._as_user(
                [str(self.bin / "initdb"), "-D", str(self.data), "-U", SUPERUSER, "--auth=trust",
                 "-E", "UTF8", "--locale=C", "--no-sync"]
            )  # fmt: skip
            opts = f"-k {self.dir} -p {self.port} -h 127.0.0.1 -c max_connections=60 -c fsync=on"
            opts += " " + os.environ.get(
                "CCBOARD_PG_OPTS", ""
            )  # diagnosis only, e.g. -c synchronous_commit=off
            self._as_user(
                [str(self.bin / "pg_ctl"), "-D", str(self.data), "-o", opts, "-l", str(self.log), "-w",
                 "-t", "60", "start"]
            )  # fmt: skip
        except subprocess.CalledProcessError as exc:
            log = self.log.read_text() if self.log.exists() else ""
            self.stop()
            raise PgUnavailable(f"PostgreSQL did not start: {exc}\n{exc.stderr}\n{log}") from exc

    def _as_user(self, cmd: list[str]) -> None:
        if self.user:
            cmd = ["runuser", "-u", self.user, "--", *cmd]
        subprocess.run(cmd, check=True, capture_output=True, text=True, cwd=self.dir)

    def url(self, db: str = "postgres") -> str:
        return f"postgresql://{SUPERUSER}@/{db}?host={self.dir}&port={self.port}"

    def tcp_url(self, db: str = "postgres") -> str:
        return f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}/{db}"

    def create_db(self, prefix: str = "t") -> str:
        """A new empty database; returns its URL."""
        import psycopg

        self._dbs += 1
        name = f"{prefix}{os.getpid()}_{self._dbs}"
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def create_schema(self, db_url: str, prefix: str = "s") -> str:
        """A new empty schema in the database at db_url; returns a URL whose search_path is it."""
        import psycopg

        self._dbs += 1
        name = f"{prefix}{os.getpid()}_{self._dbs}"
        with psycopg.connect(db_url, autocommit=True) as conn:
            conn.execute(f'CREATE SCHEMA "{name}"')
        return f"{db_url}&options=-csearch_path%3D{name}"

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            try:
                self._as_user(
                    [str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop"]
                )
            except subprocess.CalledProcessError:
                pass
        shutil.rmtree(self.dir, ignore_errors=True)
