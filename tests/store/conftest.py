"""Fixtures: every store test runs on both backends, SQLite in tmp_path and a real PostgreSQL
server that this session starts (tests/store/pgserver.py) and stops at the end."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ccboard.store import Repository, open_store
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


@pytest.fixture(scope="session")
def pg_db(pg: PgServer) -> str:
    return pg.create_db("store")


@pytest.fixture(params=BACKENDS)
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A URL of an empty store: a new SQLite file, or a new schema on the test PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'centre.db'}"
    pg: PgServer = request.getfixturevalue("pg")
    return pg.create_schema(request.getfixturevalue("pg_db"))


@pytest.fixture
def store(store_url: str) -> Iterator[Repository]:
    repo = open_store(store_url)
    try:
        yield repo
    finally:
        repo.close()
