"""SQLite backend: one file, WAL journal, one writer at a time (BEGIN IMMEDIATE), readers never blocked.

URL: sqlite:///relative/path.db, sqlite:////absolute/path.db, or sqlite:///:memory: (tests).
Query options: synchronous=full|normal (default full: a commit survives power loss, not only a
process crash), busy_timeout_ms (default 10000: how long a writer waits for the lock).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from ccboard.errors import StoreURLError
from ccboard.store import schema
from ccboard.store.repository import Repository

_SYNC = {"full": "FULL", "normal": "NORMAL", "extra": "EXTRA", "off": "OFF"}


class SqliteRepository(Repository):
    """The repository on an embedded SQLite database (the default backend)."""

    backend = schema.SQLITE
    _driver_error = sqlite3.Error

    def __init__(
        self, path: str, synchronous: str = "full", busy_timeout_ms: int = 10_000, url: str = ""
    ) -> None:
        if synchronous.lower() not in _SYNC:
            raise StoreURLError(f"synchronous={synchronous!r}: expected one of {', '.join(_SYNC)}", op="open")
        self.url = url or f"sqlite:///{path}"
        self.path = path
        # isolation_level=None: we issue BEGIN ourselves, so a write takes the lock at its start.
        self._conn: sqlite3.Connection | None = sqlite3.connect(
            path, isolation_level=None, timeout=busy_timeout_ms / 1000.0, check_same_thread=False
        )
        self._conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        if path != ":memory:":
            self._conn.execute("PRAGMA journal_mode = WAL")
        self._conn.execute(f"PRAGMA synchronous = {_SYNC[synchronous.lower()]}")
        self._conn.execute("PRAGMA foreign_keys = ON")

    @property
    def conn(self) -> sqlite3.Connection:
        if self._conn is None:
            raise sqlite3.ProgrammingError("store is closed")
        return self._conn

    def _translate(self, sql: str) -> str:
        return sql

    @contextmanager
    def _transaction(self, write: bool, single: bool = False) -> Iterator[Any]:
        conn = self.conn
        cur = conn.cursor()
        if single:  # one statement in autocommit mode is atomic and takes the write lock itself
            try:
                yield cur
            finally:
                cur.close()
            return
        # IMMEDIATE: the writer lock from the first statement, so claim = select + update is atomic
        # against every other process (SQLite has one writer; there is nothing to skip).
        cur.execute("BEGIN IMMEDIATE" if write else "BEGIN")
        try:
            yield cur
        except BaseException:
            conn.rollback()
            raise
        else:
            conn.commit()
        finally:
            cur.close()

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
