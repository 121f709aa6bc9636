"""The SMS outbox drain: claim due messages, hand each to a gateway, record sent or retry.

Messages are written to `sms_outbox` in the same transaction as what they confirm (a callback
promise), so a confirmation is never promised without being queued. A drainer claims them like
any other work (exactly once across servers), so each message is handed to the gateway once per
attempt; a drainer that dies mid-send leaves its claim to expire and the message is retried
(at-least-once delivery to the gateway, which the SMSC's message id lets an operator trace).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from ccboard.errors import SmsGatewayError
from ccboard.store.records import DONE, SmsMessage
from ccboard.store.repository import Repository


class SmsGateway(Protocol):
    """Anything that can send one SMS and return the gateway's message id (raises SmsGatewayError)."""

    def send(self, number: str, body: str) -> str: ...


@dataclass
class DrainResult:
    sent: int = 0
    retried: int = 0
    failed: int = 0


class OutboxDrainer:
    """Drains the outbox through one gateway; call drain(now) from the engine's timer.

    retry_s: delay before a failed message is tried again (s); lease_s: how long a claim holds.
    """

    def __init__(
        self,
        store: Repository,
        gateway: SmsGateway,
        worker: str,
        retry_s: float = 60.0,
        lease_s: float = 60.0,
    ) -> None:
        self.store = store
        self.gateway = gateway
        self.worker = worker
        self.retry_s = retry_s
        self.lease_s = lease_s

    def drain(self, now: float, limit: int = 50) -> DrainResult:
        """Send up to `limit` due messages; returns how many were sent, retried and failed."""
        res = DrainResult()
        for msg in self.store.claim_sms(self.worker, now, limit, self.lease_s):
            state = self._send(msg, now)
            if state == DONE:
                res.sent += 1
            elif state == "pending":
                res.retried += 1
            else:
                res.failed += 1
        return res

    def _send(self, msg: SmsMessage, now: float) -> str:
        try:
            message_id = self.gateway.send(msg.number, msg.body)
        except SmsGatewayError as exc:
            retry = None if exc.permanent else now + self.retry_s
            return self.store.finish_sms(msg, now, error=str(exc) or "gateway error", retry_at=retry)
        return self.store.finish_sms(msg, now, message_id=message_id)
