"""The home page's rules (SPEC §11 «What to do now»): which period a contract's row speaks
of, its window in words, and how long a meter has gone without a reading. Pure.

The windows are the stored ones (app/queries/windows.py), the same the grids read, so home
and the grid never disagree about whether a window is open.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from app.domain import N_
from app.domain.calendar import WindowState, add_months, month_start, window_state
from app.domain.notifications import verification_due_soon, verification_overdue

Window = tuple[date, date]

# The window of the row's period in words (SPEC §11); {date} is a ДД.ММ.ГГГГ date.
WINDOW_WORDS: dict[str, str] = {
    "before": N_("Окно откроется {date}"),
    "open": N_("Окно передачи открыто до {date}"),
    "closed": N_("Срок передачи истёк"),
}
LAST_DAY_WORDS = N_("Сегодня последний день передачи")
NEXT_WINDOW_WORDS = N_("Следующее окно откроется {date}")

# A meter with no reading for this many consecutive periods is listed on home.
MISSING_PERIODS_SHOWN = 3
# After more than this many months without readings billing charges water by the calculated
# method (Правила № 776, п. 14): the reason home lists the meters above.
CALCULATED_METHOD_AFTER = 6
MISSING_WORDS = N_("Показания не передавались {months} мес.")
MISSING_REASON = N_(
    "Если показания не передаются более 6 месяцев подряд, объём воды начисляется расчётным "
    "способом (Правила № 776, п. 14) — обычно это дороже, чем по прибору учёта."
)


def months_between(later: date, earlier: date) -> int:
    """Whole months from the period of `earlier` to the period of `later` (may be < 0)."""
    return (later.year - earlier.year) * 12 + later.month - earlier.month


def dashboard_period(today: date, windows: Mapping[date, Window]) -> date:
    """The period home shows for a contract and kind: the one whose window is open today
    (the earliest to close, as the grid picks it), else the current month — whose window
    is then ahead («Окно откроется …») or over («Срок передачи истёк»).

    `windows` must hold the current month; a window that opens in the previous month
    (deadline day 1 or 2) or closes in the next (a deadline on a weekend at a month's end)
    is found when the neighbouring months are there too."""
    open_now = [p for p, w in windows.items() if window_state(today, w) == "open"]
    if open_now:
        return min(open_now, key=lambda p: (windows[p][1], p))
    return month_start(today)


@dataclass(frozen=True)
class WindowWords:
    """A window as home says it: the state, its sentence (untranslated) and the date in it."""

    period: date
    state: WindowState
    message: str
    day: date | None  # the date the sentence names (None for «Срок передачи истёк»)
    last_day: bool  # open, and today is its last day
    next_opens: date | None  # closed: when the next period's window opens, if known

    def text(self, gettext, format_date) -> str:
        return gettext(self.message).format(date=format_date(self.day))


def window_words(today: date, windows: Mapping[date, Window], period: date) -> WindowWords:
    """The window of `period` in words (SPEC §11): «Окно передачи открыто до 08.10.2018»,
    «Окно откроется 06.11.2018», «Срок передачи истёк»."""
    opens, closes = windows[period]
    state = window_state(today, (opens, closes))
    day = {"before": opens, "open": closes, "closed": None}[state]
    following = windows.get(add_months(period, 1))
    next_opens = following[0] if state == "closed" and following and following[0] > today \
        else None
    return WindowWords(period, state, WINDOW_WORDS[state], day,
                       state == "open" and today == closes, next_opens)


def last_closed_period(today: date, windows: Mapping[date, Window]) -> date:
    """The latest period whose window is over (it closed before today): the last one a
    reading was due for. When none of `windows` is over, the period before the earliest of
    them (windows follow their periods' order)."""
    closed = [p for p, (_, closes) in windows.items() if closes < today]
    if closed:
        return max(closed)
    return add_months(min(windows, default=month_start(today)), -1)


def missing_periods(last_reading: date | None, last_due: date) -> int | None:
    """Consecutive periods up to `last_due` without a transmitted or accepted reading, for a
    meter whose latest such reading is of period `last_reading`; None for a meter that has
    never had one (nothing to count from: it may be new)."""
    if last_reading is None:
        return None
    return max(0, months_between(last_due, last_reading))


def long_without_readings(missing: int | None) -> bool:
    """Home lists the meter: no reading for MISSING_PERIODS_SHOWN or more periods."""
    return missing is not None and missing >= MISSING_PERIODS_SHOWN


def charged_by_calculation(missing: int | None) -> bool:
    """More than CALCULATED_METHOD_AFTER months without readings: billing calculates."""
    return missing is not None and missing > CALCULATED_METHOD_AFTER


def verification_attention(today: date, due: date | None) -> str | None:
    """"overdue" (the grid's flag), "soon" (the 30-day mail's rule), else None."""
    if verification_overdue(today, due):
        return "overdue"
    if verification_due_soon(today, due):
        return "soon"
    return None
