"""Durable storage: the call ledger, CDRs, callbacks, campaign attempts, shared agent state and
queue membership, and the SMS outbox; SQLite (default) or PostgreSQL behind one Repository API.

    store = open_store("sqlite:///var/lib/ccboard/centre.db")
    store = open_store("postgresql://ccboard@/ccboard?host=/run/postgresql")
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from ccboard.errors import StoreURLError
from ccboard.store.records import (
    AgentState,
    Callback,
    CampaignAttempt,
    Cdr,
    LedgerEvent,
    OverflowOffer,
    QueueMember,
    SmsMessage,
)
from ccboard.store.repository import Repository, parse_queue_log_line, queue_log_line

__all__ = [
    "AgentState",
    "Callback",
    "CampaignAttempt",
    "Cdr",
    "LedgerEvent",
    "OverflowOffer",
    "QueueMember",
    "Repository",
    "SmsMessage",
    "open_store",
    "parse_queue_log_line",
    "queue_log_line",
]


def open_store(url: str, migrate: bool = True, now: float = 0.0) -> Repository:
    """Open a store by URL ('sqlite:///path.db' or 'postgresql://...') and bring its schema up to date.

    `now` (s since the epoch) stamps any migration applied.
    """
    parts = urlsplit(url)
    repo: Repository
    if parts.scheme == "sqlite":
        if parts.netloc:
            raise StoreURLError(f"{url!r}: a sqlite URL has no host; write sqlite:///path.db", op="open")
        path = parts.path[1:] if parts.path.startswith("/") else parts.path
        if not path:
            raise StoreURLError(f"{url!r}: no database path after sqlite:///", op="open")
        opts = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        unknown = set(opts) - {"synchronous", "busy_timeout_ms"}
        if unknown:
            raise StoreURLError(f"{url!r}: unknown option(s) {', '.join(sorted(unknown))}", op="open")
        try:
            timeout = int(opts.get("busy_timeout_ms", "10000"))
        except ValueError:
            raise StoreURLError(f"{url!r}: busy_timeout_ms must be an integer", op="open") from None
        from ccboard.store.sqlite import SqliteRepository

        repo = SqliteRepository(path, opts.get("synchronous", "full"), timeout, url=url)
    elif parts.scheme in ("postgresql", "postgres"):
        from ccboard.store.postgres import PostgresRepository

        repo = PostgresRepository(url)
    else:
        raise StoreURLError(f"{url!r}: scheme {parts.scheme!r} is not sqlite or postgresql", op="open")
    if migrate:
        try:
            repo.migrate(now)
        except BaseException:
            repo.close()
            raise
    return repo
