"""The repository API: one class of operations over either backend (SQLite or PostgreSQL).

Rules every method keeps:
- a write is one transaction, committed before the method returns, so the caller may
  acknowledge the action it records only after the call returns (write-ahead of the action);
- inserts are idempotent by key (ledger uid, CDR uniqueid, callback id, attempt key, SMS id,
  journal server/seq): retrying a write after a crash stores nothing twice; rows go in as one
  multi-row INSERT per table and transaction;
- claims of callbacks, campaign attempts, SMS and overflow offers are exactly-once: PostgreSQL takes rows
  `FOR UPDATE SKIP LOCKED`, SQLite holds its single writer lock (BEGIN IMMEDIATE). A claim is a
  lease: a worker that dies leaves rows that another worker may claim once `claim_until` passed,
  and finishing a row needs the `claim_seq` it was handed, so an outcome is recorded once.
  Claim many at once (limit=N) and finish them together (finish_callbacks) for throughput;
- the journal keeps each queue engine's inputs for replay after a crash (ccboard.queue.durable);
  journal snapshots keep its cores as they were after one entry, so a replay starts there.

Callers pass "now" (s since the epoch); the store reads no clock. One Repository owns one
database connection: use one per thread or process.
"""

from __future__ import annotations

import csv
import math
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from typing import IO, Any, Final, Protocol, TypeVar

from ccboard.errors import StoreConflictError, StoreError, StoreNotFoundError, StoreSchemaError
from ccboard.store import schema
from ccboard.store.records import (
    CANCELLED,
    CLAIMED,
    DONE,
    FAILED,
    PENDING,
    TAKEN,
    VOID,
    AgentState,
    Callback,
    CampaignAttempt,
    Cdr,
    JournalEntry,
    JournalSnapshot,
    LedgerEvent,
    OverflowOffer,
    QueueMember,
    SmsMessage,
    columns,
    from_row,
)

R = TypeVar("R")

ON_CALL: Final = "on_call"
LOGGED_OUT: Final = "logged_out"

# Tables that export_csv knows, with their record class and sort order.
_TABLES: Final[dict[str, tuple[type[Any], str]]] = {
    "ledger": (LedgerEvent, "time, id"),
    "cdr": (Cdr, "start_time, uniqueid"),
    "callbacks": (Callback, "created, id"),
    "campaign_attempts": (CampaignAttempt, "campaign, contact, attempt"),
    "agent_state": (AgentState, "agent"),
    "queue_members": (QueueMember, "queue, agent"),
    "sms_outbox": (SmsMessage, "created, id"),
    "journal": (JournalEntry, "server, seq"),
    "overflow_offers": (OverflowOffer, "offered, id"),
}


class Cursor(Protocol):
    """The DB-API cursor subset both drivers provide."""

    @property
    def rowcount(self) -> int: ...

    def execute(self, sql: Any, params: Any = ...) -> Any: ...

    def executemany(self, sql: Any, params: Any) -> Any: ...

    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...


class _Tx:
    """A transaction's cursor with `?` placeholders on both backends."""

    __slots__ = ("cur", "_sql")

    def __init__(self, cur: Cursor, sql: Callable[[str], str]) -> None:
        self.cur = cur
        self._sql = sql

    def run(self, sql: str, params: Sequence[Any] = ()) -> Cursor:
        self.cur.execute(self._sql(sql), tuple(params))
        return self.cur

    def many(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        if rows:
            self.cur.executemany(self._sql(sql), [tuple(r) for r in rows])

    def values(self, sql: str, rows: Sequence[Sequence[Any]], tail: str = "", chunk: int = 200) -> int:
        """Run `sql` with "{VALUES}" replaced by a multi-row VALUES list, `chunk` rows per statement
        (one statement instead of one per row: the server parses and plans it once); returns the
        rows the statements affected."""
        n = 0
        for i in range(0, len(rows), chunk):
            part = rows[i : i + chunk]
            marks = ", ".join("(" + ", ".join("?" for _ in part[0]) + ")" for _ in part)
            self.cur.execute(self._sql(sql.replace("{VALUES}", marks) + tail), [v for r in part for v in r])
            n += max(self.cur.rowcount, 0)
        return n

    def rows(self, cls: type[R], sql: str, params: Sequence[Any] = ()) -> list[R]:
        return [from_row(cls, r) for r in self.run(sql, params).fetchall()]


def _cols(cls: type[Any], prefix: str = "") -> str:
    return ", ".join(prefix + c for c in columns(cls))


def _insert(table: str, cls: type[Any], key: str) -> str:
    """INSERT of rows of `cls` (the rows' marks in place of {VALUES}), skipping stored keys."""
    cols = columns(cls)
    if cls is LedgerEvent:
        cols = tuple(c for c in cols if c != "id")  # the store numbers ledger rows
    return f"INSERT INTO {table} ({', '.join(cols)}) VALUES {{VALUES}} ON CONFLICT ({key}) DO NOTHING"


def _values(rec: Any, drop_id: bool = False) -> tuple[Any, ...]:
    cols = columns(type(rec))
    return tuple(getattr(rec, c) for c in cols if not (drop_id and c == "id"))


_INS_LEDGER: Final = _insert("ledger", LedgerEvent, "uid")
_INS_CDR: Final = _insert("cdr", Cdr, "uniqueid")
_INS_CALLBACK: Final = _insert("callbacks", Callback, "id")
_INS_ATTEMPT: Final = _insert("campaign_attempts", CampaignAttempt, "campaign, contact, attempt")
_INS_SMS: Final = _insert("sms_outbox", SmsMessage, "id")
_INS_JOURNAL: Final = _insert("journal", JournalEntry, "server, seq")
_INS_SNAPSHOT: Final = _insert("journal_snapshots", JournalSnapshot, "server, seq")
_INS_OFFER: Final = _insert("overflow_offers", OverflowOffer, "id")


def queue_log_line(ev: LedgerEvent) -> str:
    """One line of Asterisk's queue_log text: epoch|callid|queue|agent|event|data1|...

    Data fields stop at the last non-empty one, as Asterisk writes them; an event without data
    still ends in one empty field ("...|QUEUESTART|").
    """
    data = list(ev.data)
    while len(data) > 1 and not data[-1]:
        data.pop()
    fields = [str(int(math.floor(ev.time))), ev.callid, ev.queue, ev.agent, ev.event, *data]
    for f in fields:
        if "|" in f or "\n" in f:
            raise StoreError(f"field {f!r} holds '|' or a newline", "ledger", ev.uid, "export queue_log")
    return "|".join(fields)


def parse_queue_log_line(line: str) -> LedgerEvent:
    """Read one queue_log line back (time to the second; the uid is derived from the line)."""
    parts = line.rstrip("\n").split("|")
    if len(parts) < 5 or not parts[0].isdigit():
        raise StoreError(f"not a queue_log line: {line!r}", "ledger", op="parse queue_log")
    d = (parts[5:] + [""] * 5)[:5]
    return LedgerEvent(
        float(parts[0]), parts[1], parts[2], parts[3], parts[4], d[0], d[1], d[2], d[3], d[4],
        uid=line.rstrip("\n"),
    )  # fmt: skip


class Repository(ABC):
    """Ledger, CDRs, callbacks, campaign attempts, agent state, queue membership and SMS outbox."""

    backend: str
    url: str

    # -- backend hooks ------------------------------------------------------------------------
    @abstractmethod
    def _transaction(self, write: bool, single: bool = False) -> AbstractContextManager[Cursor]:
        """A cursor inside one transaction (write: holding the writer lock); commits on exit.

        single: the caller runs exactly one statement, which is atomic by itself, so no explicit
        BEGIN/COMMIT is sent (two round trips fewer on PostgreSQL).
        """

    @abstractmethod
    def _translate(self, sql: str) -> str:
        """Our `?` SQL in the driver's placeholder style."""

    #: Appended to the row selection of a claim (PostgreSQL: FOR UPDATE SKIP LOCKED).
    _lock_rows: str = ""
    #: The driver's base exception class.
    _driver_error: type[BaseException] = Exception

    @abstractmethod
    def close(self) -> None:
        """Close the connection (idempotent)."""

    def __enter__(self) -> Repository:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    #: Claims look for expired claims (dead workers) at most this often, in s of the callers' "now".
    reap_interval_s: float = 1.0

    @contextmanager
    def tx(
        self, op: str, table: str = "", key: str = "", write: bool = True, single: bool = False
    ) -> Iterator[_Tx]:
        """One transaction; a driver error becomes StoreError naming the operation, table and row."""
        try:
            with self._transaction(write, single) as cur:
                yield _Tx(cur, self._translate)
        except StoreError:
            raise
        except self._driver_error as exc:
            raise StoreError(f"{self.backend}: {exc}", table, key, op) from exc

    # -- schema -------------------------------------------------------------------------------
    def migrate(self, now: float = 0.0) -> int:
        """Apply the migrations this database lacks; returns the schema version now in force."""
        with self.tx("migrate", "schema_version") as t:
            self._lock_migrations(t)
            t.run(schema.VERSION_TABLE[self.backend])
            row = t.run("SELECT MAX(version) FROM schema_version").fetchone()
            have = int(row[0] or 0)
            if have > schema.LATEST:
                raise StoreSchemaError(
                    f"database is at schema version {have}, this code knows up to {schema.LATEST}",
                    "schema_version",
                    str(have),
                    "migrate",
                )
            for m in schema.MIGRATIONS:
                if m.version <= have:
                    continue
                for stmt in m.statements(self.backend):
                    t.run(stmt)
                t.run(
                    "INSERT INTO schema_version (version, title, applied) VALUES (?, ?, ?)",
                    (m.version, m.title, now),
                )
                have = m.version
        return have

    def _lock_migrations(self, t: _Tx) -> None:  # noqa: B027 - a hook, empty on SQLite
        """Serialise migrations of servers starting together (SQLite's write lock already does)."""

    def schema_version(self) -> int:
        with self.tx("read", "schema_version", write=False) as t:
            return int(t.run("SELECT MAX(version) FROM schema_version").fetchone()[0] or 0)

    # -- writes in one transaction ----------------------------------------------------------------
    def record(
        self,
        events: Sequence[LedgerEvent] = (),
        cdrs: Sequence[Cdr] = (),
        callbacks: Sequence[Callback] = (),
        attempts: Sequence[CampaignAttempt] = (),
        sms: Sequence[SmsMessage] = (),
        journal: Sequence[JournalEntry] = (),
        finishes: Sequence[tuple[Callback, str, float | None]] = (),
        finished_at: float = 0.0,
    ) -> int:
        """Write ledger events, CDRs, new callbacks, new attempts, SMS and journal entries in one
        transaction, and in it record the outcomes of claimed callbacks (`finishes`, as
        finish_callbacks, at `finished_at`).

        Idempotent: rows whose key is already stored are left as they are. A finish whose claim no
        longer holds (expired and taken over) is skipped, not an error: the rest still commits, so
        a queue engine's journal stays whole. Returns how many finishes held.
        """
        key = (events[0].callid if events else cdrs[0].uniqueid if cdrs else "") if (events or cdrs) else ""
        with self.tx("record", "ledger", key) as t:
            self._record(t, events, cdrs, callbacks, attempts, sms, journal)
            return self._finish_callbacks(t, finishes, finished_at)[1] if finishes else 0

    def record_dialling(
        self,
        dialling: Sequence[Callback],
        until: float,
        events: Sequence[LedgerEvent] = (),
        callbacks: Sequence[Callback] = (),
        sms: Sequence[SmsMessage] = (),
        journal: Sequence[JournalEntry] = (),
        finishes: Sequence[tuple[Callback, str, float | None]] = (),
        finished_at: float = 0.0,
    ) -> tuple[int, list[str]]:
        """record(), and in the same transaction re-check the claims of `dialling` (claimed rows a
        decision is about to dial): each that still holds is renewed until `until` (shared clock s).

        Returns (finishes held, ids of the `dialling` rows whose claim no longer holds: expired and
        taken by another worker, so this one must not dial them)."""
        with self.tx("record", "ledger", events[0].callid if events else "") as t:
            self._record(t, events, (), callbacks, (), sms, journal)
            held = self._finish_callbacks(t, finishes, finished_at)[1] if finishes else 0
            lost = _renew_claims(t, dialling, until)
        return held, lost

    def renew_callbacks(self, held: Sequence[Callback], until: float) -> list[str]:
        """Extend the claims of `held` (rows as claimed) until `until` (shared clock s), one
        transaction; returns the ids whose claim no longer holds (expired and taken over, or
        finished). A worker keeps its kept-place rows this way while they wait in its line."""
        if not held:
            return []
        with self.tx("renew", "callbacks", held[0].id) as t:
            return _renew_claims(t, held, until)

    def _record(
        self,
        t: _Tx,
        events: Sequence[LedgerEvent] = (),
        cdrs: Sequence[Cdr] = (),
        callbacks: Sequence[Callback] = (),
        attempts: Sequence[CampaignAttempt] = (),
        sms: Sequence[SmsMessage] = (),
        journal: Sequence[JournalEntry] = (),
    ) -> None:
        t.values(_INS_JOURNAL, [_values(j) for j in journal])
        t.values(_INS_LEDGER, [_values(e, drop_id=True) for e in events])
        t.values(_INS_CDR, [_values(c) for c in cdrs])
        t.values(_INS_CALLBACK, [_values(c) for c in callbacks])
        t.values(_INS_ATTEMPT, [_values(a) for a in attempts])
        t.values(_INS_SMS, [_values(m) for m in sms])

    def append(self, *events: LedgerEvent) -> None:
        """Append ledger events (one transaction)."""
        self.record(events=events)

    def add_cdr(self, cdr: Cdr, events: Sequence[LedgerEvent] = ()) -> None:
        """Store a CDR and the call's last events together."""
        self.record(events=events, cdrs=(cdr,))

    # -- ledger and CDR reads ---------------------------------------------------------------------
    def ledger(
        self,
        since: float | None = None,
        until: float | None = None,
        queue: str | None = None,
        callid: str | None = None,
        events: Iterable[str] | None = None,
    ) -> list[LedgerEvent]:
        """Ledger rows with since <= time < until, in order of (time, id)."""
        where, params = self._where(since, until, "time", queue=queue, callid=callid)
        names = list(events) if events is not None else None
        if names is not None:
            where.append(f"event IN ({', '.join('?' for _ in names)})" if names else "1 = 0")
            params.extend(names)
        sql = f"SELECT {_cols(LedgerEvent)} FROM ledger {self._clause(where)} ORDER BY time, id"
        with self.tx("read", "ledger", write=False) as t:
            return t.rows(LedgerEvent, sql, params)

    def event_counts(
        self, since: float | None = None, until: float | None = None, queue: str | None = None
    ) -> dict[str, int]:
        """How many ledger rows of each event name (since <= time < until)."""
        where, params = self._where(since, until, "time", queue=queue)
        sql = f"SELECT event, COUNT(*) FROM ledger {self._clause(where)} GROUP BY event"
        with self.tx("read", "ledger", write=False) as t:
            return {str(e): int(n) for e, n in t.run(sql, params).fetchall()}

    def cdrs(
        self, since: float | None = None, until: float | None = None, queue: str | None = None
    ) -> list[Cdr]:
        """CDRs with since <= start_time < until, by start time."""
        where, params = self._where(since, until, "start_time", queue=queue)
        sql = f"SELECT {_cols(Cdr)} FROM cdr {self._clause(where)} ORDER BY start_time, uniqueid"
        with self.tx("read", "cdr", write=False) as t:
            return t.rows(Cdr, sql, params)

    def count(self, table: str) -> int:
        """Rows in one of the store's tables."""
        if table not in _TABLES:
            raise StoreError(f"no table {table!r} (have {', '.join(_TABLES)})", table, op="count")
        with self.tx("count", table, write=False) as t:
            return int(t.run(f"SELECT COUNT(*) FROM {table}").fetchone()[0])

    @staticmethod
    def _where(
        since: float | None, until: float | None, col: str, **eq: str | None
    ) -> tuple[list[str], list[Any]]:
        where: list[str] = []
        params: list[Any] = []
        if since is not None:
            where.append(f"{col} >= ?")
            params.append(since)
        if until is not None:
            where.append(f"{col} < ?")
            params.append(until)
        for name, value in eq.items():
            if value is not None:
                where.append(f"{name} = ?")
                params.append(value)
        return where, params

    @staticmethod
    def _clause(where: list[str]) -> str:
        return ("WHERE " + " AND ".join(where)) if where else ""

    # -- exports ------------------------------------------------------------------------------
    def export_queue_log(self, out: IO[str], since: float | None = None, until: float | None = None) -> int:
        """Write the ledger as Asterisk queue_log text lines; returns the number of lines."""
        n = 0
        for ev in self.ledger(since, until):
            out.write(queue_log_line(ev) + "\n")
            n += 1
        return n

    def export_csv(self, table: str, out: IO[str]) -> int:
        """Write a table as CSV with a header row of column names; returns the data rows written."""
        if table not in _TABLES:
            raise StoreError(f"no table {table!r} (have {', '.join(_TABLES)})", table, op="export csv")
        cls, order = _TABLES[table]
        w = csv.writer(out, lineterminator="\n")
        w.writerow(columns(cls))
        with self.tx("export csv", table, write=False) as t:
            rows = t.run(f"SELECT {_cols(cls)} FROM {table} ORDER BY {order}").fetchall()
        for r in rows:
            w.writerow(["" if v is None else repr(v) if isinstance(v, float) else v for v in r])
        return len(rows)

    # -- claims -------------------------------------------------------------------------------
    def _claim(
        self,
        table: str,
        cls: type[R],
        keys: str,
        due: str,
        worker: str,
        now: float,
        limit: int,
        lease: float,
        extra: str = "",
        extra_params: Sequence[Any] = (),
    ) -> list[R]:
        if limit < 1:
            raise StoreError(f"limit must be >= 1, got {limit}", table, op="claim")
        if not worker:
            raise StoreError("worker name is empty", table, op="claim")
        key_cols = [k.strip() for k in keys.split(",")]
        match = " AND ".join(f"{table}.{k} = picked.{k}" for k in key_cols)
        # Expired claims (their workers died) go back to pending in a separate index range scan,
        # at most every reap_interval_s: one OR over both states would scan the whole table.
        reaps: dict[str, float] = self.__dict__.setdefault("_reaped", {})
        if now - reaps.get(table, -math.inf) >= self.reap_interval_s:
            with self.tx("reap expired claims", table, worker, single=True) as r:
                r.run(
                    f"WITH picked AS (SELECT {keys} FROM {table} WHERE state = '{CLAIMED}'"
                    f" AND claim_until < ? {self._lock_rows})"
                    f" UPDATE {table} SET state = '{PENDING}' FROM picked WHERE {match}",
                    (now,),
                )
            reaps[table] = now
        sql = (
            f"WITH picked AS (SELECT {keys} FROM {table} WHERE state = '{PENDING}' AND {due} <= ?{extra}"
            f" ORDER BY {due}, {keys} LIMIT ? {self._lock_rows})"
            f" UPDATE {table} SET state = '{CLAIMED}', claimed_by = ?, claim_until = ?,"
            " claim_seq = claim_seq + 1"
            f" FROM picked WHERE {match} RETURNING {_cols(cls, table + '.')}"
        )
        with self.tx("claim", table, worker, single=True) as t:
            got = t.rows(cls, sql, (now, *extra_params, limit, worker, now + lease))
        return sorted(got, key=lambda r: (getattr(r, due), *(getattr(r, k) for k in key_cols)))

    def _finish(
        self, t: _Tx, table: str, keys: dict[str, Any], rec: Any, sets: dict[str, Any], op: str
    ) -> None:
        """Update a claimed row if this worker's claim still holds, else StoreConflictError."""
        where = " AND ".join(f"{k} = ?" for k in keys)
        assign = ", ".join(f"{k} = ?" for k in sets)
        cur = t.run(
            f"UPDATE {table} SET {assign} WHERE {where} AND state = ? AND claimed_by = ? AND claim_seq = ?",
            (*sets.values(), *keys.values(), CLAIMED, rec.claimed_by, rec.claim_seq),
        )
        if cur.rowcount != 1:
            key = "/".join(str(v) for v in keys.values())
            raise StoreConflictError(
                f"claim {rec.claim_seq} by {rec.claimed_by!r} no longer holds"
                " (expired and taken over, or finished)",
                table,
                key,
                op,
            )

    def release_claims(self, worker: str) -> int:
        """Return every row `worker` holds to pending (its restart after a crash); returns the count."""
        n = 0
        with self.tx("release claims", "callbacks", worker) as t:
            for table in ("callbacks", "campaign_attempts", "sms_outbox", "overflow_offers"):
                cur = t.run(
                    f"UPDATE {table} SET state = ?, claimed_by = '', claim_until = 0"
                    " WHERE state = ? AND claimed_by = ?",
                    (PENDING, CLAIMED, worker),
                )
                n += max(cur.rowcount, 0)
        return n

    # -- callbacks ----------------------------------------------------------------------------
    def add_callback(
        self, cb: Callback, events: Sequence[LedgerEvent] = (), sms: Sequence[SmsMessage] = ()
    ) -> None:
        """Store a callback promise with its ledger events and SMS confirmation (one transaction)."""
        with self.tx("add", "callbacks", cb.id) as t:
            self._record(t, events=events, callbacks=(cb,), sms=sms)

    def claim_callbacks(
        self,
        worker: str,
        now: float,
        limit: int = 1,
        lease: float = 120.0,
        queues: Sequence[str] | None = None,
    ) -> list[Callback]:
        """Claim up to `limit` callbacks due by `now` (or whose claim expired) for `lease` seconds,
        of `queues` only if given (those this worker's agents serve)."""
        if queues is None:
            return self._claim("callbacks", Callback, "id", "due", worker, now, limit, lease)
        if not queues:
            return []
        extra = f" AND queue IN ({', '.join('?' * len(queues))})"
        return self._claim(
            "callbacks", Callback, "id", "due", worker, now, limit, lease, extra, tuple(queues)
        )

    def finish_callback(
        self,
        cb: Callback,
        outcome: str,
        now: float,
        retry_at: float | None = None,
        events: Sequence[LedgerEvent] = (),
    ) -> Callback:
        """Record the outcome of one dial of a claimed callback, with its ledger events.

        retry_at None: the callback is done. Otherwise it is due again at retry_at, or failed
        once max_attempts dials were made. Raises StoreConflictError if the claim no longer holds.
        """
        done, sets = _callback_finished(cb, outcome, now, retry_at)
        with self.tx("finish", "callbacks", cb.id) as t:
            self._finish(t, "callbacks", {"id": cb.id}, cb, sets, "finish")
            self._record(t, events=events)
        return done

    def finish_callbacks(
        self,
        results: Sequence[tuple[Callback, str, float | None]],
        now: float,
        events: Sequence[LedgerEvent] = (),
    ) -> list[Callback]:
        """Record the outcomes of many claimed callbacks, and their ledger events, in one transaction.

        Each result is (callback as claimed, outcome, retry_at) with finish_callback's meaning. All
        or nothing: if any claim no longer holds, StoreConflictError and nothing is stored. One
        UPDATE for all of them (joined to a VALUES list) and one INSERT of the events, so a worker
        that claimed N rows at once pays a few round trips for all N instead of a few per row.
        """
        if not results:
            return []
        with self.tx("finish", "callbacks", results[0][0].id) as t:
            done, done_rows = self._finish_callbacks(t, results, now)
            if done_rows != len(results):
                raise StoreConflictError(
                    f"{len(results) - done_rows} of {len(results)} claims no longer hold"
                    " (expired and taken over, or finished); nothing stored",
                    "callbacks",
                    results[0][0].id,
                    "finish",
                )
            self._record(t, events=events)
        return done

    def _finish_callbacks(
        self, t: _Tx, results: Sequence[tuple[Callback, str, float | None]], now: float
    ) -> tuple[list[Callback], int]:
        """The finished records and how many rows the UPDATE changed (those whose claim held)."""
        done: list[Callback] = []
        params: list[tuple[Any, ...]] = []
        for cb, outcome, retry_at in results:
            new, sets = _callback_finished(cb, outcome, now, retry_at)
            done.append(new)
            params.append((*sets.values(), cb.id, CLAIMED, cb.claimed_by, cb.claim_seq))
        # one UPDATE joined to a VALUES list (v.column1.. on both backends), not one per row
        n = len(_CALLBACK_FINISH_COLS)
        assign = ", ".join(f"{k} = v.column{i + 1}" for i, k in enumerate(_CALLBACK_FINISH_COLS))
        rows = t.values(
            f"UPDATE callbacks SET {assign} FROM (VALUES {{VALUES}}) AS v"
            f" WHERE callbacks.id = v.column{n + 1} AND callbacks.state = v.column{n + 2}"
            f" AND callbacks.claimed_by = v.column{n + 3} AND callbacks.claim_seq = v.column{n + 4}",
            params,
        )
        return done, rows

    def cancel_callback(self, callback_id: str, now: float, events: Sequence[LedgerEvent] = ()) -> bool:
        """Cancel a pending callback (the caller got through another way); False if not pending."""
        with self.tx("cancel", "callbacks", callback_id) as t:
            cur = t.run(
                "UPDATE callbacks SET state = ?, finished = ? WHERE id = ? AND state = ?",
                (CANCELLED, now, callback_id, PENDING),
            )
            ok = cur.rowcount == 1
            if ok:
                self._record(t, events=events)
        return ok

    # -- overflow offers between sites -----------------------------------------------------------
    def offer_overflow(self, offer: OverflowOffer, events: Sequence[LedgerEvent] = ()) -> bool:
        """Offer a waiting caller to the other sites (with ledger events); False if already offered."""
        with self.tx("offer", "overflow_offers", offer.id) as t:
            n = t.values(_INS_OFFER, [_values(offer)])
            self._record(t, events=events)
        return n == 1

    def claim_overflow(
        self,
        worker: str,
        now: float,
        limit: int = 1,
        lease: float = 30.0,
        queues: Sequence[str] | None = None,
    ) -> list[OverflowOffer]:
        """Claim up to `limit` offers of other sites (of `queues` if given), oldest first, each by
        one site only (SKIP LOCKED); then take_overflow the ones it can answer."""
        extra, params = " AND site <> ?", [worker]
        if queues is not None:
            if not queues:
                return []
            extra += f" AND queue IN ({', '.join('?' * len(queues))})"
            params += list(queues)
        return self._claim(
            "overflow_offers", OverflowOffer, "id", "offered", worker, now, limit, lease, extra, params
        )

    def take_overflow(self, offer: OverflowOffer, now: float) -> bool:
        """The claiming site will answer the caller; False if its claim no longer holds (the
        offer was withdrawn, or the claim expired and another site has it)."""
        with self.tx("take", "overflow_offers", offer.id) as t:
            cur = t.run(
                "UPDATE overflow_offers SET state = ?, taken_by = claimed_by, finished = ?"
                " WHERE id = ? AND state = ? AND claimed_by = ? AND claim_seq = ?",
                (TAKEN, now, offer.id, CLAIMED, offer.claimed_by, offer.claim_seq),
            )
            return cur.rowcount == 1

    def settle_overflow(
        self, offer_id: str, now: float, sent: bool, events: Sequence[LedgerEvent] = ()
    ) -> str:
        """The offering site settles its offer: `sent` (the caller went to the taking site: taken
        -> done) or not (answered or hung up at home: pending/claimed -> cancelled, taken -> void).
        Returns the state now stored ("" if there was nothing to settle)."""
        with self.tx("settle", "overflow_offers", offer_id) as t:
            lock = " FOR UPDATE" if self._lock_rows else ""  # wait for a claim in progress
            row = t.run("SELECT state FROM overflow_offers WHERE id = ?" + lock, (offer_id,))
            got = row.fetchone()
            state = str(got[0]) if got else ""
            if sent and state == TAKEN:
                new = DONE
            elif not sent and state in (PENDING, CLAIMED):
                new = CANCELLED
            elif not sent and state == TAKEN:
                new = VOID
            else:
                return ""
            t.run("UPDATE overflow_offers SET state = ?, finished = ? WHERE id = ?", (new, now, offer_id))
            self._record(t, events=events)
        return new

    def overflow_offers(
        self, state: str | None = None, site: str | None = None, taken_by: str | None = None
    ) -> list[OverflowOffer]:
        """Overflow offers (optionally of one state / offering site / taking site), oldest first."""
        where, params = self._where(None, None, "offered", state=state, site=site, taken_by=taken_by)
        with self.tx("read", "overflow_offers", write=False) as t:
            return t.rows(
                OverflowOffer,
                f"SELECT {_cols(OverflowOffer)} FROM overflow_offers {self._clause(where)}"
                " ORDER BY offered, id",
                params,
            )

    def callback(self, callback_id: str) -> Callback:
        with self.tx("read", "callbacks", callback_id, write=False) as t:
            got = t.rows(Callback, f"SELECT {_cols(Callback)} FROM callbacks WHERE id = ?", (callback_id,))
        if not got:
            raise StoreNotFoundError("no such callback", "callbacks", callback_id, "read")
        return got[0]

    def callbacks(self, state: str | None = None, queue: str | None = None) -> list[Callback]:
        """Callbacks (optionally of one state / queue), by due time."""
        where, params = self._where(None, None, "due", state=state, queue=queue)
        with self.tx("read", "callbacks", write=False) as t:
            return t.rows(
                Callback,
                f"SELECT {_cols(Callback)} FROM callbacks {self._clause(where)} ORDER BY due, id",
                params,
            )

    # -- campaign attempts --------------------------------------------------------------------
    def add_attempts(self, attempts: Sequence[CampaignAttempt]) -> None:
        """Store new attempts (a campaign list loaded), idempotently, in one transaction."""
        with self.tx("add", "campaign_attempts", attempts[0].id if attempts else "") as t:
            self._record(t, attempts=attempts)

    def claim_attempts(
        self, worker: str, now: float, limit: int = 1, lease: float = 120.0, campaign: str | None = None
    ) -> list[CampaignAttempt]:
        """Claim up to `limit` due attempts (optionally of one campaign) for `lease` seconds."""
        extra, params = ("", ()) if campaign is None else (" AND campaign = ?", (campaign,))
        return self._claim(
            "campaign_attempts", CampaignAttempt, "campaign, contact, attempt", "due",
            worker, now, limit, lease, extra, params,
        )  # fmt: skip

    def finish_attempt(
        self,
        a: CampaignAttempt,
        outcome: str,
        now: float,
        next_due: float | None = None,
        events: Sequence[LedgerEvent] = (),
    ) -> CampaignAttempt | None:
        """Record a claimed attempt's outcome; with next_due, the next attempt is created in the
        same transaction and returned. Raises StoreConflictError if the claim no longer holds."""
        keys = {"campaign": a.campaign, "contact": a.contact, "attempt": a.attempt}
        sets = {"state": DONE, "outcome": outcome, "finished": now, "claimed_by": "", "claim_until": 0.0}
        nxt = (
            None
            if next_due is None
            else CampaignAttempt(a.campaign, a.contact, a.attempt + 1, a.number, next_due, now)
        )
        with self.tx("finish", "campaign_attempts", a.id) as t:
            self._finish(t, "campaign_attempts", keys, a, sets, "finish")
            self._record(t, events=events, attempts=(nxt,) if nxt else ())
        return nxt

    def attempts(self, campaign: str | None = None, state: str | None = None) -> list[CampaignAttempt]:
        where, params = self._where(None, None, "due", campaign=campaign, state=state)
        sql = f"SELECT {_cols(CampaignAttempt)} FROM campaign_attempts {self._clause(where)}"
        with self.tx("read", "campaign_attempts", write=False) as t:
            return t.rows(CampaignAttempt, sql + " ORDER BY campaign, contact, attempt", params)

    # -- agent state (shared by every server) -------------------------------------------------
    def set_agent_state(
        self,
        agent: str,
        state: str,
        now: float,
        reason: str = "",
        server: str = "",
        callid: str = "",
        expect: Iterable[str] | None = None,
        events: Sequence[LedgerEvent] = (),
    ) -> AgentState | None:
        """Move an agent to `state`; with `expect`, only from one of those states (compare-and-set).

        Returns the new state, or None if the agent was not in an expected state (another server
        got there first: e.g. two servers ringing one available agent). Entering on_call counts a
        call; leaving it stamps last_call_end. An unknown agent starts as logged_out.
        """
        allowed = None if expect is None else set(expect)
        with self.tx("set state", "agent_state", agent) as t:
            t.run(
                "INSERT INTO agent_state (agent, state, since, reason, server, callid, calls_taken,"
                " last_call_end, version) VALUES (?, ?, ?, '', '', '', 0, 0, 0)"
                " ON CONFLICT (agent) DO NOTHING",
                (agent, LOGGED_OUT, now),
            )
            lock = " FOR UPDATE" if self._lock_rows else ""
            cur = self._agent(t, agent, lock)
            if allowed is not None and cur.state not in allowed:
                return None
            calls = cur.calls_taken + (1 if state == ON_CALL and cur.state != ON_CALL else 0)
            last_end = now if cur.state == ON_CALL and state != ON_CALL else cur.last_call_end
            since = cur.since if state == cur.state else now
            new = AgentState(agent, state, since, reason, server, callid, calls, last_end, cur.version + 1)
            t.run(
                "UPDATE agent_state SET state = ?, since = ?, reason = ?, server = ?, callid = ?,"
                " calls_taken = ?, last_call_end = ?, version = ? WHERE agent = ? AND version = ?",
                (state, since, reason, server, callid, calls, last_end, new.version, agent, cur.version),
            )
            self._record(t, events=events)
        return new

    def _agent(self, t: _Tx, agent: str, lock: str = "") -> AgentState:
        got = t.rows(
            AgentState, f"SELECT {_cols(AgentState)} FROM agent_state WHERE agent = ?{lock}", (agent,)
        )
        if not got:
            raise StoreNotFoundError("no such agent", "agent_state", agent, "read")
        return got[0]

    def agent_state(self, agent: str) -> AgentState:
        with self.tx("read", "agent_state", agent, write=False) as t:
            return self._agent(t, agent)

    def agent_states(self, state: str | None = None) -> list[AgentState]:
        where, params = self._where(None, None, "since", state=state)
        with self.tx("read", "agent_state", write=False) as t:
            return t.rows(
                AgentState,
                f"SELECT {_cols(AgentState)} FROM agent_state {self._clause(where)} ORDER BY agent",
                params,
            )

    # -- queue membership ---------------------------------------------------------------------
    def add_member(self, m: QueueMember) -> None:
        """Add an agent to a queue, or update its penalty/pause if already a member."""
        with self.tx("add", "queue_members", f"{m.queue}/{m.agent}") as t:
            t.run(
                "INSERT INTO queue_members (queue, agent, penalty, paused, reason, server)"
                " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (queue, agent) DO UPDATE SET"
                " penalty = excluded.penalty, paused = excluded.paused,"
                " reason = excluded.reason, server = excluded.server",
                (m.queue, m.agent, m.penalty, int(m.paused), m.reason, m.server),
            )

    def remove_member(self, queue: str, agent: str) -> bool:
        with self.tx("remove", "queue_members", f"{queue}/{agent}") as t:
            return (
                t.run("DELETE FROM queue_members WHERE queue = ? AND agent = ?", (queue, agent)).rowcount == 1
            )

    def set_paused(self, agent: str, paused: bool, reason: str = "", queue: str | None = None) -> int:
        """Pause or unpause an agent in one queue or all of theirs; returns memberships changed."""
        where, params = self._where(None, None, "", agent=agent, queue=queue)
        with self.tx("pause", "queue_members", agent) as t:
            cur = t.run(
                f"UPDATE queue_members SET paused = ?, reason = ? {self._clause(where)}",
                (int(paused), reason, *params),
            )
            return max(cur.rowcount, 0)

    def members(self, queue: str | None = None, agent: str | None = None) -> list[QueueMember]:
        where, params = self._where(None, None, "", queue=queue, agent=agent)
        sql = f"SELECT {_cols(QueueMember)} FROM queue_members {self._clause(where)}"
        sql += " ORDER BY queue, penalty, agent"
        with self.tx("read", "queue_members", write=False) as t:
            rows = t.run(sql, params).fetchall()
        return [QueueMember(q, a, int(p), bool(pa), r, s) for q, a, p, pa, r, s in rows]

    # -- engine journal -----------------------------------------------------------------------
    def journal(self, server: str, after: int = 0) -> list[JournalEntry]:
        """A server's journal entries with seq > after, in order."""
        with self.tx("read", "journal", server, write=False) as t:
            return t.rows(
                JournalEntry,
                f"SELECT {_cols(JournalEntry)} FROM journal WHERE server = ? AND seq > ? ORDER BY seq",
                (server, after),
            )

    def save_snapshot(self, snap: JournalSnapshot) -> None:
        """Store a snapshot of a server's cores (idempotent by server/seq)."""
        with self.tx("add", "journal_snapshots", f"{snap.server}/{snap.seq}") as t:
            t.values(_INS_SNAPSHOT, [_values(snap)])

    def latest_snapshot(self, server: str, config: str, upto: int | None = None) -> JournalSnapshot | None:
        """The server's snapshot with the highest seq (<= upto if given) taken under `config`."""
        sql = f"SELECT {_cols(JournalSnapshot)} FROM journal_snapshots WHERE server = ? AND config = ?"
        params: tuple[Any, ...] = (server, config)
        if upto is not None:
            sql, params = sql + " AND seq <= ?", (*params, upto)
        with self.tx("read", "journal_snapshots", server, write=False) as t:
            got = t.rows(JournalSnapshot, sql + " ORDER BY seq DESC LIMIT 1", params)
        return got[0] if got else None

    def journal_seq(self, server: str) -> int:
        """The last seq a server's journal holds (0 if none)."""
        with self.tx("read", "journal", server, write=False) as t:
            row = t.run("SELECT MAX(seq) FROM journal WHERE server = ?", (server,)).fetchone()
        return int(row[0] or 0)

    # -- SMS outbox ---------------------------------------------------------------------------
    def enqueue_sms(self, msg: SmsMessage, events: Sequence[LedgerEvent] = ()) -> None:
        with self.tx("enqueue", "sms_outbox", msg.id) as t:
            self._record(t, events=events, sms=(msg,))

    def claim_sms(self, worker: str, now: float, limit: int = 10, lease: float = 60.0) -> list[SmsMessage]:
        """Claim up to `limit` messages whose not_before has come, for `lease` seconds."""
        return self._claim("sms_outbox", SmsMessage, "id", "not_before", worker, now, limit, lease)

    def finish_sms(
        self,
        msg: SmsMessage,
        now: float,
        message_id: str = "",
        error: str = "",
        retry_at: float | None = None,
    ) -> str:
        """Record a send: sent (message_id), or failed (error) and due again at retry_at while
        attempts remain. Returns the new state."""
        attempts = msg.attempts + 1
        if not error:
            state = DONE
        elif retry_at is not None and attempts < msg.max_attempts:
            state = PENDING
        else:
            state = FAILED
        sets = {
            "state": state,
            "attempts": attempts,
            "message_id": message_id,
            "error": error,
            "not_before": retry_at if state == PENDING and retry_at is not None else msg.not_before,
            "finished": 0.0 if state == PENDING else now,
            "claimed_by": "",
            "claim_until": 0.0,
        }
        with self.tx("finish", "sms_outbox", msg.id) as t:
            self._finish(t, "sms_outbox", {"id": msg.id}, msg, sets, "finish")
        return state

    def sms_messages(self, state: str | None = None) -> list[SmsMessage]:
        where, params = self._where(None, None, "", state=state)
        with self.tx("read", "sms_outbox", write=False) as t:
            sql = f"SELECT {_cols(SmsMessage)} FROM sms_outbox {self._clause(where)} ORDER BY created, id"
            return t.rows(SmsMessage, sql, params)


_CALLBACK_FINISH_COLS: Final = (
    "state", "attempts", "outcome", "due", "finished", "claimed_by", "claim_until",
)  # fmt: skip


def _callback_finished(
    cb: Callback, outcome: str, now: float, retry_at: float | None
) -> tuple[Callback, dict[str, Any]]:
    """A claimed callback after one dial with `outcome`: the new record and the columns to set."""
    attempts = cb.attempts + 1
    if retry_at is None:
        state, due = DONE, cb.due
    elif attempts >= cb.max_attempts:
        state, due = FAILED, cb.due
    else:
        state, due = PENDING, retry_at
    finished = now if state != PENDING else 0.0
    vals = (state, attempts, outcome, due, finished, "", 0.0)
    new = Callback(
        cb.id, cb.callid, cb.queue, cb.number, due, cb.created, cb.mode, state, attempts,
        cb.max_attempts, outcome, cb.context, cb.sms, "", 0.0, cb.claim_seq, finished, cb.priority,
    )  # fmt: skip
    return new, dict(zip(_CALLBACK_FINISH_COLS, vals, strict=True))


def _renew_claims(t: _Tx, rows: Sequence[Callback], until: float) -> list[str]:
    """Extend the claims of `rows` (as claimed) until `until`; the ids whose claim no longer holds."""
    return [
        cb.id
        for cb in rows
        if t.run(
            "UPDATE callbacks SET claim_until = ?"
            " WHERE id = ? AND state = ? AND claimed_by = ? AND claim_seq = ?",
            (until, cb.id, CLAIMED, cb.claimed_by, cb.claim_seq),
        ).rowcount
        != 1
    ]
