"""`ccboard demo` (mode callcentre): a phone bank's IVR on the simulated board.

Lines: the exchange sends the callers on two E1 spans of the sim board, span 1 MFC/R2 China (the
sim's R2 far end against our R2 engine, China MF tones) and span 2 ISDN PRI (libpri as the network
against our PriSpan); each call brings the caller's number (ANI), which reaches the script and the
CDR. Agents' phones hang on FXS ports; callbacks and the follow-up dial out on analog FXO lines.
Everything the callers key is DTMF on the B-channel (ccboard's generator with human timing and
levels, over line noise, A-law coded), decoded by the board's DTMF receiver; agents are reached by
ringing their FXS port and bridging the audio.

The bank (SQLite: customers, accounts, cards, transactions; sample data from the seed) offers:
language menu (1 English / 2 中文), card number, PIN (secret, lockout after three wrong tries),
then the main menu: 1 balance (said with say_money), 2 transfer between own accounts (amount,
read-back, 1 to confirm), 3 card loss report (1 to confirm), 4 bill payment (payee menu, amount,
read-back, 1 to confirm, balance checked when it is paid), 5 more services (a submenu: 1 FX quote
-- currency menu, amount, the rate and the cost read back with say_money --, 2 PIN change -- the
old PIN, the new PIN twice, a mismatch asks again once; all three secret --, * back), 0 an agent,
9 end the call.

"0" goes to the queue layer (ccboard.queue.engine): the ACD rings the agents' FXS phones, waiting
callers hear music on hold with their position and estimated wait, and are offered "1 keep
waiting / 2 callback"; some keep their place on their own number (the ANI the span delivered) or
key another one, others choose a time (at least CALLBACK_LEAD_S ahead), hang up, and are
called back on an FXO line when their place reaches an agent or their time comes.
The shift starts with all agents but one in a briefing (BRIEFING_S), so the first callers meet a
queue and hear the offer. The summary prints the KPIs computed from the ledger read back from the
store.

Simulated callers listen to the line: they key the next step once the IVR has spoken and gone
quiet for a human think time, some barge in during a prompt, some key a wrong choice or a wrong
PIN first, some hang up early. The summary compares what they keyed with what the IVR received
(non-secret entries; PINs are compared by verification outcome) and must be 100 %.

While it runs on a terminal, LiveView draws a rich dashboard (calls per script stage, the queue,
the agents, KPIs from the ledger, the tick); --no-live or a stdout that is not a terminal keeps
to the plain progress lines. The summary is printed after it either way.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import hmac
import logging
import secrets
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from ccboard.board.channel import Signalling
from ccboard.board.clock import VirtualClock
from ccboard.board.sim import FarEndSettings, SimBoard, default_spans, pri_farend, r2_farend
from ccboard.board.sim.farend import human_dtmf
from ccboard.cli import followup
from ccboard.errors import BoardError
from ccboard.ivr import (
    Choice,
    Hangup,
    IvrCall,
    IvrRunner,
    Menu,
    RunnerConfig,
    SecretDigits,
    Term,
    run_menu,
)
from ccboard.media.moh import MusicOnHold
from ccboard.media.prompts import PromptSet
from ccboard.media.tts import build_prompt_set
from ccboard.queue import kpi
from ccboard.queue.acd import Acd, QueueConfig
from ccboard.queue.callback import CallbackConfig, CallbackCore
from ccboard.queue.engine import PHRASES as QUEUE_PHRASES
from ccboard.queue.engine import QueueEngine, SimAgents, queue_ledger
from ccboard.queue.events import AgentPause, AgentUnpause, CallbackRequest
from ccboard.queue.hook import QueueHook
from ccboard.signalling.call import CallMachine
from ccboard.signalling.loopstart import FxoLoopStart, FxsLoopStart
from ccboard.signalling.pri import PriStack, spans_of
from ccboard.signalling.r2 import R2Channel
from ccboard.signalling.r2 import variant as r2_variant
from ccboard.store import open_store

log = logging.getLogger("ccboard.demo")

PHRASES: dict[str, dict[str, str]] = {
    "en": {
        "welcome_lang": "Welcome to Demo Bank. For English, press 1.",
        "enter_card": "Please enter your card number, followed by the hash key.",
        "unknown_card": "We cannot find that card.",
        "enter_pin": "Please enter your four digit PIN.",
        "pin_wrong": "That PIN is not correct.",
        "locked": "Your card is locked after three wrong PINs. Please visit a branch.",
        "main_menu": "For your balance, press 1. To transfer between your accounts, press 2. "
        "To report a lost card, press 3. To pay a bill, press 4. For more services, press 5. "
        "For an agent, press 0. To end the call, press 9.",
        "services_menu": "For a foreign exchange quote, press 1. To change your PIN, press 2. "
        "To go back, press star.",
        "balance_is": "Your balance is",
        "transfer_amount": "Enter the amount in yuan to move to your savings account, followed by hash.",
        "transfer_confirm_a": "You are moving",
        "transfer_confirm_b": "to your savings account. To confirm, press 1. To cancel, press 2.",
        "transfer_done": "Done. Your new balance is",
        "transfer_cancelled": "The transfer is cancelled.",
        "insufficient": "Your balance is not enough for that amount.",
        "loss_confirm": "To block your card now, press 1. To go back, press star.",
        "card_blocked": "Your card is blocked. A new card will be sent to you.",
        "agent_bye": "Thank you for holding.",
        "pin_old": "Please enter your current PIN.",
        "pin_new": "Please enter your new four digit PIN.",
        "pin_again": "Please enter your new PIN again.",
        "pin_mismatch": "The two new PINs do not match.",
        "pin_changed": "Your PIN is changed.",
        "pin_unchanged": "Your PIN is not changed.",
        "fx_menu": "For US dollars, press 1. For euros, press 2. For Japanese yen, press 3. "
        "For Hong Kong dollars, press 4. For British pounds, press 5.",
        "fx_amount": "Enter the amount of foreign currency you want to buy, followed by hash.",
        "fx_rate": "Our selling rate for one hundred units is",
        "fx_cost": "Your amount costs",
        "bill_menu": "To pay for electricity, press 1. For water, press 2. For your mobile phone, press 3.",
        "bill_amount": "Enter the amount in yuan to pay, followed by hash.",
        "bill_confirm_a": "You are paying",
        "bill_confirm_b": "To confirm, press 1. To cancel, press 2.",
        "bill_done": "The bill is paid. Your new balance is",
        "bill_cancelled": "The payment is cancelled.",
    },
    "cmn": {
        "lang_cmn": "中文服务请按二。",
        "enter_card": "请输入您的卡号，并以井号键结束。",
        "unknown_card": "找不到这张卡。",
        "enter_pin": "请输入您的四位密码。",
        "pin_wrong": "密码不正确。",
        "locked": "密码错误三次，您的卡已被锁定，请到网点办理。",
        "main_menu": "查询余额请按一，账户间转账请按二，挂失请按三，缴费请按四，更多服务请按五，"
        "人工服务请按零，结束通话请按九。",
        "services_menu": "外汇报价请按一，修改密码请按二，返回请按星号键。",
        "balance_is": "您的余额是",
        "transfer_amount": "请输入转入储蓄账户的金额，以井号键结束。",
        "transfer_confirm_a": "您将转账",
        "transfer_confirm_b": "到储蓄账户，确认请按一，取消请按二。",
        "transfer_done": "转账成功，您的新余额是",
        "transfer_cancelled": "转账已取消。",
        "insufficient": "您的余额不足。",
        "loss_confirm": "立即挂失请按一，返回请按星号键。",
        "card_blocked": "您的卡已挂失，新卡将寄给您。",
        "agent_bye": "感谢您的等待。",
        "pin_old": "请输入您的原密码。",
        "pin_new": "请输入四位新密码。",
        "pin_again": "请再次输入新密码。",
        "pin_mismatch": "两次输入的新密码不一致。",
        "pin_changed": "您的密码已修改。",
        "pin_unchanged": "您的密码没有修改。",
        "fx_menu": "美元请按一，欧元请按二，日元请按三，港币请按四，英镑请按五。",
        "fx_amount": "请输入您要购买的外币金额，以井号键结束。",
        "fx_rate": "每一百外币的卖出价是",
        "fx_cost": "您的金额需要",
        "bill_menu": "电费请按一，水费请按二，手机话费请按三。",
        "bill_amount": "请输入缴费金额，以井号键结束。",
        "bill_confirm_a": "您将缴费",
        "bill_confirm_b": "确认请按一，取消请按二。",
        "bill_done": "缴费成功，您的新余额是",
        "bill_cancelled": "缴费已取消。",
    },
}

# Sample data keeps the PIN alphabet apart from everything else callers key (cards, amounts, menu
# keys use 0-5 and 9), so a leaked PIN digit anywhere is unambiguous.
CARD_DIGITS = "12345"
PIN_DIGITS = "678"

# The bank's selling rates, yuan for 100 units (menu key, ISO code, rate).
FX_RATES: tuple[tuple[str, str, str], ...] = (
    ("1", "USD", "718.50"),
    ("2", "EUR", "778.32"),
    ("3", "JPY", "4.82"),
    ("4", "HKD", "92.13"),
    ("5", "GBP", "907.11"),
)
PAYEES: tuple[tuple[str, str], ...] = (("1", "electricity"), ("2", "water"), ("3", "mobile"))


# -- the bank ----------------------------------------------------------------------------------------


class Bank:
    """The sample bank in SQLite; PINs stored as salted PBKDF2 digests."""

    def __init__(self, path: Path, customers: int, rng: np.random.Generator) -> None:
        self.db = sqlite3.connect(path)
        self.db.executescript(
            """
            CREATE TABLE IF NOT EXISTS customers (id INTEGER PRIMARY KEY, name TEXT, language TEXT);
            CREATE TABLE IF NOT EXISTS accounts (number TEXT PRIMARY KEY, customer INTEGER, kind TEXT,
                balance_fen INTEGER);
            CREATE TABLE IF NOT EXISTS cards (number TEXT PRIMARY KEY, customer INTEGER, status TEXT,
                salt BLOB, pin_hash BLOB, tries INTEGER);
            CREATE TABLE IF NOT EXISTS transactions (id INTEGER PRIMARY KEY, account TEXT, amount_fen INTEGER,
                kind TEXT, at REAL);
            CREATE TABLE IF NOT EXISTS fx_rates (code TEXT PRIMARY KEY, yuan_per_100 TEXT);
            DELETE FROM customers; DELETE FROM accounts; DELETE FROM cards; DELETE FROM transactions;
            DELETE FROM fx_rates;
            """
        )
        self.db.executemany("INSERT INTO fx_rates VALUES (?, ?)", [(c, r) for _, c, r in FX_RATES])
        self.pins: dict[str, str] = {}  # the simulated customers' own knowledge (never logged)
        for i in range(customers):
            card = "".join(rng.choice(list(CARD_DIGITS), 8))
            pin = "".join(rng.choice(list(PIN_DIGITS), 4))
            salt = rng.bytes(8)
            digest = SecretDigits(pin).digest(salt)
            lang = "en" if i % 2 == 0 else "cmn"
            self.db.execute("INSERT INTO customers VALUES (?, ?, ?)", (i, f"customer {i}", lang))
            cur = int(rng.integers(0, 5_000_000))
            self.db.execute("INSERT INTO accounts VALUES (?, ?, 'current', ?)", (f"C{i:05d}", i, cur))
            self.db.execute("INSERT INTO accounts VALUES (?, ?, 'savings', ?)", (f"S{i:05d}", i, 100_000))
            self.db.execute(
                "INSERT OR REPLACE INTO cards VALUES (?, ?, 'active', ?, ?, 0)", (card, i, salt, digest)
            )
            self.pins[card] = pin
        self.db.commit()

    def card(self, number: str) -> tuple[int, str] | None:
        row = self.db.execute("SELECT customer, status FROM cards WHERE number = ?", (number,)).fetchone()
        return None if row is None else (int(row[0]), str(row[1]))

    def verify(self, card: str, pin: SecretDigits) -> str:
        """'ok', 'wrong' or 'locked' (three wrong tries lock the card)."""
        salt, digest, tries, status = self.db.execute(
            "SELECT salt, pin_hash, tries, status FROM cards WHERE number = ?", (card,)
        ).fetchone()
        if status == "locked":
            return "locked"
        if hmac.compare_digest(pin.digest(salt), digest):
            self.db.execute("UPDATE cards SET tries = 0 WHERE number = ?", (card,))
            self.db.commit()
            return "ok"
        tries += 1
        status = "locked" if tries >= 3 else status
        self.db.execute("UPDATE cards SET tries = ?, status = ? WHERE number = ?", (tries, status, card))
        self.db.commit()
        return "locked" if status == "locked" else "wrong"

    def balance(self, customer: int, kind: str = "current") -> int:
        row = self.db.execute(
            "SELECT balance_fen FROM accounts WHERE customer = ? AND kind = ?", (customer, kind)
        )
        return int(row.fetchone()[0])

    def move(self, customer: int, fen: int, at: float) -> bool:
        if self.balance(customer) < fen:
            return False
        with self.db:
            self.db.execute(
                "UPDATE accounts SET balance_fen = balance_fen - ? WHERE customer = ? AND kind = 'current'",
                (fen, customer),
            )
            self.db.execute(
                "UPDATE accounts SET balance_fen = balance_fen + ? WHERE customer = ? AND kind = 'savings'",
                (fen, customer),
            )
            self.db.execute(
                "INSERT INTO transactions (account, amount_fen, kind, at) VALUES (?, ?, 'transfer', ?)",
                (f"C{customer:05d}", -fen, at),
            )
        return True

    def block(self, card: str) -> None:
        with self.db:
            self.db.execute("UPDATE cards SET status = 'blocked' WHERE number = ?", (card,))

    def set_pin(self, card: str, pin: SecretDigits, salt: bytes) -> None:
        """Store a new PIN's digest under a fresh salt (the digits themselves are never stored)."""
        with self.db:
            self.db.execute(
                "UPDATE cards SET salt = ?, pin_hash = ?, tries = 0 WHERE number = ?",
                (salt, pin.digest(salt), card),
            )

    def pay(self, customer: int, payee: str, fen: int, at: float) -> bool:
        """Pay a bill from the current account; False if the balance is not enough."""
        if self.balance(customer) < fen:
            return False
        with self.db:
            self.db.execute(
                "UPDATE accounts SET balance_fen = balance_fen - ? WHERE customer = ? AND kind = 'current'",
                (fen, customer),
            )
            self.db.execute(
                "INSERT INTO transactions (account, amount_fen, kind, at) VALUES (?, ?, ?, ?)",
                (f"C{customer:05d}", -fen, f"bill:{payee}", at),
            )
        return True

    def fx_rate(self, code: str) -> Decimal:
        """Selling rate of `code`: yuan for 100 units."""
        row = self.db.execute("SELECT yuan_per_100 FROM fx_rates WHERE code = ?", (code,)).fetchone()
        return Decimal(row[0])


def _yuan(fen: int) -> Decimal:
    return Decimal(fen) / 100


# -- the IVR script ----------------------------------------------------------------------------------


@dataclass
class Counters:
    flows: dict[str, int] = field(default_factory=dict)
    menu_choices: dict[str, int] = field(default_factory=dict)
    pin_entries: int = 0
    pin_verified: int = 0
    pin_wrong: int = 0
    lockouts: int = 0
    pin_mismatches: int = 0  # PIN change: the new PIN keyed twice did not match
    stage: dict[str, str] = field(default_factory=dict)  # live call id -> where its script is

    def bump(self, d: dict[str, int], k: str) -> None:
        d[k] = d.get(k, 0) + 1


class BankIvr:
    """The bank's script and its menus (data), bound to the bank and the counters."""

    def __init__(self, bank: Bank, counters: Counters, prompts: dict[str, PromptSet]) -> None:
        self.bank = bank
        self.c = counters
        both = np.concatenate(
            [
                prompts["en"].get("welcome_lang").samples,
                np.zeros(2000, np.int16),
                prompts["cmn"].get("lang_cmn").samples,
            ]
        )
        self.lang_menu = Menu(
            "language",
            prompt=both,
            choices=(Choice("1", "en"), Choice("2", "cmn")),
            agent_key=None,
            back_key=None,
            invalid_prompt=None,
            timeout=6.0,
        )
        services = Menu(
            "services",
            prompt="services_menu",
            choices=(Choice("1", "fx_quote"), Choice("2", "pin_change")),
            timeout=6.0,
        )
        self.main_menu = Menu(
            "main",
            prompt="main_menu",
            choices=(
                Choice("1", "balance"),
                Choice("2", "transfer"),
                Choice("3", "card_loss"),
                Choice("4", "bill_payment"),
                Choice("5", services),
                Choice("9", "end"),
            ),
            back_key=None,
            timeout=6.0,
        )
        # the flows' own menus: no agent or back key there, and running out of tries ends the flow
        self.fx_menu = Menu(
            "fx_currency",
            prompt="fx_menu",
            choices=tuple(Choice(k, c) for k, c, _ in FX_RATES),
            agent_key=None,
            back_key=None,
            exhausted="end",
            timeout=6.0,
        )
        self.payee_menu = Menu(
            "payee",
            prompt="bill_menu",
            choices=tuple(Choice(k, n) for k, n in PAYEES),
            agent_key=None,
            back_key=None,
            exhausted="end",
            timeout=6.0,
        )

    async def __call__(self, call: IvrCall) -> None:
        try:
            await self._script(call)
        finally:
            self.c.stage.pop(call.id, None)

    def _at(self, call: IvrCall, stage: str) -> None:
        self.c.stage[call.id] = stage

    async def _script(self, call: IvrCall) -> None:
        self._at(call, "language")
        await call.answer()
        lang = await run_menu(call, self.lang_menu)
        if lang.kind != "choice":
            call.tag("flow", "no-language")
            await call.play("goodbye", barge_in=False)
            await call.hangup()
            return
        call.language = lang.value
        self.c.bump(self.c.menu_choices, f"language:{lang.value}")
        self._at(call, "card")
        card = await self._card(call)
        if card is None:
            return
        customer = self.bank.card(card)
        assert customer is not None
        self._at(call, "pin")
        if not await self._pin(call, card):
            return
        flows: list[str] = []
        while True:
            self._at(call, "menu")
            m = await run_menu(call, self.main_menu)
            if m.kind == "agent":
                self.c.bump(self.c.menu_choices, "main:agent")
                flows.append("agent")
                call.tag("flow", "+".join(flows))
                self._at(call, "agent")
                res = await call.transfer("agents")
                self.c.bump(self.c.flows, res.detail if res.ok else "agent-failed")
                await call.hangup()
                return
            if m.kind == "end" or m.value == "end":
                self.c.bump(self.c.menu_choices, "main:end")
                break
            self.c.bump(self.c.menu_choices, f"main:{m.value}")
            flows.append(m.value)
            call.tag("flow", "+".join(flows))
            self._at(call, m.value)
            if m.value == "balance":
                await call.play("balance_is")
                await call.say_money(_yuan(self.bank.balance(customer[0])))
                self.c.bump(self.c.flows, "balance")
            elif m.value == "transfer":
                await self._transfer(call, customer[0])
            elif m.value == "card_loss":
                r = await call.get_digits(1, "", first_digit_timeout=6.0, prompt="loss_confirm")
                if r.digits == "1":
                    self.bank.block(card)
                    await call.play("card_blocked")
                    self.c.bump(self.c.flows, "card-loss")
                else:
                    self.c.bump(self.c.flows, "card-loss-back")
            elif m.value == "bill_payment":
                await self._bill(call, customer[0])
            elif m.value == "fx_quote":
                await self._fx(call)
            elif m.value == "pin_change" and not await self._pin_change(call, card):
                return
        await call.play("goodbye", barge_in=False)
        await call.hangup()

    async def _card(self, call: IvrCall) -> str | None:
        for _ in range(3):
            r = await call.get_digits(
                12, "#", first_digit_timeout=8.0, inter_digit_timeout=4.0, prompt="enter_card"
            )
            if r.reason == Term.HANGUP:
                raise Hangup(call.id)
            number = str(r.digits)
            if self.bank.card(number) is not None:
                return number
            await call.play("unknown_card")
        await call.play("goodbye", barge_in=False)
        await call.hangup()
        return None

    async def _secret_pin(self, call: IvrCall, prompt: str) -> SecretDigits:
        """Four secret digits (or fewer, then # or a timeout); Hangup if the caller hangs up."""
        r = await call.get_digits(
            4, "#", first_digit_timeout=8.0, inter_digit_timeout=4.0, secret=True, prompt=prompt
        )
        if r.reason == Term.HANGUP:
            raise Hangup(call.id)
        assert isinstance(r.digits, SecretDigits)
        return r.digits

    async def _check_pin(self, call: IvrCall, card: str, prompt: str) -> str:
        """One PIN entry checked against the card: 'ok', 'wrong' or 'locked' (the call then ends)."""
        pin = await self._secret_pin(call, prompt)
        self.c.pin_entries += 1
        outcome = self.bank.verify(card, pin)
        call.tag("pin", outcome)
        if outcome == "ok":
            self.c.pin_verified += 1
        elif outcome == "locked":
            self.c.lockouts += 1
            self.c.bump(self.c.flows, "lockout")
            await call.play("locked", barge_in=False)
            await call.hangup()
        else:
            self.c.pin_wrong += 1
            await call.play("pin_wrong")
        return outcome

    async def _pin(self, call: IvrCall, card: str) -> bool:
        for _ in range(3):
            outcome = await self._check_pin(call, card, "enter_pin")
            if outcome != "wrong":
                return outcome == "ok"
        return False

    async def _pin_change(self, call: IvrCall, card: str) -> bool:
        """The old PIN, then the new one twice (one more try after a mismatch); all secret, so
        nothing of them reaches a log, a CDR or a recording. False if the call ended (lockout)."""
        outcome = await self._check_pin(call, card, "pin_old")
        if outcome == "locked":
            return False
        if outcome == "wrong":
            self.c.bump(self.c.flows, "pin-change-wrong-pin")
            return True
        for _ in range(2):
            new = await self._secret_pin(call, "pin_new")
            again = await self._secret_pin(call, "pin_again")
            if len(new) == 4 and new == again:  # SecretDigits compare in constant time
                self.bank.set_pin(card, new, secrets.token_bytes(8))
                await call.play("pin_changed")
                self.c.bump(self.c.flows, "pin-change")
                return True
            self.c.pin_mismatches += 1
            await call.play("pin_mismatch")
        await call.play("pin_unchanged")
        self.c.bump(self.c.flows, "pin-change-mismatch")
        return True

    async def _amount(self, call: IvrCall, prompt: str) -> int | None:
        """A whole amount keyed and ended with #; None when it is empty or zero."""
        r = await call.get_digits(7, "#", first_digit_timeout=8.0, prompt=prompt)
        if r.reason == Term.HANGUP:
            raise Hangup(call.id)
        amount = str(r.digits)
        return int(amount) if amount.isdigit() and int(amount) > 0 else None

    async def _confirmed(self, call: IvrCall, prompt: str) -> bool:
        r = await call.get_digits(1, "", first_digit_timeout=6.0, prompt=prompt)
        if r.reason == Term.HANGUP:
            raise Hangup(call.id)
        return r.digits == "1"

    async def _transfer(self, call: IvrCall, customer: int) -> None:
        amount = await self._amount(call, "transfer_amount")
        if amount is None:
            await call.play("transfer_cancelled")
            self.c.bump(self.c.flows, "transfer-cancelled")
            return
        fen = amount * 100
        await call.play("transfer_confirm_a")
        await call.say_money(_yuan(fen))
        if not await self._confirmed(call, "transfer_confirm_b"):
            await call.play("transfer_cancelled")
            self.c.bump(self.c.flows, "transfer-cancelled")
            return
        if not self.bank.move(customer, fen, time.time()):
            await call.play("insufficient")
            self.c.bump(self.c.flows, "transfer-insufficient")
            return
        await call.play("transfer_done")
        await call.say_money(_yuan(self.bank.balance(customer)))
        self.c.bump(self.c.flows, "transfer")

    async def _bill(self, call: IvrCall, customer: int) -> None:
        """Payee (a menu), amount, read-back, 1 to confirm; the balance is checked when paying."""
        payee = await run_menu(call, self.payee_menu)
        if payee.kind != "choice":
            self.c.bump(self.c.flows, "bill-no-payee")
            return
        self.c.bump(self.c.menu_choices, f"payee:{payee.value}")
        amount = await self._amount(call, "bill_amount")
        if amount is None:
            await call.play("bill_cancelled")
            self.c.bump(self.c.flows, "bill-cancelled")
            return
        fen = amount * 100
        await call.play("bill_confirm_a")
        await call.say_money(_yuan(fen))
        if not await self._confirmed(call, "bill_confirm_b"):
            await call.play("bill_cancelled")
            self.c.bump(self.c.flows, "bill-cancelled")
            return
        if not self.bank.pay(customer, payee.value, fen, time.time()):
            await call.play("insufficient")
            self.c.bump(self.c.flows, "bill-insufficient")
            return
        await call.play("bill_done")
        await call.say_money(_yuan(self.bank.balance(customer)))
        self.c.bump(self.c.flows, "bill-payment")

    async def _fx(self, call: IvrCall) -> None:
        """Currency (a menu), amount in that currency, then the rate (yuan per 100) and the cost."""
        cur = await run_menu(call, self.fx_menu)
        if cur.kind != "choice":
            self.c.bump(self.c.flows, "fx-no-currency")
            return
        self.c.bump(self.c.menu_choices, f"currency:{cur.value}")
        amount = await self._amount(call, "fx_amount")
        if amount is None:
            self.c.bump(self.c.flows, "fx-no-amount")
            return
        rate = self.bank.fx_rate(cur.value)
        await call.play("fx_rate")
        await call.say_money(rate)
        await call.play("fx_cost")
        await call.say_money(rate * amount / 100)
        self.c.bump(self.c.flows, "fx-quote")


# -- simulated callers -------------------------------------------------------------------------------


@dataclass
class Step:
    digits: str
    secret: bool = False
    barge: bool = False
    menu: bool = False  # a key for the queue's callback menu: only while that menu is open
    at_time: bool = False  # the digits are a callback time (HHMM), chosen when they are keyed


@dataclass
class Caller:
    """One simulated customer: calls in at `arrival_ms` on a trunk (span), from the number `ani`,
    then keys the plan's steps as the IVR asks."""

    n: int
    arrival_ms: int
    plan: list[Step]
    hangup_after: int | None  # hang up early after this many steps
    ani: str = ""
    trunk: int = 0  # index in CallerSim.trunks
    state: str = "waiting"  # waiting, ringing, connected, done
    channo: int = 0
    chanpos: int = 0
    far: Any = None  # the far end's call (R2 or PRI far end)
    step: int = 0
    heard_ms: int = 0
    quiet_ms: int = 0
    busy_until: int = 0
    think_ms: int = 1000
    keyed: list[str] = field(default_factory=list)
    call_id: str = ""
    ani_seen: str = ""  # the ANI the IVR's call was offered with
    rang_at: int = 0
    # while keying a callback-menu entry: (entries the IVR had received, an agent was on the call)
    menu_watch: tuple[int, bool] | None = None


@dataclass
class Trunk:
    """One E1 span the exchange sends the bank's calls on: its far end (R2FarEnd or PriFarEnd,
    both with call(called, calling, chanpos), hangup(chanpos) and state(chanpos)) and its
    circuits (chanpos -> our channo)."""

    name: str
    span: int
    far: Any
    circuits: dict[int, int]
    ready: Callable[[], bool]
    line: Any  # the sim's far end of the span: plays the callers' audio on the B-channels
    free_from: dict[int, int] = field(default_factory=dict)  # chanpos -> ms it may be seized again
    offered: int = 0  # calls the exchange placed
    connected: int = 0  # answered by the IVR
    gave_up: int = 0  # the caller hung up before the answer (or the call was refused)

    def circuit(self, now: int, busy: Callable[[int], bool]) -> int | None:
        """A chanpos free at both ends and past its cool-down, or None."""
        for pos, channo in self.circuits.items():
            if self.free_from.get(pos, 0) <= now and self.far.state(pos) == "idle" and not busy(channo):
                return pos
        return None


class CallerSim:
    """The exchange's callers, as a tick hook: they call in on the trunks, listen to our tx, key,
    hang up. They look every EVERY ms (people do not react within a millisecond anyway)."""

    SPEAKING = 400  # |sample| above this in a tick: the IVR is speaking
    EVERY = 4  # ms between looks
    COOLDOWN_MS = 2000  # a circuit is reused this long after its call ended
    RING_GIVE_UP_MS = 20_000  # an unanswered caller hangs up
    DNIS = "95566"  # the bank's service number

    def __init__(
        self,
        callers: list[Caller],
        trunks: list[Trunk],
        rng: np.random.Generator,
        menu_open: Callable[[str], bool] | None = None,
        epoch: float = 0.0,
    ) -> None:
        self.menu_open = menu_open
        self.epoch = epoch  # s since the epoch at board time 0 (the callers' clocks)
        self.waiting = sorted(callers, key=lambda c: c.arrival_ms)
        self.callers = callers
        self.trunks = trunks
        self.active: dict[int, Caller] = {}  # by caller number
        self.rng = rng
        self.done = 0
        self.abandoned = 0
        self.max_concurrent = 0
        self.cut_by_agent = 0  # callback-menu entries an agent's answer cut short (not counted)
        self._rows: dict[int, int] = {}

    def finished(self) -> bool:
        return self.done == len(self.callers)

    def _row(self, b: Any, channo: int) -> int:
        r = self._rows.get(channo)
        if r is None:
            r = self._rows[channo] = b.channel(channo).index
        return r

    def _place(self, runner: IvrRunner, now: int) -> None:
        """Call in the callers whose time has come, each on its trunk's lowest free circuit."""
        held = {c.channo for c in self.active.values()}

        def busy(channo: int) -> bool:
            return channo in held or channo in runner.calls

        late: list[Caller] = []
        while self.waiting and self.waiting[0].arrival_ms <= now:
            c = self.waiting.pop(0)
            t = self.trunks[c.trunk]
            pos = t.circuit(now, busy) if t.ready() else None
            if pos is None:
                late.append(c)  # all circuits busy (or the span not up yet): try again later
                continue
            c.far = t.far.call(self.DNIS, c.ani, chanpos=pos)
            c.chanpos, c.channo = pos, t.circuits[pos]
            held.add(c.channo)
            t.offered += 1
            c.state = "ringing"
            c.rang_at = now
            self.active[c.n] = c
        self.waiting[:0] = late

    def __call__(self, runner: IvrRunner) -> None:
        now = runner.ms
        if now % self.EVERY:
            return
        b = runner.board
        if self.waiting and self.waiting[0].arrival_ms <= now:
            self._place(runner, now)
        self.max_concurrent = max(self.max_concurrent, len(self.active))
        if not self.active:
            return
        rows = [self._row(b, c.channo) for c in self.active.values()]
        loud = (np.abs(b.tx[rows]).max(axis=1) > self.SPEAKING).tolist()
        step = self.EVERY
        for c, speaking in zip(list(self.active.values()), loud, strict=True):
            t = self.trunks[c.trunk]
            call = runner.calls.get(c.channo)
            far_state = c.far.state
            if c.state == "ringing":
                if far_state == "connected" and call is not None:
                    c.state = "connected"
                    c.call_id, c.ani_seen = call.id, call.ani
                    t.connected += 1
                elif far_state in ("released", "clearing"):
                    t.gave_up += 1  # refused by our side
                    self._end(c, now)
                elif now - c.rang_at > self.RING_GIVE_UP_MS:
                    with contextlib.suppress(BoardError):  # the exchange cleared it meanwhile
                        t.far.hangup(c.chanpos)
                    t.gave_up += 1
                    self.abandoned += 1
                    self._end(c, now)
                continue
            if far_state != "connected" or call is None or call.released:
                self._end(c, now)  # the IVR hung up on us
                continue
            if now < c.busy_until:
                continue
            if c.menu_watch is not None:
                self._menu_entry_done(c, call)
            if speaking:
                c.heard_ms += step
                c.quiet_ms = 0
            else:
                c.quiet_ms += step
            if c.hangup_after is not None and c.step >= c.hangup_after and c.heard_ms > 500:
                with contextlib.suppress(BoardError):  # clear forward (R2) / DISCONNECT (PRI)
                    t.far.hangup(c.chanpos)
                c.hangup_after = None
                c.step = len(c.plan)
                continue
            if c.step >= len(c.plan):
                continue
            st = c.plan[c.step]
            if st.menu and (self.menu_open is None or not self.menu_open(call.id)):
                continue
            barge = st.barge and speaking and c.heard_ms >= 900
            if barge or (c.heard_ms > 0 and c.quiet_ms >= c.think_ms):
                digits = self._callback_time(now) if st.at_time else st.digits
                x = human_dtmf(
                    digits, self.rng, on_ms=(70.0, 120.0), gap_ms=(90.0, 300.0), level_dbm0=(-14.0, -5.0)
                )
                t.line.play(c.chanpos, x)
                c.busy_until = now + x.size // 8 + 50
                if not st.secret:
                    c.keyed.append(digits)
                if st.menu:
                    c.menu_watch = (len(call.received), "agent" in call.tags)
                c.step += 1
                c.heard_ms = 0
                c.quiet_ms = 0
                c.think_ms = int(self.rng.uniform(700, 1400))

    def _callback_time(self, now_ms: int) -> str:
        """HHMM (UTC) to be called back at: the first minute at least CALLBACK_LEAD_S (plus half a
        minute for keying it) ahead whose digits are not PIN digits (see CARD_DIGITS)."""
        t = int(self.epoch + now_ms / 1000.0 + CALLBACK_LEAD_S + 30.0) // 60 * 60 + 60
        while True:
            hhmm = time.strftime("%H%M", time.gmtime(t))
            if not set(hhmm) & set(PIN_DIGITS):
                return hhmm
            t += 60

    def _menu_entry_done(self, c: Caller, call: IvrCall) -> None:
        """A callback-menu entry is keyed: if an agent answered while it was on the line, the
        queue closed the menu and the digits went to the agent, so they are not counted."""
        received, agent_before = c.menu_watch or (0, True)
        c.menu_watch = None
        if not agent_before and "agent" in call.tags and len(call.received) == received:
            c.keyed.pop()
            self.cut_by_agent += 1

    def _end(self, c: Caller, now: int) -> None:
        c.state = "done"
        self.active.pop(c.n, None)
        self.trunks[c.trunk].free_from[c.chanpos] = now + self.COOLDOWN_MS
        self.done += 1


def make_callers(
    n: int, bank: Bank, rng: np.random.Generator, spread_ms: int, trunks: int = 2, start_ms: int = 0
) -> list[Caller]:
    """Callers with plans: language, card, PIN (sometimes wrong first), services, end; each from
    its own mobile number, on a trunk picked at random, arriving within spread_ms after start_ms.

    Cards are shared by about two callers each, except those of the callers who change their PIN
    or lock their card: they get a card of their own, so nobody else keys a PIN that has changed
    under them or meets a locked card."""
    cards = list(bank.pins)
    shared = cards[: max(1, len(cards) * 3 // 4)]
    own = cards[len(shared) :]  # for the PIN changers and lockouts, one each
    out: list[Caller] = []
    changers = 0
    for i in range(n):
        changer = bool(own) and i % 5 == 2
        card = own.pop() if changer else shared[i % len(shared)]
        pin = bank.pins[card]
        plan: list[Step] = []
        if rng.random() < 0.1:
            plan.append(Step("4"))  # a wrong key at the language menu
        plan.append(Step("1" if i % 2 == 0 else "2", barge=rng.random() < 0.3))
        plan.append(Step(card + "#", barge=rng.random() < 0.2))
        r = rng.random()
        if r < 0.05 and not changer and own:  # forgot the PIN: three wrong ones, locked out
            # on a card of its own: a caller sharing it would find it locked and key into the
            # lockout message (digits nobody collects)
            card = own.pop()
            pin = bank.pins[card]
            plan[-1] = Step(card + "#", barge=plan[-1].barge)
            for _ in range(3):
                plan.append(Step(_wrong(pin, rng), secret=True))
            out.append(_caller(i, plan, None, rng, spread_ms, trunks, start_ms))
            continue
        if r < 0.25:
            plan.append(Step(_wrong(pin, rng), secret=True))
        plan.append(Step(pin, secret=True))
        if changer:
            plan += _pin_change_steps(bank, card, rng, changers)
            changers += 1
        for _ in range(int(rng.integers(1, 3))):
            s = rng.random()
            if s < 0.2:
                plan.append(Step("1", barge=rng.random() < 0.3))
            elif s < 0.32:
                amount = "".join(rng.choice(list("12345"), int(rng.integers(1, 4))))
                plan += [Step("2"), Step(amount + "#"), Step("1" if rng.random() < 0.8 else "2")]
            elif s < 0.4:
                plan += [Step("3"), Step("1")]
            elif s < 0.52:  # a bill: payee, amount (up to 4 digits: some balances fall short), 1/2
                amount = "".join(rng.choice(list("12345"), int(rng.integers(1, 5))))
                payee = str(rng.choice([k for k, _ in PAYEES]))
                confirm = "1" if rng.random() < 0.85 else "2"
                plan += [Step("4"), Step(payee), Step(amount + "#"), Step(confirm)]
            elif s < 0.64:  # an FX quote: more services, 1, the currency, an amount
                amount = "".join(rng.choice(list("12345"), int(rng.integers(1, 4))))
                cur = str(rng.choice([k for k, _, _ in FX_RATES]))
                plan += [Step("5"), Step("1"), Step(cur, barge=rng.random() < 0.3), Step(amount + "#")]
            elif s < 0.68:
                plan += [Step("5"), Step("*")]  # more services, then back to the main menu
            elif s < 0.74:
                plan.append(Step("#"))  # invalid choice
            else:
                plan.append(Step("0"))  # an agent; the call ends with the agent
                if rng.random() < 0.4:  # offered a callback: 2; the caller ID is read back
                    if rng.random() < 0.5:  # 1 call me on it, then
                        if i % 2:  # 1 keep my place
                            plan += [Step(k, menu=True) for k in ("2", "1", "1")]
                        else:  # 2 choose a time, the time (HHMM), 1 it is right
                            plan += [Step(k, menu=True) for k in ("2", "1", "2")]
                            plan += [Step("", menu=True, at_time=True), Step("1", menu=True)]
                    else:  # 2 another number, the number, 1 it is right, 1 keep my place
                        number = "".join(rng.choice(list("0123459"), 8))  # no PIN digits (see above)
                        plan += [Step(k, menu=True) for k in ("2", "2", number + "#", "1", "1")]
                break
        else:
            plan.append(Step("9"))
        hang = int(rng.integers(1, len(plan))) if rng.random() < 0.08 else None
        out.append(_caller(i, plan, hang, rng, spread_ms, trunks, start_ms))
    return out


def _caller(
    i: int,
    plan: list[Step],
    hang: int | None,
    rng: np.random.Generator,
    spread_ms: int,
    trunks: int,
    start_ms: int,
) -> Caller:
    at = start_ms + int(rng.uniform(0, spread_ms))
    # ten digits: what the sim's China exchange sends as ANI; no PIN digits (see CARD_DIGITS)
    ani = "13" + "".join(rng.choice(list("0123459"), 8))
    return Caller(i, at, plan, hang, ani=ani, trunk=int(rng.integers(0, trunks)))


def _pin_change_steps(bank: Bank, card: str, rng: np.random.Generator, nth: int) -> list[Step]:
    """More services, 2, the old PIN, the new PIN twice. Of every three changers, the first
    mistypes the repeat (then keys both again), the third keys a wrong old PIN (back to the menu).
    The customer now knows the new PIN."""
    old = bank.pins[card]
    steps = [Step("5"), Step("2")]
    if nth % 3 == 2:
        return [*steps, Step(_wrong(old, rng), secret=True)]
    new = _wrong(old, rng)
    steps += [Step(old, secret=True), Step(new, secret=True)]
    if nth % 3 == 0:
        steps += [Step(_wrong(new, rng), secret=True), Step(new, secret=True)]
    steps.append(Step(new, secret=True))
    bank.pins[card] = new
    return steps


def _wrong(pin: str, rng: np.random.Generator) -> str:
    while True:
        w = "".join(rng.choice(list(PIN_DIGITS), 4))
        if w != pin:
            return w


# -- the live view ----------------------------------------------------------------------------------


class LiveView:
    """The dashboard while the demo runs (rich): calls per state, the queue, the agents, KPIs and
    the tick. A tick hook that redraws at most every REFRESH_S of wall time, so it costs the
    board next to nothing; the KPIs come from the ledger events the queue engine has written."""

    REFRESH_S = 0.25
    STAGES = (
        "language",
        "card",
        "pin",
        "menu",
        "balance",
        "transfer",
        "card_loss",
        "bill_payment",
        "fx_quote",
        "pin_change",
        "agent",
    )

    def __init__(
        self,
        console: Console,
        sim: CallerSim,
        counters: Counters,
        engine: QueueEngine,
        queue: str,
        title: str,
    ) -> None:
        self.console = console
        self.sim = sim
        self.c = counters
        self.engine = engine
        self.queue = queue
        self.title = title
        self.live = Live(console=console, auto_refresh=False, transient=False)
        self._last = 0.0
        self._t0 = time.perf_counter()
        self._runner: IvrRunner | None = None

    def __enter__(self) -> LiveView:
        self._t0 = time.perf_counter()
        self.live.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._runner is not None:  # the last frame shows the end of the run
            self.live.update(self.render(self._runner), refresh=True)
        self.live.__exit__(None, None, None)

    def __call__(self, runner: IvrRunner) -> None:
        if runner.ms % 20:
            return
        now = time.perf_counter()
        if now - self._last < self.REFRESH_S:
            return
        self._last = now
        self._runner = runner
        self.live.update(self.render(runner), refresh=True)

    def render(self, runner: IvrRunner) -> RenderableType:
        """The dashboard as it is now."""
        sim, eng = self.sim, self.engine
        calls = Table(title="calls", show_header=False, box=None, padding=(0, 1))
        ringing = sum(1 for c in sim.active.values() if c.state == "ringing")
        stages: dict[str, int] = {}
        for call in runner.calls.values():
            st = self.c.stage.get(call.id, "answering")
            stages[st] = stages.get(st, 0) + 1
        calls.add_row("not yet rung", str(len(sim.waiting)))
        calls.add_row("ringing", str(ringing))
        for i, t in enumerate(sim.trunks):
            n = sum(1 for c in sim.active.values() if c.trunk == i and c.state == "connected")
            calls.add_row(f"on {t.name}", f"{n} ({t.offered} offered)")
        for st in ("answering", *self.STAGES):
            calls.add_row(f"  {st.replace('_', ' ')}", str(stages.get(st, 0)))
        calls.add_row("done", f"{sim.done}/{len(sim.callers)}")

        waiters = list(eng.waiters.values())
        queue = Table(title=f"queue {self.queue!r}", show_header=False, box=None, padding=(0, 1))
        queue.add_row("waiting", str(eng.acd.waiting(self.queue)))
        queue.add_row("with an agent", str(sum(1 for w in waiters if w.agent)))
        queue.add_row("kept places", str(sum(1 for w in waiters if w.virtual)))
        queue.add_row("in callback menu", str(len(eng.callbacks_open())))

        agents = Table(title="agents", show_header=False, box=None, padding=(0, 1))
        for name in eng.agents:
            agents.add_row(name, eng.acd.agent_state(name).value)

        k = kpi.compute(eng.emitted, queue=self.queue, grace=PROMISE_GRACE_S)
        kpis = Table(title="KPIs", show_header=False, box=None, padding=(0, 1))
        kpis.add_row("offered / answered", f"{k.offered} / {k.answered}")
        kpis.add_row("abandoned", str(k.abandoned))
        kpis.add_row("ASA", _fmt(k.asa, "s"))
        kpis.add_row("SL (20 s)", _fmt(k.sl, "%"))
        kpis.add_row("AHT", _fmt(k.aht, "s"))
        kpis.add_row("PINs ok / wrong", f"{self.c.pin_verified} / {self.c.pin_wrong}")
        kpis.add_row("flows done", str(sum(self.c.flows.values())))

        recent = np.array(runner.stats.tick_ns[-256:] or [0], np.float64) / 1000.0
        wall = max(1e-9, time.perf_counter() - self._t0)
        status = (
            f"board time {runner.ms / 1000:6.1f} s ({runner.ms / 1000 / wall:4.1f}x real time)  "
            f"tick work median {np.median(recent):.0f} us, p99 {np.percentile(recent, 99):.0f} us  "
            f"overruns {runner.stats.overruns}{_lateness(runner.stats)}"
        )
        grid = Table.grid(padding=(0, 3))
        grid.add_row(calls, queue, agents, kpis)
        return Panel(Group(grid, Text(status)), title=self.title, expand=False)


# -- the demo ---------------------------------------------------------------------------------------


EPOCH = 1_700_040_000.0  # board time 0 is 2023-11-15 09:20 UTC (callback hours; no 6-8 runs: see test_secure)
SPREAD_MS_PER_CALLER = 2000  # arrivals spread: 60 callers within two minutes
SETTLE_MS = 3000  # the spans come up (framing, the PRI's D-channel and restarts) before calls
TRUNK_NAMES = ("R2 China", "PRI")
# The earliest callback time a caller may choose (the callback core's min_lead): a bank would say
# five minutes or more; the demo's morning is short.
CALLBACK_LEAD_S = 30.0
PROMISE_GRACE_S = 60.0  # a callback promise is kept when its first dial comes within this (KPI)
# The shift starts with all agents but one in a briefing (paused) for its first BRIEFING_S of
# board time: the morning's callers meet a queue, hear the first position announcement (which
# offers the callback) and some take one; the agents back from the briefing then serve the line
# and dial the kept places out. (With every agent free from the start, nobody waited long enough
# to hear the offer, and the demo requested no callbacks.)
BRIEFING_S = 150.0


def open_bank_board(lines: int, agents: int, seed: int) -> SimBoard:
    """The demo's sim board: span 1 an E1 with CAS (MFC/R2 China), span 2 an E1 with a D-channel
    (ISDN PRI, EuroISDN), span 3 analog: `agents` FXS ports, then `lines` FXO lines."""
    cas = default_spans(2, 0, agents, lines)
    ccs = default_spans(2, 0, 0, 0, ccs=True)  # numbered like cas: span 2's channels line up
    spans = [cas[0], ccs[1], cas[2]]
    st = FarEndSettings(zone="cn", echo_delay_ms=8.0)
    return SimBoard(spans, {s.number: st for s in spans}, seed=seed, name="sim:bank")


def _fmt(v: float | None, unit: str) -> str:
    if v is None:
        return "-"
    return f"{100 * v:.1f} %" if unit == "%" else f"{v:.1f} {unit}"


def _moh_samples(seconds: float = 8.0) -> np.ndarray:
    """A soft arpeggio as the default hold music (a file can be given instead)."""
    t = np.arange(int(seconds * 8000)) / 8000.0
    notes = [261.6, 329.6, 392.0, 523.3]
    f = np.array(notes)[(t * 4).astype(int) % 4]
    env = 0.5 - 0.5 * np.cos(2 * np.pi * (t * 4 % 1))
    return (3000 * env * np.sin(2 * np.pi * np.cumsum(f) / 8000)).astype(np.int16)


def run_callcentre(
    callers: int = 30,
    lines: int = 4,
    agents: int = 4,
    seed: int = 1,
    realtime: bool = False,
    circuits: int = 30,
    db: str | None = None,
    record_dir: str | None = None,
    moh_file: str | None = None,
    quiet: bool = False,
    report: dict[str, object] | None = None,
    live: bool | None = None,
    console: Console | None = None,
) -> int:
    """Run the phone bank; print the summary; 0 if digit accuracy is 100 % and no script failed.

    Callers come in on two E1 spans (MFC/R2 China and ISDN PRI), at most `circuits` at a time on
    each; agents are on `agents` FXS ports; callbacks and the follow-up dial out on `lines` FXO
    lines. realtime: the board ticks on the wall clock (else as fast as the CPU allows).

    live: the rich dashboard while it runs (None: when stdout is a terminal; never when quiet);
    console: where it is drawn (default: stdout)."""
    t_wall = time.perf_counter()
    rng = np.random.default_rng(seed)
    work = Path(tempfile.mkdtemp(prefix="ccboard-bank-"))
    db_path = Path(db) if db else work / "bank.db"
    t_p = time.perf_counter()
    prompts = {
        lang: build_prompt_set(lang, {**PHRASES[lang], **QUEUE_PHRASES[lang]}) for lang in ("en", "cmn")
    }
    prompt_s = time.perf_counter() - t_p
    bank = Bank(db_path, max(8, callers // 2), rng)
    store = open_store(f"sqlite:///{db_path.with_suffix('.cdr.db')}")
    board = open_bank_board(lines, agents, seed)
    fxo = [c.channo for c in board.channels if c.signalling.is_fxo_port]
    spare = list(fxo)  # free FXO lines: callbacks dial out on them
    fxs = [c.channo for c in board.channels if c.signalling.is_fxs_port]
    r2_far = r2_farend.attach(board, "cn")[1]
    pri_far = pri_farend.attach(board, PriStack)[2]
    r2_cn = dataclasses.replace(r2_variant("cn"), max_dnis=len(CallerSim.DNIS))
    machines: dict[int, CallMachine] = {}
    for ch in board.channels:
        if ch.signalling.is_fxo_port:
            machines[ch.channo] = FxoLoopStart(ch.channo)
        elif ch.signalling.is_fxs_port:
            machines[ch.channo] = FxsLoopStart(ch.channo)
        elif ch.signalling == Signalling.CAS:
            machines[ch.channo] = R2Channel(r2_cn, ch.channo)
    pri_spans = spans_of(board)
    circuits = max(1, min(30, circuits))

    def span_circuits(n: int) -> dict[int, int]:
        chans = [c for c in board.span(n).channels if c.signalling in (Signalling.CAS, Signalling.CLEAR)]
        return {c.chanpos: c.channo for c in chans[:circuits]}

    trunks = [
        Trunk(TRUNK_NAMES[0], 1, r2_far, span_circuits(1), lambda: True, board.far_ends[1]),
        Trunk(
            TRUNK_NAMES[1],
            2,
            pri_far,
            span_circuits(2),
            lambda: pri_far.up and all(s.state == "up" and not s.restarting for s in pri_spans),
            board.far_ends[2],
        ),
    ]
    inbound = [ch for t in trunks for ch in t.circuits.values()]
    counters = Counters()
    moh = MusicOnHold.from_file(moh_file) if moh_file else MusicOnHold(_moh_samples())
    queue = QueueConfig(
        "agents",
        strategy="leastrecent",
        ring_timeout=15.0,
        retry=2.0,
        wrapup=2.0,
        announce_frequency=15.0,
        announce_first=5.0,  # a caller who has to wait hears the position (and the offer) soon
        announce_holdtime="yes",
        default_aht=8.0,
    )
    engine = QueueEngine(
        store,
        Acd([queue]),
        {f"agent{port}": port for port in fxs},
        callbacks=CallbackCore(CallbackConfig(min_lead=CALLBACK_LEAD_S)),
        moh=moh,
        epoch=EPOCH,
        lines=lambda: spare.pop(0) if spare else None,
        release_line=spare.append,
        people=SimAgents(board, rng, answer_ms=(300.0, 1500.0), talk_s=(20.0, 45.0)),
    )
    people = make_callers(callers, bank, rng, spread_ms=callers * SPREAD_MS_PER_CALLER, start_ms=SETTLE_MS)
    sim = CallerSim(people, trunks, rng, menu_open=lambda cid: cid in engine.callbacks_open(), epoch=EPOCH)
    # the deadline covers the time in the queue and with an agent too
    cfg = RunnerConfig(script_deadline=900.0, record_calls=Path(record_dir) if record_dir else None)
    runner = IvrRunner(
        board,
        BankIvr(bank, counters, prompts),
        prompts,
        inbound=inbound,
        machines=machines,
        mf_variant="r2_china",
        pri=pri_spans,
        clock="real" if realtime else "virtual",
        config=cfg,
        transfer_hook=QueueHook(engine),
        store=store,
        tick_hooks=[sim],
    )
    engine.bind(runner, ["agents"])
    for name in list(engine.agents)[1:]:
        engine.agent_action(AgentPause(name, "briefing"))
        back = partial(engine.agent_action, AgentUnpause(name, "briefing"))
        runner.call_later(int(BRIEFING_S * 1000), back)
    print(
        f"ccboard demo (callcentre): {callers} callers on two E1 spans (MFC/R2 China, ISDN PRI; "
        f"{circuits} circuits each), {agents} agents on FXS ports, {lines} FXO lines for callbacks, "
        f"{'real' if realtime else 'virtual'} time, seed {seed}"
    )
    print(f"  prompts: {sum(len(p) for p in prompts.values())} (en, cmn) ready in {prompt_s:.1f} s")

    if live is None:
        live = sys.stdout.isatty()
    view = (
        LiveView(console or Console(), sim, counters, engine, queue.name, f"Demo Bank, seed {seed}")
        if live and not quiet
        else None
    )
    last_print = [0]

    def progress(r: IvrRunner) -> None:
        if quiet or view is not None or r.ms - last_print[0] < 10_000:
            return
        last_print[0] = r.ms
        print(
            f"  t={r.ms / 1000:6.0f} s  live {len(r.calls):3d}  done {sim.done:4d}/{len(people)}  "
            f"PINs ok {counters.pin_verified:4d}  flows {sum(counters.flows.values()):4d}",
            flush=True,
        )

    runner.tick_hooks.append(progress)
    limit_ms = 3_600_000
    with view or contextlib.nullcontext():
        if view is not None:
            runner.tick_hooks.append(view)
        stats = asyncio.run(
            runner.run(until_ms=limit_ms, stop=lambda: sim.finished() and not runner.calls and engine.idle())
        )
    wall = time.perf_counter() - t_wall
    inbound_ms = runner.ms
    if view is not None:
        runner.tick_hooks.remove(view)
    # the outbound follow-up: a survey call to each customer an agent served; an after-hours batch
    # with retry delays of a minute, so it is fast-forwarded even when the calls ran in real time
    runner.clock = VirtualClock()
    fu = followup.run_followup(
        runner, store, fxo, build_prompt_set("en", followup.PHRASES, fragments=False),
        engine=engine, epoch=EPOCH + runner.ms / 1000.0, rng=rng,
    )  # fmt: skip

    # digit accuracy: what each caller keyed (non-secret) vs what its call received
    calls_by_id = {c.id: c for c in runner.finished}
    keyed = received = right = matched_calls = 0
    mismatches: list[str] = []
    for c in people:
        call = calls_by_id.get(c.call_id)
        got = list(call.received) if call else []
        keyed += sum(len(k) for k in c.keyed)
        received += sum(len(g) for g in got)
        right += sum(len(k) for k, g in zip(c.keyed, got, strict=False) if k == g)
        if c.keyed == got:
            matched_calls += 1
        else:
            mismatches.append(f"caller {c.n} ({c.call_id}): keyed {c.keyed} received {got}")
    accuracy = 100.0 if keyed == 0 else 100.0 * right / keyed
    ticks = np.array(stats.tick_ns, np.float64) / 1000.0
    cdrs = store.count("cdr")
    print("summary")
    print(
        f"  calls {stats.calls}  completed {stats.completed}  caller hung up {stats.hangups}  "
        f"script failures {stats.failed + stats.deadline}"
    )
    ani_ok = sum(1 for c in people if c.call_id and c.ani_seen == c.ani)
    answered = sum(1 for c in people if c.call_id)
    print(
        "  per span: "
        + "; ".join(
            f"{t.name} (span {t.span}) offered {t.offered}, answered {t.connected}, "
            f"gave up before the answer {t.gave_up}"
            for t in trunks
        )
        + f"; caller's number (ANI) delivered {ani_ok}/{answered}"
    )
    print("  flows: " + ", ".join(f"{k} {v}" for k, v in sorted(counters.flows.items())))
    print("  menu choices: " + ", ".join(f"{k} {v}" for k, v in sorted(counters.menu_choices.items())))
    print(
        f"  PIN entries {counters.pin_entries}: verified {counters.pin_verified}, "
        f"wrong {counters.pin_wrong}, lockouts {counters.lockouts}; PIN changes "
        f"{counters.flows.get('pin-change', 0)} (new PINs keyed twice that did not match: "
        f"{counters.pin_mismatches})"
    )
    ledger = queue_ledger(store)
    k = kpi.compute(ledger, queue="agents", grace=PROMISE_GRACE_S)
    counts = store.event_counts(queue="agents")
    print(
        f"  queue (KPIs from the ledger, {len(ledger)} rows): offered {k.offered}, answered {k.answered}, "
        f"abandoned {k.abandoned} (short {k.short_abandoned}), ASA {_fmt(k.asa, 's')}, "
        f"SL(20 s) {_fmt(k.sl, '%')}, SL2 {_fmt(k.sl2, '%')}, AHT {_fmt(k.aht, 's')}, "
        f"occupancy {_fmt(k.occupancy, '%')}"
    )
    modes = [e.mode for e in ledger if isinstance(e, CallbackRequest) and e.queuename == "agents"]
    print(
        f"  callbacks: requested {counts.get('CALLBACKREQUEST', 0)} (kept place {modes.count('place')}, "
        f"at a chosen time {modes.count('time')}), dialled {counts.get('CALLBACKATTEMPT', 0)}, answered "
        f"{sum(1 for e in ledger if e.EVENT == 'CALLBACKRESULT' and e.data()[0] == 'answered')}; "
        f"promises kept {k.callback_kept}/{k.callback_requests_due} due"
    )
    fu_lines = followup.summary(fu)
    if realtime:
        fu_lines[0] += " (fast-forwarded in virtual time)"
    print("\n".join(fu_lines))
    for err in engine.errors[:5]:
        print(f"    queue engine: {err}")
    print(
        f"  digit accuracy: keyed {keyed} digits, received {received}; "
        f"calls matching {matched_calls}/{len(people)} -> "
        f"{'100 %' if not mismatches else f'{accuracy:.2f} %'}"
        + (
            f" ({sim.cut_by_agent} callback-menu entries cut short by an agent answering, not counted)"
            if sim.cut_by_agent
            else ""
        )
    )
    for m in mismatches[:5]:
        print(f"    {m}")
    print(
        f"  timing (inbound): {inbound_ms / 1000:.0f} s of board time in {wall:.1f} s wall "
        f"({inbound_ms / 1000 / wall:.1f}x real time); tick work median {np.median(ticks):.0f} us, "
        f"p99 {np.percentile(ticks, 99):.0f} us; "
        f"max concurrent callers {sim.max_concurrent}; overruns {stats.overruns}{_lateness(stats)}"
    )
    print(f"  CDRs in {db_path.with_suffix('.cdr.db')}: {cdrs}; bank in {db_path}")
    if report is not None:
        report.update(
            bank=bank,
            runner=runner,
            counters=counters,
            sim=sim,
            callers=people,
            db=db_path,
            trunks=trunks,
            engine=engine,
            fxo=fxo,
        )
    store.close()
    board.close()
    ok = not mismatches and not (stats.failed or stats.deadline) and sim.finished() and not engine.errors
    ok = ok and ani_ok == answered
    ok = ok and not fu.errors
    return 0 if ok else 1


def _lateness(stats: Any) -> str:
    """ticks late (within the driver buffer, no audio lost) on a real-time clock (issue 8)."""
    lat = stats.lateness
    if lat is None:
        return ""
    return f", late ticks {lat.late} (p99 {lat.percentile_ms(99):.1f} ms, max {lat.max_ms:.1f} ms)"
