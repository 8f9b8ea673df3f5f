"""A meter's history (SPEC §11, /meters/{id}): monthly consumption over up to 36 periods,
the anomaly baseline of R2, and the bar chart's geometry. Pure.

Consumption is what R2 says it is: current − previous transmitted/accepted reading, through
zero on a rollover (`consumption_between`); a hot meter's discharge volume is already a
per-period amount. A period without such a reading is a gap: no bar, and the next
reading's consumption covers the months since the previous one (`spans`). The mean and 3×
lines are `anomaly_baseline` of the accepted history — exactly what the grid's check would
compare the next reading with.

Why geometry here and markup in a Jinja macro (templates/meters/_chart.html), not a chart
library: the numbers are testable as tables without parsing SVG; the labels go through
Babel and Jinja's autoescape like every other text; nothing needs JavaScript or inline
styles (the CSP allows neither: pygal, for one, ships both).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from app.domain.billing_checks import RejectReason
from app.domain.calendar import add_months
from app.domain.dashboard import months_between
from app.domain.notifications import TRANSMITTED_STATUSES
from app.domain.readings import (
    AnomalyBaseline,
    anomaly_baseline,
    consumption_between,
    consumptions_from_history,
)
from app.domain.vocabulary import MeterKind, ReadingStatus

HISTORY_MONTHS = 36


@dataclass(frozen=True)
class PeriodReading:
    """The reading a period shows: its live one (draft, transmitted, accepted), else the
    latest rejected."""

    period: date
    value: Decimal
    read_on: date
    status: str
    reject_reason: RejectReason | None = None

    @property
    def counted(self) -> bool:
        """Transmitted or accepted: a value billing has (a draft or a rejected one is not)."""
        return self.status in TRANSMITTED_STATUSES


@dataclass(frozen=True)
class HistoryMonth:
    period: date
    reading: PeriodReading | None
    consumption: Decimal | None = None  # since the previous counted reading
    spans: int = 1  # months that consumption covers (> 1 after a gap)
    rollover: bool = False

    @property
    def gap(self) -> bool:
        return self.reading is None or not self.reading.counted

    @property
    def accepted(self) -> bool:
        return self.reading is not None and self.reading.status == ReadingStatus.accepted


def history_periods(end: date, months: int = HISTORY_MONTHS) -> list[date]:
    """The `months` periods up to and including `end`, oldest first."""
    return [add_months(end, -back) for back in range(months - 1, -1, -1)]


def consumption_series(kind: str, digits: int, readings: Sequence[PeriodReading],
                       periods: Sequence[date]) -> list[HistoryMonth]:
    """One HistoryMonth per period of `periods` (oldest first). `readings` may start before
    the first period (the reading the first consumption is measured from)."""
    by_period = {r.period: r for r in readings}
    consumption: dict[date, tuple[Decimal, int, bool]] = {}
    previous: PeriodReading | None = None
    for reading in sorted(readings, key=lambda r: r.period):
        if not reading.counted:
            continue
        if kind == MeterKind.hot:
            consumption[reading.period] = (reading.value, 1, False)
        elif previous is not None:
            newer, older = int(reading.value), int(previous.value)
            consumption[reading.period] = (
                Decimal(consumption_between(newer, older, digits)),
                months_between(reading.period, previous.period), newer < older)
        previous = reading
    months = []
    for period in periods:
        used, spans, rollover = consumption.get(period, (None, 1, False))
        months.append(HistoryMonth(period, by_period.get(period), used, spans, rollover))
    return months


def history_baseline(kind: str, digits: int,
                     readings: Sequence[PeriodReading]) -> AnomalyBaseline | None:
    """The mean R2's anomaly check would compare the next cold reading with: consumptions
    between the latest accepted readings (as the grid reads them). None for hot meters,
    which have no such check (R3)."""
    if kind != MeterKind.cold:
        return None
    accepted = sorted((r for r in readings if r.status == ReadingStatus.accepted),
                      key=lambda r: r.period, reverse=True)
    return anomaly_baseline(consumptions_from_history([int(r.value) for r in accepted],
                                                      digits))


@dataclass(frozen=True)
class Summary:
    months_with_data: int
    total: Decimal
    mean: Decimal | None
    peak: HistoryMonth | None
    gaps: int
    rollovers: int


def summarize(months: Sequence[HistoryMonth]) -> Summary:
    """What the chart's text alternative says."""
    used = [m for m in months if m.consumption is not None]
    total = sum((m.consumption for m in used), Decimal(0))
    mean = (total / len(used)).quantize(Decimal("0.001")) if used else None
    peak = max(used, key=lambda m: (m.consumption, m.period)) if used else None
    return Summary(len(used), total, mean, peak, sum(1 for m in months if m.gap),
                   sum(1 for m in used if m.rollover))


# ---------------------------------------------------------------- chart geometry


@dataclass(frozen=True)
class Bar:
    month: HistoryMonth
    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    left: int
    top: int
    right: int
    bottom: int  # the plot area's edges (the x axis is at `bottom`)
    slot: float  # horizontal room per period
    bars: list[Bar]
    gaps: list[tuple[float, HistoryMonth]]  # x of the slot's centre of each gap period
    ticks: list[tuple[float, Decimal]]  # (y, value) of the horizontal grid lines
    labels: list[tuple[float, date]]  # (x of the slot's centre, period) of the x axis
    mean_y: float | None
    threshold_y: float | None


def nice_step(top: Decimal, lines: int = 4) -> Decimal:
    """A round step (1, 2 or 5 × 10^k) that splits 0..top into about `lines` intervals."""
    if top <= 0:
        return Decimal(1)
    raw = top / lines
    exponent = raw.adjusted()
    for mantissa in (1, 2, 5, 10):
        step = Decimal(mantissa).scaleb(exponent)
        if step >= raw:
            return step
    return Decimal(10).scaleb(exponent)  # not reached


def chart_layout(months: Sequence[HistoryMonth], baseline: AnomalyBaseline | None,
                 width: int = 720, height: int = 260) -> Chart:
    """Bars of the months with a consumption, the gaps, the y grid, the mean and 3× lines.
    The y scale reaches the highest bar or the 3× line, whichever is higher, so both show."""
    left, top, right, bottom = 56, 12, width - 8, height - 28
    slot = (right - left) / max(1, len(months))
    peak = max((m.consumption for m in months if m.consumption is not None),
               default=Decimal(0))
    if baseline is not None:
        peak = max(peak, baseline.threshold)
    step = nice_step(peak)
    # the first grid line at or above the peak (math.ceil: Decimal's // truncates toward 0)
    ceiling = step * max(1, math.ceil(peak / step))

    def y_of(value: Decimal) -> float:
        return round(bottom - float(value / ceiling) * (bottom - top), 1)

    bars, gaps, labels = [], [], []
    for i, month in enumerate(months):
        centre = left + slot * (i + 0.5)
        if month.consumption is not None:
            y = y_of(month.consumption)
            # a zero consumption is data too: a hairline, not nothing
            y = min(y, bottom - 1)
            bars.append(Bar(month, round(centre - slot * 0.35, 1), y, round(slot * 0.7, 1),
                            round(bottom - y, 1)))
        elif month.gap:
            gaps.append((round(centre, 1), month))
        if month.period.month in (1, 4, 7, 10):
            labels.append((round(centre, 1), month.period))
    ticks = [(y_of(step * n), step * n) for n in range(int(ceiling / step) + 1)]
    return Chart(width, height, left, top, right, bottom, round(slot, 2), bars, gaps, ticks,
                 labels, y_of(baseline.mean) if baseline else None,
                 y_of(baseline.threshold) if baseline else None)
