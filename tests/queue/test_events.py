"""Ledger rows: queue_log shape, names and field order, and the parse back."""

from __future__ import annotations

import pytest

from ccboard.queue import events as ev


def test_every_ledger_event_round_trips_and_has_at_most_five_data_fields() -> None:
    for name, cls in ev.LEDGER_EVENTS.items():
        import dataclasses

        extra = dataclasses.fields(cls)[4:]
        assert len(extra) <= 5, name
        vals = {"int": 3, "float": 2.5, "str": "x"}
        e = cls(1700000000.25, "call-1", "q", "a", *[vals[str(f.type)] for f in extra])
        row = e.row()
        assert len(row) == 10 and row[4] == name
        assert ev.ledger_from_row(row) == e


def test_queue_log_field_order() -> None:
    e = ev.ExitWithKey(100.0, "c1", "sales", "NONE", "0", 2, 3, 12.5)
    assert "|".join(e.row()) == "100|c1|sales|NONE|EXITWITHKEY|0|2|3|12.5|"
    assert ev.Abandon(1.0, "c", "q", "NONE", 1, 2, 3.0).row()[5:8] == ("1", "2", "3")


def test_bad_rows_are_named() -> None:
    with pytest.raises(ev.QueueError, match="unknown event 'NOPE'"):
        ev.ledger_from_row(("1", "c", "q", "a", "NOPE"))
