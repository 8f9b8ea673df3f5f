"""A meter's history (SPEC §11): consumption series with rollovers and gaps, the anomaly
baseline the chart draws, the text summary and the chart's geometry — as tables."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from app.domain.history import (
    PeriodReading,
    chart_layout,
    consumption_series,
    history_baseline,
    history_periods,
    nice_step,
    summarize,
)
from app.domain.readings import check_cold_reading, consumptions_from_history

A, T, D, R = "accepted", "transmitted", "draft", "rejected"


def p(month: int, year: int = 2026) -> date:
    return date(year, month, 1)


def readings(*rows: tuple) -> list[PeriodReading]:
    """(month, value, status) rows of 2026."""
    return [PeriodReading(p(m), Decimal(v), p(m).replace(day=20), s) for m, v, s in rows]


def series(kind: str, digits: int, rows: list[PeriodReading], first: int, last: int):
    """(month, consumption, spans, rollover, gap) per period from `first` to `last` of 2026."""
    months = consumption_series(kind, digits, rows, [p(m) for m in range(first, last + 1)])
    return [(m.period.month, m.consumption, m.spans, m.rollover, m.gap) for m in months]


@pytest.mark.parametrize(("rows", "expected", "why"), [
    (readings((1, 100, A), (2, 110, A), (3, 125, T)),
     [(2, 10, 1, False, False), (3, 15, 1, False, False)],
     "accepted and transmitted both count; the first needs the reading before the range"),
    (readings((1, 99_990, A), (2, 5, A)),
     [(2, 15, 1, True, False), (3, None, 1, False, True)],
     "through zero on a 5-digit dial: 5 + 100000 − 99990, shown as a rollover"),
    (readings((1, 100, A), (3, 130, A)),
     [(2, None, 1, False, True), (3, 30, 2, False, False)],
     "a gap stays a gap; the next consumption covers two months"),
    (readings((1, 100, A), (2, 104, D), (3, 120, A)),
     [(2, None, 1, False, True), (3, 20, 2, False, False)],
     "a draft is not a reading billing has: a gap, and not the base of the next"),
    (readings((1, 100, A), (2, 5, R), (3, 112, T)),
     [(2, None, 1, False, True), (3, 12, 2, False, False)],
     "a rejected value is a gap, never a rollover"),
    (readings((1, 100, A), (2, 100, A)),
     [(2, 0, 1, False, False), (3, None, 1, False, True)],
     "zero consumption is data, not a gap"),
])
def test_cold_consumption_series(rows, expected, why):
    assert series("cold", 5, rows, 2, 3) == expected, why


def test_hot_volumes_are_per_period_amounts():
    rows = readings((1, "1.500", A), (2, "0.750", T), (4, "2.000", R))
    assert series("hot", 5, rows, 1, 4) == [
        (1, Decimal("1.500"), 1, False, False), (2, Decimal("0.750"), 1, False, False),
        (3, None, 1, False, True), (4, None, 1, False, True)]
    assert history_baseline("hot", 5, rows) is None  # R3 has no anomaly check


def test_history_periods_are_36_months_up_to_the_current_one():
    periods = history_periods(date(2026, 12, 1))
    assert (len(periods), periods[0], periods[-1]) == (36, date(2024, 1, 1), date(2026, 12, 1))


@pytest.mark.parametrize(("rows", "mean", "threshold", "why"), [
    (readings((1, 100, A), (2, 110, A), (3, 130, A)), "15", "45", "two consumptions: 10, 20"),
    (readings(*[(m, 100 + 10 * m, A) for m in range(1, 11)]), "10", "30",
     "ten accepted months: only the last six consumptions count"),
    (readings((1, 100, A), (2, 110, A), (3, 500, T)), "10", "30",
     "a transmitted (not yet accepted) value is not in the baseline"),
    (readings((1, 99_995, A), (2, 7, A), (3, 10, A)), "7.5", "22.5",
     "a rollover's consumption (12) is in it, as in the grid"),
    (readings((1, 100, A)), None, None, "one reading: nothing to compare with"),
    (readings((1, 100, A), (2, 100, A)), None, None, "only zero consumption: no baseline"),
])
def test_baseline_is_the_anomaly_checks(rows, mean, threshold, why):
    baseline = history_baseline("cold", 5, rows)
    if mean is None:
        assert baseline is None, why
        return
    assert (baseline.mean, baseline.threshold) == (Decimal(mean), Decimal(threshold)), why
    # The very rule the grid applies: above the 3× line asks for a confirmation, at it not.
    newest = [int(r.value) for r in sorted(rows, key=lambda r: r.period, reverse=True)
              if r.status == A]
    history = consumptions_from_history(newest, 5)
    above = int(Decimal(threshold)) + 1

    def asks(consumption: int) -> bool:
        check = check_cold_reading(newest[0] + consumption, 6, date(2026, 12, 20),
                                   date(2026, 12, 20), _Prev(newest[0]), history, True, False)
        return any(c.code == "anomaly" for c in check.confirmations)

    assert asks(above) and not asks(int(Decimal(threshold) * 2 // 3)), why


class _Prev:
    def __init__(self, value: int) -> None:
        self.value, self.read_on = value, date(2026, 1, 1)


def test_summary_counts_gaps_rollovers_peak_and_mean():
    rows = readings((1, 99_990, A), (2, 5, A), (4, 45, A), (5, 50, T))
    months = consumption_series("cold", 5, rows, [p(m) for m in range(1, 7)])
    s = summarize(months)
    assert (s.months_with_data, s.total, s.mean, s.peak.period, s.gaps, s.rollovers) == (
        3, Decimal(60), Decimal(20), p(4), 2, 1)  # Jan: no previous → no bar, not a gap


@pytest.mark.parametrize(("top", "step"), [
    (Decimal(0), Decimal(1)), (Decimal(7), Decimal(2)), (Decimal(10), Decimal(5)),
    (Decimal(45), Decimal(20)), (Decimal(100), Decimal(50)), (Decimal("0.9"), Decimal("0.5")),
    (Decimal(1234), Decimal(500)),
])
def test_nice_step(top, step):
    assert nice_step(top) == step


def test_chart_one_bar_per_month_with_consumption_and_lines_inside_the_plot():
    rows = readings((1, 100, A), (2, 110, A), (3, 120, A), (5, 160, T), (6, 160, A))
    months = consumption_series("cold", 5, rows, [p(m) for m in range(1, 7)])
    chart = chart_layout(months, history_baseline("cold", 5, rows))
    assert [b.month.period.month for b in chart.bars] == [2, 3, 5, 6]
    assert [m.period.month for _, m in chart.gaps] == [4]
    heights = {b.month.period.month: b.height for b in chart.bars}
    assert heights[5] > heights[2] == heights[3] > heights[6] == 1  # zero: a hairline
    assert chart.top <= chart.threshold_y < chart.mean_y < chart.bottom
    # the y grid starts at 0 on the axis and reaches the highest bar (40 m³ over two months)
    assert chart.ticks[0] == (chart.bottom, Decimal(0))
    assert chart.ticks[-1][1] >= Decimal(40)


def test_chart_scale_reaches_the_3x_line_above_every_bar():
    rows = readings((1, 100, A), (2, 110, A), (3, 120, A))  # mean 10, 3× = 30
    chart = chart_layout(consumption_series("cold", 5, rows, [p(2), p(3)]),
                         history_baseline("cold", 5, rows))
    assert chart.ticks[-1][1] >= Decimal(30)
    assert chart.top <= chart.threshold_y
    assert all(chart.top <= b.y <= chart.bottom for b in chart.bars)


@pytest.mark.parametrize(("peak", "last_tick"), [
    (248, 300), (200, 200), (201, 300), (3, 3), (0, 1), (45, 60),
])
def test_the_y_grid_reaches_the_highest_bar(peak, last_tick):
    """Every bar stays inside the plot: the last grid line is at or above the peak."""
    rows = readings((1, 1000, A), (2, 1000 + peak, T))
    chart = chart_layout(consumption_series("cold", 5, rows, [p(2)]), None)
    assert chart.ticks[-1][1] == last_tick
    [bar] = chart.bars
    assert chart.top <= bar.y <= chart.bottom
