"""The write rule (R4): may a reading be written, and why a write was refused."""

from datetime import date
from decimal import Decimal

import pytest

from app.domain.writes import StoredReading, WriteOutcome, may_write, refusal

DAY = date(2018, 10, 8)


@pytest.mark.parametrize(
    ("status", "batch", "new_status", "writable", "why"),
    [
        (None, None, None, True, "no reading yet"),
        ("draft", None, "draft", True, "a draft may be saved again"),
        ("draft", None, "transmitted", True, "and transmitted"),
        ("transmitted", None, "transmitted", True, "a correction before billing has it"),
        ("transmitted", None, "draft", False, "never turned back into a draft"),
        ("transmitted", None, None, True, "editable in the grid"),
        ("transmitted", 3, None, False, "handed to billing, answer pending"),
        ("accepted", 3, None, False, "billing accepted it"),
        ("accepted", None, None, False, "billing history"),
        ("rejected", 3, None, True, "a new reading may be entered after a rejection"),
    ],
)
def test_may_write(status, batch, new_status, writable, why):
    assert may_write(status, batch, new_status) is writable, why


@pytest.mark.parametrize(
    ("status", "batch", "write", "outcome"),
    [
        ("transmitted", None, ("transmitted", 240), WriteOutcome.unchanged),
        ("transmitted", 3, ("transmitted", 240), WriteOutcome.unchanged),
        ("accepted", None, ("transmitted", 250), WriteOutcome.accepted),
        ("accepted", None, ("transmitted", 240), WriteOutcome.accepted),
        ("transmitted", 3, ("transmitted", 250), WriteOutcome.handed_to_billing),
        ("transmitted", None, ("draft", 250), WriteOutcome.already_transmitted),
    ],
)
def test_refusal(status, batch, write, outcome):
    stored = StoredReading(1, Decimal(240), DAY, status, batch)
    assert refusal(stored, write[0], Decimal(write[1]), DAY) is outcome
    assert not outcome.ok or outcome is WriteOutcome.unchanged
