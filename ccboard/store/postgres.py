"""PostgreSQL backend (psycopg 3): several board servers share one centre's database.

URL: any libpq URI, e.g. postgresql://ccboard@/ccboard?host=/run/postgresql or
postgresql://ccboard:secret@db.example:5432/ccboard. Claims take rows FOR UPDATE SKIP LOCKED, so
workers on different servers never wait on each other's rows nor take the same one.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg

from ccboard.errors import StoreError
from ccboard.store import schema
from ccboard.store.repository import Repository, _Tx


class PostgresRepository(Repository):
    """The repository on a PostgreSQL server."""

    backend = schema.POSTGRES
    _lock_rows = "FOR UPDATE SKIP LOCKED"
    _driver_error = psycopg.Error

    def __init__(self, url: str, connect_timeout_s: int = 10) -> None:
        self.url = url
        try:
            # autocommit: each method opens exactly one explicit transaction (conn.transaction()).
            self._conn: psycopg.Connection[Any] | None = psycopg.connect(
                url, autocommit=True, connect_timeout=connect_timeout_s
            )
        except psycopg.Error as exc:
            raise StoreError(f"cannot connect to {_redact(url)}: {exc}", op="open") from exc

    @property
    def conn(self) -> psycopg.Connection[Any]:
        if self._conn is None:
            raise psycopg.InterfaceError("store is closed")
        return self._conn

    def _translate(self, sql: str) -> str:
        return sql.replace("?", "%s")

    @contextmanager
    def _transaction(self, write: bool, single: bool = False) -> Iterator[Any]:
        conn = self.conn
        if single:  # autocommit: the one statement is its own transaction
            with conn.cursor() as cur:
                yield cur
            return
        with conn.transaction(), conn.cursor() as cur:
            yield cur

    def _lock_migrations(self, t: _Tx) -> None:
        t.run("SELECT pg_advisory_xact_lock(?)", (schema.MIGRATION_LOCK,))

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


def _redact(url: str) -> str:
    """The URL without its password, for messages."""
    head, sep, tail = url.partition("@")
    if not sep or "://" not in head:
        return url
    scheme, _, cred = head.partition("://")
    user = cred.split(":", 1)[0]
    return f"{scheme}://{user}:***@{tail}" if ":" in cred else url
