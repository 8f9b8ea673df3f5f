"""The home page's rules (SPEC §11) as tables: which period a row speaks of, its window in
words, periods without a reading, verification flags."""

from __future__ import annotations

from datetime import date

import pytest

from app.domain.calendar import WorkingCalendar, add_months, submission_window
from app.domain.dashboard import (
    charged_by_calculation,
    dashboard_period,
    last_closed_period,
    long_without_readings,
    missing_periods,
    months_between,
    verification_attention,
    window_words,
)

CAL = WorkingCalendar()
OCT18, NOV18 = date(2018, 10, 1), date(2018, 11, 1)


def windows(deadline_day: int, around: date, calendar: WorkingCalendar = CAL) -> dict:
    """Stored windows of the previous, this and the next period (what home reads)."""
    return {p: submission_window(p, deadline_day, calendar)
            for p in (add_months(around, -1), around, add_months(around, 1))}


def say(words) -> str:
    """The sentence as the Russian screen shows it."""
    return words.text(lambda s: s, lambda d: d.strftime("%d.%m.%Y") if d else "")


@pytest.mark.parametrize(("deadline_day", "today", "period", "sentence", "state", "last_day",
                          "next_opens", "why"), [
    # d = 8, October 2018: D = Mon 08.10 → window 06.10–08.10 (SPEC R1's example)
    (8, date(2018, 10, 5), OCT18, "Окно откроется 06.10.2018", "before", False, None,
     "the day before it opens"),
    (8, date(2018, 10, 6), OCT18, "Окно передачи открыто до 08.10.2018", "open", False, None,
     "first day"),
    (8, date(2018, 10, 8), OCT18, "Окно передачи открыто до 08.10.2018", "open", True, None,
     "last day: open, and said so"),
    (8, date(2018, 10, 9), OCT18, "Срок передачи истёк", "closed", False, date(2018, 11, 6),
     "closed: the next window's first day is told"),
    (8, date(2018, 10, 31), OCT18, "Срок передачи истёк", "closed", False, date(2018, 11, 6),
     "still the current month's period until the month ends"),
    # d = 1, December 2018: D = Sat 01.12 → D' = Mon 03.12, window 29.11–03.12
    (1, date(2018, 11, 29), date(2018, 12, 1), "Окно передачи открыто до 03.12.2018", "open",
     False, None, "a window opening in the month before its period is found"),
    # d = 31, March 2018: Sat 31.03 → Mon 02.04, so on 01.04 March's window is still open
    (31, date(2018, 4, 1), date(2018, 3, 1), "Окно передачи открыто до 02.04.2018", "open",
     False, None, "a window closing in the month after its period is found"),
])
def test_window_words(deadline_day, today, period, sentence, state, last_day, next_opens, why):
    stored = windows(deadline_day, date(today.year, today.month, 1))
    chosen = dashboard_period(today, stored)
    assert chosen == period, why
    words = window_words(today, stored, chosen)
    assert (say(words), words.state, words.last_day, words.next_opens) == (
        sentence, state, last_day, next_opens), why


def test_a_holiday_moves_the_date_in_the_words():
    # d = 4, Wed 04.11.2026 is a holiday: the window closes Thu 05.11 (R1).
    stored = windows(4, date(2026, 11, 1))
    assert say(window_words(date(2026, 11, 4), stored, date(2026, 11, 1))) == \
        "Окно передачи открыто до 05.11.2026"
    # An operator's override that makes 05.11 a day off too moves it again.
    moved = windows(4, date(2026, 11, 1), WorkingCalendar({date(2026, 11, 5): False}))
    assert say(window_words(date(2026, 11, 4), moved, date(2026, 11, 1))) == \
        "Окно передачи открыто до 06.11.2026"


@pytest.mark.parametrize(("later", "earlier", "months"), [
    (date(2018, 10, 1), date(2018, 10, 1), 0),
    (date(2018, 10, 1), date(2018, 7, 1), 3),
    (date(2019, 1, 1), date(2018, 12, 1), 1),   # across a year
    (date(2018, 7, 1), date(2018, 10, 1), -3),
])
def test_months_between(later, earlier, months):
    assert months_between(later, earlier) == months


@pytest.mark.parametrize(("deadline_day", "today", "last_due", "why"), [
    (8, date(2018, 10, 9), OCT18, "this month's window closed yesterday"),
    (8, date(2018, 10, 8), date(2018, 9, 1), "this month's window is open: the last due is "
                                             "September"),
    (8, date(2018, 10, 3), date(2018, 9, 1), "before this month's window"),
    (31, date(2018, 4, 1), date(2018, 2, 1), "March's window is still open on 01.04"),
])
def test_last_closed_period(deadline_day, today, last_due, why):
    assert last_closed_period(today, windows(deadline_day, date(today.year, today.month, 1))) \
        == last_due, why


@pytest.mark.parametrize(("last_reading", "last_due", "missing", "listed", "calculated", "why"), [
    (OCT18, OCT18, 0, False, False, "read for the last due period"),
    (date(2018, 9, 1), OCT18, 1, False, False, "one period missed"),
    (date(2018, 8, 1), OCT18, 2, False, False, "two: not listed yet"),
    (date(2018, 7, 1), OCT18, 3, True, False, "three consecutive periods: listed"),
    (date(2018, 4, 1), OCT18, 6, True, False, "six: still by the meter"),
    (date(2018, 3, 1), OCT18, 7, True, True, "more than six months: calculated method"),
    (date(2017, 10, 1), OCT18, 12, True, True, "a year"),
    (NOV18, OCT18, 0, False, False, "read ahead of the last due period (the open one)"),
    (None, OCT18, None, False, False, "never read: nothing to count from"),
])
def test_missing_periods(last_reading, last_due, missing, listed, calculated, why):
    n = missing_periods(last_reading, last_due)
    assert (n, long_without_readings(n), charged_by_calculation(n)) == (
        missing, listed, calculated), why


@pytest.mark.parametrize(("due", "attention", "why"), [
    (None, None, "no planned date"),
    (date(2026, 11, 24), "overdue", "yesterday: the grid's flag"),
    (date(2026, 11, 25), "soon", "today"),
    (date(2026, 12, 25), "soon", "in 30 days: the mail's rule"),
    (date(2026, 12, 26), None, "in 31 days"),
])
def test_verification_attention(due, attention, why):
    assert verification_attention(date(2026, 11, 25), due) == attention, why
