"""May this reading be written from the portal (R4): the rule, its SQL form, what a write did.

A reading is frozen once it is accepted, and while it is handed to billing (`batch` set by the
archive refresh) until billing's answer is applied; a transmitted reading is never turned back
into a draft. A rejected reading is no longer live: a new one may be entered for the period.
"""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import Enum

from app.domain import N_
from app.domain.vocabulary import ReadingStatus

EDITABLE = (ReadingStatus.draft, ReadingStatus.transmitted)


def may_write(status: str | None, batch: int | None,
              new_status: str | None = None) -> bool:
    """Whether a reading stored with `status` (None: none yet) may be written now (as
    `new_status`, if given)."""
    if status is None or status == ReadingStatus.rejected:
        return True
    if status not in EDITABLE or batch is not None:
        return False
    return not (status == ReadingStatus.transmitted and new_status == ReadingStatus.draft)


# `may_write` for the live row `r` of an upsert's ON CONFLICT ... DO UPDATE (EXCLUDED: the new
# row); a rejected row never conflicts (the live-reading index excludes it).
WRITABLE_SQL = (
    f"r.status IN ('{ReadingStatus.draft}', '{ReadingStatus.transmitted}') AND r.batch IS NULL"
    f" AND NOT (r.status = '{ReadingStatus.transmitted}'"
    f" AND EXCLUDED.status = '{ReadingStatus.draft}')"
)


class WriteOutcome(str, Enum):
    """What writing one meter's reading did."""

    written = "written"
    unchanged = "unchanged"  # the same value, date and status were already stored
    accepted = "accepted"  # refused: billing accepted the stored reading
    handed_to_billing = "handed_to_billing"  # refused: frozen until billing answers
    already_transmitted = "already_transmitted"  # refused: a draft over a transmitted reading

    @property
    def ok(self) -> bool:
        return self in (WriteOutcome.written, WriteOutcome.unchanged)


@dataclass(frozen=True)
class StoredReading:
    """The live reading of a meter and period as the database holds it."""

    reading_id: int
    value: Decimal
    read_on: date
    status: str
    batch: int | None


def refusal(stored: StoredReading, status: str, value: Decimal, read_on: date) -> WriteOutcome:
    """Why a write of (status, value, read_on) left `stored` as it was."""
    if (stored.status, stored.value, stored.read_on) == (status, value, read_on):
        return WriteOutcome.unchanged
    if stored.status == ReadingStatus.accepted:
        return WriteOutcome.accepted
    if not may_write(stored.status, stored.batch):
        return WriteOutcome.handed_to_billing
    return WriteOutcome.already_transmitted


# Why a write left the stored reading as it was: the grid's row note and the API's problem.
REFUSAL_NOTES = {
    WriteOutcome.accepted: N_("Показание уже принято и не может быть изменено"),
    WriteOutcome.handed_to_billing: N_("Показание уже передано в биллинг и не может быть "
                                       "изменено до его ответа"),
    WriteOutcome.already_transmitted: N_("Показание уже передано: исправление отправляется "
                                         "кнопкой «Передать значения»"),
}
