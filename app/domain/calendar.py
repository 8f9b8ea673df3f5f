"""Working days, reporting periods and submission windows (rule R1)."""

import calendar as _stdcal
import re
from collections.abc import Mapping
from datetime import date, timedelta
from functools import lru_cache
from typing import Literal

import holidays

WindowState = Literal["before", "open", "closed"]

_PERIOD_RE = re.compile(r"([0-9]{4})-([0-9]{2})")


@lru_cache(maxsize=64)
def _non_working_days(year: int) -> frozenset[date]:
    # A fresh holidays object per year: no shared mutable state between threads.
    base = holidays.country_holidays("RU", years=year)
    day = date(year, 1, 1)
    off = set()
    while day.year == year:
        if not base.is_working_day(day):
            off.add(day)
        day += timedelta(days=1)
    return frozenset(off)


class WorkingCalendar:
    """Russian production calendar with operator overrides (True = working); overrides win."""

    def __init__(self, overrides: Mapping[date, bool] | None = None) -> None:
        self.overrides: dict[date, bool] = dict(overrides or {})

    def is_working_day(self, d: date) -> bool:
        override = self.overrides.get(d)
        if override is not None:
            return override
        return d not in _non_working_days(d.year)

    def next_working_day(self, d: date) -> date:
        """The first working day on or after `d`."""
        for _ in range(366):
            if self.is_working_day(d):
                return d
            d += timedelta(days=1)
        raise ValueError(f"no working day within a year after {d.isoformat()}")


def month_start(d: date) -> date:
    return d.replace(day=1)


def parse_period(raw: str) -> date:
    """Parse `YYYY-MM` into the first day of that month."""
    m = _PERIOD_RE.fullmatch(raw.strip())
    if not m or not 1 <= int(m[2]) <= 12 or int(m[1]) < 1:
        raise ValueError(f"invalid period {raw!r}, expected YYYY-MM")
    return date(int(m[1]), int(m[2]), 1)


def period_value(period: date) -> str:
    """The period as `YYYY-MM` (the inverse of parse_period); labels are i18n.format_period."""
    return f"{period.year:04d}-{period.month:02d}"


def add_months(period: date, n: int) -> date:
    """First day of the month `n` months after the month of `period` (n may be negative)."""
    index = period.year * 12 + period.month - 1 + n
    return date(index // 12, index % 12 + 1, 1)


def deadline_date(period: date, deadline_day: int) -> date:
    """D of rule R1: day `deadline_day` of the period's month, clamped to its last day."""
    if not 1 <= deadline_day <= 31:
        raise ValueError(f"deadline day must be within 1..31, got {deadline_day}")
    last = _stdcal.monthrange(period.year, period.month)[1]
    return date(period.year, period.month, min(deadline_day, last))


def submission_window(
    period: date, deadline_day: int, calendar: WorkingCalendar
) -> tuple[date, date]:
    """Rule R1: (D − 2 days, first working day on or after D), both inclusive."""
    d = deadline_date(period, deadline_day)
    return d - timedelta(days=2), calendar.next_working_day(d)


def window_state(today: date, window: tuple[date, date]) -> WindowState:
    opens, closes = window
    if today < opens:
        return "before"
    return "open" if today <= closes else "closed"


def period_for_windows(today: date, windows: Mapping[date, tuple[date, date]]) -> date | None:
    """The period whose window contains today, else the next to open, else the latest."""
    if not windows:
        return None
    open_now = [p for p, w in windows.items() if window_state(today, w) == "open"]
    if open_now:
        return min(open_now, key=lambda p: (windows[p][1], p))
    upcoming = [p for p, w in windows.items() if w[0] > today]
    if upcoming:
        return min(upcoming, key=lambda p: (windows[p][0], p))
    return max(windows)


def candidate_periods(today: date, count_back: int = 3, count_forward: int = 1) -> list[date]:
    """Months from `count_forward` ahead down to `count_back` behind today, newest first."""
    current = month_start(today)
    return [add_months(current, n) for n in range(count_forward, -count_back - 1, -1)]
