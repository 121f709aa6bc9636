"""KPIs on a hand-made ledger whose every figure is worked out in the comments."""

from __future__ import annotations

from ccboard.queue import events as ev
from ccboard.queue import kpi

N = "NONE"


def test_kpis_by_hand() -> None:
    led: list[ev.LedgerEvent] = [
        ev.AgentLoginLog(0, N, N, "a", "a"),
        ev.EnterQueue(10, "c1", "q", N, "", "1", 1, 0),
        ev.Connect(25, "c1", "q", "a", 15, "a", 2),  # answered in 15 s (<= 20)
        ev.CompleteAgent(85, "c1", "q", "a", 15, 60, 1),
        ev.Wrapup(95, N, "q", "a", 10),  # handle = 60 + 10
        ev.EnterQueue(30, "c2", "q", N, "", "2", 1, 0),
        ev.Abandon(33, "c2", "q", N, 1, 1, 3),  # short abandon (< 5 s), within SL
        ev.EnterQueue(40, "c3", "q", N, "", "3", 1, 0),
        ev.Abandon(70, "c3", "q", N, 1, 1, 30),  # abandon after SL
        ev.EnterQueue(50, "c4", "q", N, "", "4", 2, 0),
        ev.Connect(100, "c4", "q", "a", 50, "a", 1),  # answered late
        ev.CompleteCaller(130, "c4", "q", "a", 50, 30, 2),
        ev.Full(60, "c5", "q", N),
        ev.Pause(130, N, N, "a", "lunch"),
        ev.Unpause(170, N, N, "a", ""),
        ev.AgentLogoffLog(200, N, N, "a", "a", 200),
        ev.CallbackRequest(5, "k1", "q", N, "555", "place", 100, 3),
        ev.CallbackAttempt(90, "k1", "q", "a", "555", 1),  # kept
        ev.CallbackRequest(6, "k2", "q", N, "556", "time", 150, 0),  # never attempted: broken
        ev.CallbackRequest(7, "k3", "q", N, "557", "time", 500, 0),  # not due yet
        ev.CampaignResult(10, "x1", "fu", N, "p1", "no answer", 1, "RETRY", ""),
        ev.CampaignResult(20, "x2", "fu", N, "p1", "answered", 2, "CONTACTED", ""),
        ev.CampaignResult(20, "x3", "fu", N, "p2", "busy", 1, "RETRY", ""),
    ]
    k = kpi.compute(reversed(led), sl_threshold=20, short_abandon=5, until=200)
    assert (k.offered, k.blocked, k.answered, k.abandoned, k.short_abandoned) == (4, 1, 2, 1, 1)
    assert k.asa == (15 + 50) / 2
    assert k.sl == 1 / 2  # c1 only
    assert k.sl2 == (1 + 1) / (2 + 2)  # c1 answered and c2 abandoned within 20 s
    assert k.aht == (60 + 30 + 10) / 2
    # busy: 25-85 talk, 85-95 wrap-up, 100-130 talk = 100 s; idle: 0-25, 95-100, 170-200 = 60 s
    assert k.occupancy == 100 / 160
    assert (k.callback_requests_due, k.callback_kept) == (2, 1)
    assert k.campaign_contact_rate == 1 / 3 and k.contact_reach_rate == 1 / 2
    q = kpi.compute(led, queue="fu")
    assert q.offered == 0 and q.campaign_attempts == 3


def test_empty_ledger_gives_none_ratios() -> None:
    k = kpi.compute([])
    assert k.offered == 0 and k.asa is None and k.sl is None and k.occupancy is None
