"""Billing-side acceptance of handed-over readings (R7), and what the hand-off carries.

The built-in billing adapter answers with these checks; a real billing integration would
answer with its own. Reasons are billing's answer text (Russian, stored as data).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal

from app.domain.vocabulary import MeterKind


@dataclass(frozen=True)
class BatchItem:
    """One transmitted reading or volume as handed to billing (ids are billing ids)."""

    reading_id: int
    contract_billing_id: int
    meter_billing_id: int
    serial: str
    kind: str
    period: date
    value: Decimal
    read_on: date
    rollover_confirmed: bool
    transmitted_at: datetime | None
    user_email: str | None


@dataclass(frozen=True)
class ItemAnswer:
    """Billing's answer on one item, with the value and date it judged."""

    reading_id: int
    value: Decimal
    read_on: date
    accepted: bool
    reason: str | None = None


@dataclass(frozen=True)
class HandedOver:
    """One reading or volume as billing received it."""

    reading_id: int
    meter_billing_id: int
    kind: str  # a MeterKind value
    period: date
    value: Decimal
    read_on: date
    rollover_confirmed: bool


@dataclass(frozen=True)
class BillingMeterState:
    """What billing knows about the meter before this item: status and last accepted reading."""

    active: bool
    digits: int
    last_value: Decimal | None = None
    last_read_on: date | None = None
    last_period: date | None = None


@dataclass(frozen=True)
class Verdict:
    accepted: bool
    reason: str | None = None


def _dmy(d: date) -> str:
    return d.strftime("%d.%m.%Y")


def _num(value: Decimal, kind: str) -> str:
    return f"{value:.0f}" if kind == MeterKind.cold else f"{value:.3f}".replace(".", ",")


def judge(item: HandedOver, meter: BillingMeterState) -> Verdict:
    """Accept or reject one item against billing's state of its meter."""
    if not meter.active:
        return Verdict(False, "Прибор учёта не числится действующим в биллинге")
    if item.value < 0:
        return Verdict(False, "Объём не может быть отрицательным")
    if item.kind == MeterKind.cold:
        if item.value != item.value.to_integral_value() or item.value >= 10**meter.digits:
            return Verdict(
                False, f"Показание не соответствует разрядности прибора учёта ({meter.digits})"
            )
        if (
            meter.last_value is not None
            and item.value < meter.last_value
            and not item.rollover_confirmed
        ):
            return Verdict(
                False,
                f"Показание {_num(item.value, MeterKind.cold)} меньше последнего принятого "
                f"({_num(meter.last_value, MeterKind.cold)}), переход через ноль не подтверждён",
            )
    if meter.last_read_on is not None and item.read_on < meter.last_read_on:
        return Verdict(
            False,
            f"Дата показания {_dmy(item.read_on)} раньше даты последнего принятого "
            f"показания ({_dmy(meter.last_read_on)})",
        )
    return Verdict(True)


def judge_batch(
    items: Iterable[HandedOver], meters: Mapping[int, BillingMeterState]
) -> dict[int, Verdict]:
    """Verdicts per reading id. `meters` maps reading id → its meter's state before the batch
    (last accepted reading of an earlier period); items of one meter are judged in period
    order, each accepted one becoming "last accepted" for the later ones."""
    verdicts: dict[int, Verdict] = {}
    carried: dict[int, BillingMeterState] = {}
    for item in sorted(items, key=lambda i: (i.meter_billing_id, i.period, i.reading_id)):
        state = meters[item.reading_id]
        earlier = carried.get(item.meter_billing_id)
        if earlier is not None and (state.last_period is None
                                    or earlier.last_period >= state.last_period):
            state = replace(state, last_value=earlier.last_value,
                            last_read_on=earlier.last_read_on, last_period=earlier.last_period)
        verdict = judge(item, state)
        verdicts[item.reading_id] = verdict
        if verdict.accepted:
            carried[item.meter_billing_id] = replace(
                state, last_value=item.value, last_read_on=item.read_on, last_period=item.period
            )
    return verdicts
