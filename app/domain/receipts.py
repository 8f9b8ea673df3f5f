"""What a receipt line says now: the reading it recorded, as billing has treated it since."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from app.domain import N_
from app.domain.vocabulary import ReadingStatus

SUPERSEDED = "superseded"
LINE_STATUS_LABELS = {
    ReadingStatus.transmitted: N_("передано"),
    ReadingStatus.accepted: N_("принято"),
    ReadingStatus.rejected: N_("отклонено"),
    SUPERSEDED: N_("заменено более поздней передачей"),
}


def line_status(sent_value: Decimal, sent_read_on: date, reading_value: Decimal,
                reading_read_on: date, reading_status: str) -> str:
    """The reading's status if it still holds the value the receipt recorded; a reading
    corrected since (inside the window, R4) carries another receipt's value: `superseded`."""
    if (reading_value, reading_read_on) != (sent_value, sent_read_on):
        return SUPERSEDED
    if reading_status == ReadingStatus.draft:  # cannot happen through the grid; be honest
        return SUPERSEDED
    return reading_status
