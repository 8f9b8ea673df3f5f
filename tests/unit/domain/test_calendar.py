"""Submission windows (R1) against the Russian production calendar, 2018–2027."""

from datetime import date

import pytest

from app.domain.calendar import (
    WorkingCalendar,
    add_months,
    candidate_periods,
    month_start,
    parse_period,
    period_for_windows,
    submission_window,
    window_state,
)

CAL = WorkingCalendar()

# (period, deadline day, opens, closes, why) — expectations worked out by hand.
WINDOWS = [
    ("2018-10", 8, "2018-10-06", "2018-10-08", "SPEC example: Mon 08.10"),
    ("2018-10", 6, "2018-10-04", "2018-10-08", "Sat 06.10 -> Mon 08.10"),
    ("2018-01", 8, "2018-01-06", "2018-01-09", "New Year holidays end 08.01"),
    ("2018-03", 8, "2018-03-06", "2018-03-12", "08.03 Thu, 09.03 transferred off, weekend"),
    ("2018-04", 28, "2018-04-26", "2018-04-28", "working Saturday"),
    ("2018-04", 29, "2018-04-27", "2018-05-03", "29.04 Sun, 30.04 off, 01.05, 02.05 off"),
    ("2018-06", 9, "2018-06-07", "2018-06-09", "working Saturday"),
    ("2018-12", 29, "2018-12-27", "2018-12-29", "working Saturday"),
    ("2018-12", 30, "2018-12-28", "2019-01-09", "30.12 Sun, 31.12 off, New Year"),
    ("2019-02", 23, "2019-02-21", "2019-02-25", "Sat holiday moved to 10.05 by decree"),
    ("2019-02", 29, "2019-02-26", "2019-02-28", "clamped, non-leap, Thu"),
    ("2019-05", 1, "2019-04-29", "2019-05-06", "01–03.05 off, weekend"),
    ("2019-05", 9, "2019-05-07", "2019-05-13", "09.05 Thu, 10.05 transferred off"),
    ("2019-10", 8, "2019-10-06", "2019-10-08", "plain Tuesday"),
    ("2020-02", 23, "2020-02-21", "2020-02-25", "Sun holiday -> Mon 24.02 off"),
    ("2020-02", 29, "2020-02-27", "2020-03-02", "leap day is a Saturday"),
    ("2020-02", 31, "2020-02-27", "2020-03-02", "clamped to 29.02 (leap)"),
    ("2020-05", 9, "2020-05-07", "2020-05-12", "Sat holiday -> Mon 11.05 off"),
    ("2021-02", 20, "2021-02-18", "2021-02-20", "working Saturday"),
    ("2021-02", 21, "2021-02-19", "2021-02-24", "22.02 transferred off, 23.02"),
    ("2021-11", 4, "2021-11-02", "2021-11-08", "04.11 Thu, 05.11 transferred off"),
    ("2021-12", 31, "2021-12-29", "2022-01-10", "31.12 off, New Year through Sun 09.01"),
    ("2022-03", 5, "2022-03-03", "2022-03-05", "working Saturday"),
    ("2022-03", 6, "2022-03-04", "2022-03-09", "07.03 transferred off, 08.03"),
    ("2022-06", 12, "2022-06-10", "2022-06-14", "Sun holiday -> Mon 13.06 off"),
    ("2023-02", 23, "2023-02-21", "2023-02-27", "23.02 Thu, 24.02 transferred off"),
    ("2023-02", 31, "2023-02-26", "2023-02-28", "clamped, non-leap, Tue"),
    ("2023-11", 4, "2023-11-02", "2023-11-07", "Sat holiday -> Mon 06.11 off"),
    ("2024-02", 30, "2024-02-27", "2024-02-29", "clamped to leap day, Thu"),
    ("2024-04", 27, "2024-04-25", "2024-04-27", "working Saturday"),
    ("2024-04", 28, "2024-04-26", "2024-05-02", "29–30.04 transferred off, 01.05"),
    ("2024-05", 9, "2024-05-07", "2024-05-13", "09.05 Thu, 10.05 transferred off"),
    ("2024-11", 2, "2024-10-31", "2024-11-02", "working Saturday"),
    ("2024-11", 3, "2024-11-01", "2024-11-05", "Sun, then 04.11 Mon"),
    ("2024-12", 28, "2024-12-26", "2024-12-28", "working Saturday"),
    ("2024-12", 29, "2024-12-27", "2025-01-09", "30–31.12 transferred off, New Year"),
    ("2025-01", 1, "2024-12-30", "2025-01-09", "window opens in the previous year"),
    ("2025-05", 8, "2025-05-06", "2025-05-12", "08.05 transferred off, 09.05, weekend"),
    ("2025-06", 12, "2025-06-10", "2025-06-16", "12.06 Thu, 13.06 transferred off"),
    ("2025-11", 1, "2025-10-30", "2025-11-01", "working Saturday"),
    ("2025-11", 2, "2025-10-31", "2025-11-05", "03.11 transferred off, 04.11"),
    ("2026-01", 8, "2026-01-06", "2026-01-12", "09.01 transferred off, weekend"),
    ("2026-03", 8, "2026-03-06", "2026-03-10", "Sun holiday -> Mon 09.03 off"),
    ("2026-10", 15, "2026-10-13", "2026-10-15", "plain Thursday"),
    ("2027-02", 29, "2027-02-26", "2027-03-01", "clamped to Sun 28.02"),
    ("2027-05", 9, "2027-05-07", "2027-05-11", "Sun holiday -> Mon 10.05 off"),
    ("2027-06", 12, "2027-06-10", "2027-06-15", "Sat holiday -> Mon 14.06 off"),
]


@pytest.mark.parametrize(("period", "day", "opens", "closes", "why"), WINDOWS)
def test_submission_window(period, day, opens, closes, why):
    assert submission_window(parse_period(period), day, CAL) == (
        date.fromisoformat(opens),
        date.fromisoformat(closes),
    ), why


@pytest.mark.parametrize(
    ("overrides", "period", "day", "opens", "closes"),
    [
        ({date(2018, 10, 8): False}, "2018-10", 8, "2018-10-06", "2018-10-09"),
        ({date(2018, 10, 6): True}, "2018-10", 6, "2018-10-04", "2018-10-06"),
        ({date(2024, 5, 10): True}, "2024-05", 9, "2024-05-07", "2024-05-10"),
        ({date(2024, 5, 9): True}, "2024-05", 9, "2024-05-07", "2024-05-09"),
        ({date(2025, 1, 9): False}, "2024-12", 29, "2024-12-27", "2025-01-10"),
        ({date(2024, 4, 27): False}, "2024-04", 27, "2024-04-25", "2024-05-02"),
        ({date(2018, 10, 1): False}, "2018-10", 8, "2018-10-06", "2018-10-08"),
    ],
)
def test_submission_window_with_overrides(overrides, period, day, opens, closes):
    window = submission_window(parse_period(period), day, WorkingCalendar(overrides))
    assert window == (date.fromisoformat(opens), date.fromisoformat(closes))


def test_period_may_be_any_day_of_the_month():
    assert submission_window(date(2018, 10, 27), 8, CAL) == (date(2018, 10, 6), date(2018, 10, 8))


@pytest.mark.parametrize("day", [0, 32, -1])
def test_deadline_day_out_of_range(day):
    with pytest.raises(ValueError):
        submission_window(date(2018, 10, 1), day, CAL)


@pytest.mark.parametrize(
    ("day", "working"),
    [
        ("2024-04-27", True),  # working Saturday
        ("2024-04-29", False),  # transferred day off
        ("2024-05-10", False),
        ("2024-12-28", True),
        ("2025-11-01", True),
        ("2025-11-08", False),  # ordinary Saturday
        ("2026-01-09", False),
        ("2019-01-09", True),
        ("2021-02-20", True),
        ("2022-12-30", True),  # ordinary Friday
    ],
)
def test_is_working_day(day, working):
    assert CAL.is_working_day(date.fromisoformat(day)) is working


def test_overrides_win():
    cal = WorkingCalendar({date(2024, 5, 10): True, date(2024, 5, 13): False})
    assert cal.is_working_day(date(2024, 5, 10)) is True
    assert cal.is_working_day(date(2024, 5, 13)) is False
    assert cal.is_working_day(date(2024, 5, 14)) is True


@pytest.mark.parametrize(
    ("today", "state"),
    [
        ("2018-10-05", "before"),
        ("2018-10-06", "open"),
        ("2018-10-07", "open"),
        ("2018-10-08", "open"),
        ("2018-10-09", "closed"),
    ],
)
def test_window_state(today, state):
    window = (date(2018, 10, 6), date(2018, 10, 8))
    assert window_state(date.fromisoformat(today), window) == state


PERIODS = [date(2018, 8, 1), date(2018, 9, 1), date(2018, 10, 1), date(2018, 11, 1)]


@pytest.mark.parametrize(
    ("today", "expected"),
    [
        ("2018-10-07", "2018-10"),  # inside October's window
        ("2018-09-09", "2018-09"),  # Sun, September window 06.09–10.09 still open
        ("2018-09-10", "2018-09"),
        ("2018-09-11", "2018-10"),  # next to open
        ("2018-10-01", "2018-10"),
        ("2018-10-09", "2018-11"),
        ("2018-07-01", "2018-08"),
        ("2018-12-20", "2018-11"),  # nothing open or upcoming: the latest
    ],
)
def test_period_for_windows(today, expected):
    windows = {p: submission_window(p, 8, CAL) for p in PERIODS}
    assert period_for_windows(date.fromisoformat(today), windows) == parse_period(expected)


def test_period_for_windows_without_periods():
    assert period_for_windows(date(2018, 10, 7), {}) is None


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2018-10", date(2018, 10, 1)),
        (" 2027-01 ", date(2027, 1, 1)),
        ("2024-12", date(2024, 12, 1)),
    ],
)
def test_parse_period(raw, expected):
    assert parse_period(raw) == expected


@pytest.mark.parametrize(
    "raw", ["", "2018-13", "2018-00", "2018-1", "18-10", "2018/10", "2018-10-01", "0000-01", "abc"]
)
def test_parse_period_rejects(raw):
    with pytest.raises(ValueError):
        parse_period(raw)


@pytest.mark.parametrize(
    ("period", "n", "expected"),
    [
        (date(2018, 10, 1), 1, date(2018, 11, 1)),
        (date(2018, 12, 1), 1, date(2019, 1, 1)),
        (date(2019, 1, 1), -1, date(2018, 12, 1)),
        (date(2018, 10, 15), -22, date(2016, 12, 1)),
        (date(2018, 10, 1), 0, date(2018, 10, 1)),
        (date(2020, 1, 31), 13, date(2021, 2, 1)),
    ],
)
def test_add_months(period, n, expected):
    assert add_months(period, n) == expected


def test_month_start():
    assert month_start(date(2024, 2, 29)) == date(2024, 2, 1)


def test_candidate_periods():
    assert candidate_periods(date(2019, 1, 15)) == [
        date(2019, 2, 1),
        date(2019, 1, 1),
        date(2018, 12, 1),
        date(2018, 11, 1),
        date(2018, 10, 1),
    ]
    assert candidate_periods(date(2019, 1, 15), count_back=0, count_forward=0) == [date(2019, 1, 1)]
