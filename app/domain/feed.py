"""The «Календарь сроков» feed (SPEC §9): which submission windows become events, and the
RFC 5545 text of them (written with the `icalendar` library; pure, no I/O).

One all-day event per window of every linked contract and both kinds, for the current month
and the next 11. The UID names the contract's billing id, the kind and the period, so a
calendar that re-reads the feed updates an event (a moved deadline) instead of adding one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from icalendar import Calendar, Event

from app.domain.calendar import add_months, month_start

FEED_MONTHS = 12
PRODID = "-//MUP Izhvodokanal//Subscriber portal//RU"

Window = tuple[date, date]


@dataclass(frozen=True)
class FeedContract:
    """What the feed needs of a linked contract."""

    billing_id: int
    number: str


@dataclass(frozen=True)
class FeedEvent:
    uid: str
    contract_billing_id: int
    contract_number: str
    kind: str
    period: date
    opens: date
    closes: date  # the last day of the window (inclusive)

    @property
    def end_exclusive(self) -> date:
        """DTEND of an all-day event is the day after its last day (RFC 5545 §3.6.1)."""
        return self.closes + timedelta(days=1)


def feed_periods(today: date, months: int = FEED_MONTHS) -> list[date]:
    """This month and the next months-1, as first days of the month."""
    first = month_start(today)
    return [add_months(first, n) for n in range(months)]


def event_uid(contract_billing_id: int, kind: str, period: date, host: str) -> str:
    """Stable across feed reads and window recomputations: depends on nothing that changes."""
    return f"window-{contract_billing_id}-{kind}-{period:%Y-%m}@{host}"


def feed_events(
    contracts: Iterable[FeedContract],
    windows: Mapping[tuple[int, str], Mapping[date, Window]],
    periods: Sequence[date],
    kinds: Sequence[str],
    host: str,
) -> list[FeedEvent]:
    """The events of these contracts: one per (contract, kind, period) that has a window.

    `windows` maps (contract billing id, kind) to {period: (opens, closes)}; a contract that is
    not in `contracts` (unlinked) contributes nothing even if windows of it are given.
    """
    events = []
    for contract in sorted(contracts, key=lambda c: c.billing_id):
        for kind in kinds:
            by_period = windows.get((contract.billing_id, kind), {})
            for period in periods:
                if (window := by_period.get(period)) is None:
                    continue
                opens, closes = window
                events.append(FeedEvent(
                    uid=event_uid(contract.billing_id, kind, period, host),
                    contract_billing_id=contract.billing_id, contract_number=contract.number,
                    kind=kind, period=period, opens=opens, closes=closes))
    return events


def render_ics(
    events: Iterable[FeedEvent],
    calendar_name: str,
    summary: Callable[[FeedEvent], str],
    stamp: datetime,
) -> bytes:
    """The VCALENDAR of these events; `summary` words each event in the user's language."""
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", calendar_name)
    for item in events:
        event = Event()
        event.add("uid", item.uid)
        event.add("dtstamp", stamp)
        event.add("summary", summary(item))
        event.add("dtstart", item.opens)  # a date, not a datetime: an all-day event
        event.add("dtend", item.end_exclusive)
        event.add("transp", "TRANSPARENT")
        cal.add_component(event)
    return cal.to_ical()
