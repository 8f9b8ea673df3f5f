"""The «Календарь сроков» feed (app/domain/feed.py): which windows become events, their UIDs,
and the RFC 5545 text parsed back with icalendar."""

from datetime import UTC, date, datetime

import pytest
from icalendar import Calendar

from app.domain.calendar import WorkingCalendar, submission_window
from app.domain.feed import (
    FeedContract,
    event_uid,
    feed_events,
    feed_periods,
    render_ics,
)

CAL = WorkingCalendar()
HOST = "portal.example"
KINDS = ("cold", "hot")
A = FeedContract(15303, "Д-15303/2018")
B = FeedContract(15304, "Д-15304/2019")


def windows_of(contracts, periods, day=8):
    return {(c.billing_id, kind): {p: submission_window(p, day, CAL) for p in periods}
            for c in contracts for kind in KINDS}


# (today, expected first period, expected last period, why)
PERIODS = [
    (date(2026, 12, 2), date(2026, 12, 1), date(2027, 11, 1), "this month and the next 11"),
    (date(2026, 1, 31), date(2026, 1, 1), date(2026, 12, 1), "a calendar year"),
    (date(2026, 2, 1), date(2026, 2, 1), date(2027, 1, 1), "first day: still this month"),
]


@pytest.mark.parametrize(("today", "first", "last", "why"), PERIODS)
def test_feed_periods(today, first, last, why):
    periods = feed_periods(today)
    assert (len(periods), periods[0], periods[-1]) == (12, first, last), why


# (linked contracts, contracts whose windows are known, periods known, expected count, why)
SELECTION = [
    ([A], [A], 12, 24, "one contract: 12 months × 2 kinds"),
    ([A, B], [A, B], 12, 48, "two contracts"),
    ([A], [A, B], 12, 24, "windows of an unlinked contract are left out"),
    ([], [A, B], 12, 0, "no linked contract: an empty calendar"),
    ([A], [A], 3, 6, "a period without a window makes no event"),
]


@pytest.mark.parametrize(("linked", "known", "months", "count", "why"), SELECTION)
def test_which_windows_become_events(linked, known, months, count, why):
    periods = feed_periods(date(2026, 12, 2))
    windows = windows_of(known, periods[:months])
    events = feed_events(linked, windows, periods, KINDS, HOST)
    assert len(events) == count, why
    assert {e.contract_billing_id for e in events} <= {c.billing_id for c in linked}, why
    assert len({e.uid for e in events}) == count, "UIDs are unique"


def test_uid_is_stable_and_names_contract_kind_period():
    assert event_uid(15303, "hot", date(2026, 12, 1), HOST) == "window-15303-hot-2026-12@" + HOST
    periods = feed_periods(date(2026, 12, 2))
    first = feed_events([A], windows_of([A], periods, day=8), periods, KINDS, HOST)
    moved = feed_events([A], windows_of([A], periods, day=20), periods, KINDS, HOST)
    # A moved deadline changes the dates, never the UID: calendars update the event.
    assert [e.uid for e in first] == [e.uid for e in moved]
    assert [e.closes for e in first] != [e.closes for e in moved]


def test_ics_parses_back_as_all_day_events():
    periods = feed_periods(date(2018, 10, 1))
    events = feed_events([A], windows_of([A], periods), periods, KINDS, HOST)
    ics = render_ics(events, "Сроки", lambda e: f"№{e.contract_billing_id} {e.kind} до {e.closes}",
                     datetime(2018, 10, 1, tzinfo=UTC))
    cal = Calendar.from_ical(ics)
    assert str(cal["VERSION"]) == "2.0" and str(cal["X-WR-CALNAME"]) == "Сроки"
    assert cal["PRODID"]
    parsed = {str(e["UID"]): e for e in cal.walk("VEVENT")}
    october = parsed["window-15303-cold-2018-10@" + HOST]
    # SPEC example: deadline 8 in October 2018 → 06.10–08.10; DTEND is exclusive.
    assert october.decoded("DTSTART") == date(2018, 10, 6)
    assert october.decoded("DTEND") == date(2018, 10, 9)
    assert not isinstance(october.decoded("DTSTART"), datetime)
    assert str(october["SUMMARY"]) == "№15303 cold до 2018-10-08"
    assert len(parsed) == 24
