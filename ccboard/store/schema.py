"""DDL per backend and the versioned migrations that bring a database up to date.

Each migration is (version, title, statements per backend); `schema_version` keeps one row per
applied version. Migrations run in one transaction under the backend's writer lock (SQLite:
BEGIN IMMEDIATE; PostgreSQL: an advisory transaction lock), so two servers starting together
migrate once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

SQLITE: Final = "sqlite"
POSTGRES: Final = "postgres"

# PostgreSQL advisory lock key for migrations ("ccbd" in ASCII).
MIGRATION_LOCK: Final = 0x63636264


@dataclass(frozen=True)
class Migration:
    version: int
    title: str
    sqlite: tuple[str, ...]
    postgres: tuple[str, ...]

    def statements(self, backend: str) -> tuple[str, ...]:
        return self.sqlite if backend == SQLITE else self.postgres


def _both(template: str) -> tuple[str, str]:
    """One table for both backends: {ID} = the auto id column, {REAL} = a float time."""
    lite = template.replace("{ID}", "INTEGER PRIMARY KEY AUTOINCREMENT").replace("{REAL}", "REAL")
    pg = template.replace("{ID}", "BIGSERIAL PRIMARY KEY").replace("{REAL}", "DOUBLE PRECISION")
    return lite, pg


_V1 = [
    _both(
        """CREATE TABLE ledger (
            id {ID},
            uid TEXT NOT NULL UNIQUE,
            time {REAL} NOT NULL,
            callid TEXT NOT NULL,
            queue TEXT NOT NULL,
            agent TEXT NOT NULL,
            event TEXT NOT NULL,
            data1 TEXT NOT NULL DEFAULT '', data2 TEXT NOT NULL DEFAULT '', data3 TEXT NOT NULL DEFAULT '',
            data4 TEXT NOT NULL DEFAULT '', data5 TEXT NOT NULL DEFAULT '',
            server TEXT NOT NULL DEFAULT '')"""
    ),
    _both("CREATE INDEX ledger_time ON ledger (time, id)"),
    _both("CREATE INDEX ledger_queue_time ON ledger (queue, time)"),
    _both("CREATE INDEX ledger_callid ON ledger (callid)"),
    _both(
        """CREATE TABLE cdr (
            uniqueid TEXT PRIMARY KEY,
            start_time {REAL} NOT NULL,
            end_time {REAL} NOT NULL,
            answer_time {REAL},
            src TEXT NOT NULL, dst TEXT NOT NULL, clid TEXT NOT NULL,
            channel TEXT NOT NULL, dstchannel TEXT NOT NULL,
            queue TEXT NOT NULL, agent TEXT NOT NULL,
            disposition TEXT NOT NULL,
            server TEXT NOT NULL)"""
    ),
    _both("CREATE INDEX cdr_start ON cdr (start_time)"),
    _both(
        """CREATE TABLE callbacks (
            id TEXT PRIMARY KEY,
            callid TEXT NOT NULL,
            queue TEXT NOT NULL,
            number TEXT NOT NULL,
            due {REAL} NOT NULL,
            created {REAL} NOT NULL,
            mode TEXT NOT NULL,
            state TEXT NOT NULL,
            attempts INTEGER NOT NULL,
            max_attempts INTEGER NOT NULL,
            outcome TEXT NOT NULL,
            context TEXT NOT NULL,
            sms TEXT NOT NULL,
            claimed_by TEXT NOT NULL,
            claim_until {REAL} NOT NULL,
            claim_seq INTEGER NOT NULL,
            finished {REAL} NOT NULL)"""
    ),
    _both("CREATE INDEX callbacks_due ON callbacks (state, due, id)"),
    _both(
        """CREATE TABLE campaign_attempts (
            campaign TEXT NOT NULL,
            contact TEXT NOT NULL,
            attempt INTEGER NOT NULL,
            number TEXT NOT NULL,
            due {REAL} NOT NULL,
            created {REAL} NOT NULL,
            state TEXT NOT NULL,
            outcome TEXT NOT NULL,
            claimed_by TEXT NOT NULL,
            claim_until {REAL} NOT NULL,
            claim_seq INTEGER NOT NULL,
            finished {REAL} NOT NULL,
            PRIMARY KEY (campaign, contact, attempt))"""
    ),
    _both("CREATE INDEX campaign_attempts_due ON campaign_attempts (state, due, campaign, contact, attempt)"),
    _both(
        """CREATE TABLE agent_state (
            agent TEXT PRIMARY KEY,
            state TEXT NOT NULL,
            since {REAL} NOT NULL,
            reason TEXT NOT NULL,
            server TEXT NOT NULL,
            callid TEXT NOT NULL,
            calls_taken INTEGER NOT NULL,
            last_call_end {REAL} NOT NULL,
            version INTEGER NOT NULL)"""
    ),
    _both(
        """CREATE TABLE queue_members (
            queue TEXT NOT NULL,
            agent TEXT NOT NULL,
            penalty INTEGER NOT NULL,
            paused INTEGER NOT NULL,
            reason TEXT NOT NULL,
            server TEXT NOT NULL,
            PRIMARY KEY (queue, agent))"""
    ),
    _both(
        """CREATE TABLE sms_outbox (
            id TEXT PRIMARY KEY,
            number TEXT NOT NULL,
            body TEXT NOT NULL,
            created {REAL} NOT NULL,
            not_before {REAL} NOT NULL,
            state TEXT NOT NULL,
            attempts INTEGER NOT NULL,
            max_attempts INTEGER NOT NULL,
            message_id TEXT NOT NULL,
            error TEXT NOT NULL,
            claimed_by TEXT NOT NULL,
            claim_until {REAL} NOT NULL,
            claim_seq INTEGER NOT NULL,
            finished {REAL} NOT NULL,
            ref TEXT NOT NULL)"""
    ),
    _both("CREATE INDEX sms_outbox_due ON sms_outbox (state, not_before, id)"),
]

_V2 = [
    _both(
        """CREATE TABLE journal (
            server TEXT NOT NULL,
            seq INTEGER NOT NULL,
            time {REAL} NOT NULL,
            core TEXT NOT NULL,
            kind TEXT NOT NULL,
            body TEXT NOT NULL,
            PRIMARY KEY (server, seq))"""
    ),
]

_V3 = [
    _both(
        """CREATE TABLE overflow_offers (
            id TEXT PRIMARY KEY,
            site TEXT NOT NULL,
            queue TEXT NOT NULL,
            callerid TEXT NOT NULL,
            offered {REAL} NOT NULL,
            waited {REAL} NOT NULL,
            state TEXT NOT NULL,
            taken_by TEXT NOT NULL,
            claimed_by TEXT NOT NULL,
            claim_until {REAL} NOT NULL,
            claim_seq INTEGER NOT NULL,
            finished {REAL} NOT NULL)"""
    ),
    _both("CREATE INDEX overflow_offers_due ON overflow_offers (state, offered, id)"),
    _both("CREATE INDEX overflow_offers_site ON overflow_offers (site, state)"),
]

_V4 = [
    ("ALTER TABLE callbacks ADD COLUMN priority INTEGER NOT NULL DEFAULT 0",) * 2,
]

_V5 = [
    _both(
        """CREATE TABLE journal_snapshots (
            server TEXT NOT NULL,
            seq INTEGER NOT NULL,
            time {REAL} NOT NULL,
            config TEXT NOT NULL,
            body TEXT NOT NULL,
            PRIMARY KEY (server, seq))"""
    ),
]

MIGRATIONS: Final[tuple[Migration, ...]] = (
    Migration(
        1,
        "ledger, cdr, callbacks, campaign attempts, agent state, queue members, sms outbox",
        tuple(lite for lite, _ in _V1),
        tuple(pg for _, pg in _V1),
    ),
    Migration(
        2,
        "journal: the inputs of each server's queue engine, for replay after a crash",
        tuple(lite for lite, _ in _V2),
        tuple(pg for _, pg in _V2),
    ),
    Migration(
        3,
        "overflow offers: callers one site offers to the others by live service level",
        tuple(lite for lite, _ in _V3),
        tuple(pg for _, pg in _V3),
    ),
    Migration(
        4,
        "callbacks.priority: a kept place's priority in line, so another server can take it over",
        tuple(lite for lite, _ in _V4),
        tuple(pg for _, pg in _V4),
    ),
    Migration(
        5,
        "journal snapshots: the queue cores after a journal entry, so a restart replays only the tail",
        tuple(lite for lite, _ in _V5),
        tuple(pg for _, pg in _V5),
    ),
)

LATEST: Final = MIGRATIONS[-1].version

VERSION_TABLE: Final = {
    SQLITE: "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, title TEXT NOT NULL,"
    " applied REAL NOT NULL)",
    POSTGRES: "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, title TEXT NOT NULL,"
    " applied DOUBLE PRECISION NOT NULL)",
}
