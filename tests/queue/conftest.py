"""Fixtures: the queue engine's tests run on both store backends, SQLite in a temporary folder and a
real PostgreSQL server this session starts (tests/store/pgserver.py) and stops at the end."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.store.pgserver import PgServer, PgUnavailable

BACKENDS = ("sqlite", "postgres")


@pytest.fixture(scope="session")
def pg() -> Iterator[PgServer]:
    try:
        server = PgServer()
    except PgUnavailable as exc:
        pytest.fail(str(exc))
    try:
        yield server
    finally:
        server.stop()


def store_url_for(backend: str, folder: Path, request: pytest.FixtureRequest, name: str) -> str:
    """A URL of an empty store on `backend`: a new SQLite file in `folder`, or a new database."""
    if backend == "sqlite":
        return f"sqlite:///{folder / (name + '.db')}"
    server: PgServer = request.getfixturevalue("pg")
    return server.create_db(name)
