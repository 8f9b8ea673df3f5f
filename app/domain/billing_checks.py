"""Billing-side acceptance of handed-over readings (R7), and what the hand-off carries.

The built-in billing adapter answers with these checks; a real billing integration would
answer with its own. A rejection is a reason code with its parameters (REJECT_REASONS), stored
as data and put into words at display time in the reader's language (RejectReason.text); a
real billing's own words (an unknown code or free text) are kept and shown as they came.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from app.domain import N_, Problem
from app.domain.vocabulary import MeterKind

# Billing's reject reasons: code → Russian message (a Babel msgid) with {params}.
REJECT_REASONS: dict[str, str] = {
    "not_active": N_("Прибор учёта не числится действующим в биллинге"),
    "negative": N_("Объём не может быть отрицательным"),
    "digits": N_("Показание не соответствует разрядности прибора учёта ({digits})"),
    "below_last": N_(
        "Показание {value} меньше последнего принятого ({last}), переход через ноль не подтверждён"
    ),
    "date_before_last": N_(
        "Дата показания {read_on} раньше даты последнего принятого показания ({last_read_on})"
    ),
    # billing refused without saying why
    "rejected": N_("Отклонено биллингом"),
}

# How a stored (JSON) parameter becomes the value its message formats: numbers and dates are
# then written the reader's way (Problem.text).
_PARAM_TYPES: dict[str, Callable[[Any], Any]] = {
    "digits": int,
    "value": lambda v: Decimal(str(v)),
    "last": lambda v: Decimal(str(v)),
    "read_on": date.fromisoformat,
    "last_read_on": date.fromisoformat,
}


def _json_param(value: object) -> object:
    """A parameter as stored: Decimal → its digits as text, date → ISO, int as is."""
    if isinstance(value, Decimal):
        return f"{value.normalize():f}" if value == value.to_integral_value() else str(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


@dataclass(frozen=True)
class RejectReason:
    """Why billing rejected a reading: a code with parameters, and/or billing's own text."""

    code: str | None = None
    params: Mapping[str, Any] = field(default_factory=dict)
    text: str | None = None  # billing's words as they came (also the built-in's Russian text)

    @classmethod
    def of(cls, code: str | None, params: Mapping[str, Any] | str | None,
           text: str | None) -> RejectReason | None:
        """From stored columns (params may be JSON text); None when there is no reason."""
        if code is None and not text:
            return None
        if isinstance(params, str):
            try:
                params = json.loads(params)
            except ValueError:
                params = None
        return cls(code, params if isinstance(params, Mapping) else {}, text)

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> RejectReason | None:
        """From a reading row's reject_code, reject_params and reject_reason."""
        return cls.of(row["reject_code"], row["reject_params"], row["reject_reason"])

    @classmethod
    def coded(cls, code: str, **params: object) -> RejectReason:
        """A built-in reason; its text is the Russian message (audit notes, fallback)."""
        stored = {k: _json_param(v) for k, v in params.items()}
        reason = cls(code, stored)
        return replace(reason, text=reason.text_in(lambda s: s, _ru_number, _ru_date))

    @property
    def json_params(self) -> str | None:
        return json.dumps(dict(self.params), ensure_ascii=False) if self.code else None

    def problem(self) -> Problem | None:
        """The known code as a Problem with typed params; None for billing's own words."""
        message = REJECT_REASONS.get(self.code or "")
        if message is None:
            return None
        try:
            params = {k: _PARAM_TYPES.get(k, str)(v) for k, v in self.params.items()}
            message.format(**params)  # every placeholder has its parameter
        except (KeyError, IndexError, ValueError, TypeError, InvalidOperation):
            return None
        return Problem(self.code, message, params)

    def text_in(self, gettext: Callable[[str], str], number: Callable[[Any], str],
                day: Callable[[date], str]) -> str:
        """The reason in the caller's language; billing's own text as is when the code is
        unknown (or its parameters do not fit the message)."""
        problem = self.problem()
        if problem is not None:
            return problem.text(gettext, number, day)
        return self.text or gettext(REJECT_REASONS["rejected"])


def _ru_number(value: Decimal) -> str:
    return f"{value:f}".replace(".", ",")


def _ru_date(d: date) -> str:
    return d.strftime("%d.%m.%Y")


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
    reason: RejectReason | None = None


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
    reason: RejectReason | None = None


def _reject(code: str, **params: object) -> Verdict:
    return Verdict(False, RejectReason.coded(code, **params))


def judge(item: HandedOver, meter: BillingMeterState) -> Verdict:
    """Accept or reject one item against billing's state of its meter."""
    if not meter.active:
        return _reject("not_active")
    if item.value < 0:
        return _reject("negative")
    if item.kind == MeterKind.cold:
        if item.value != item.value.to_integral_value() or item.value >= 10**meter.digits:
            return _reject("digits", digits=meter.digits)
        if (
            meter.last_value is not None
            and item.value < meter.last_value
            and not item.rollover_confirmed
        ):
            return _reject("below_last", value=item.value, last=meter.last_value)
    if meter.last_read_on is not None and item.read_on < meter.last_read_on:
        return _reject("date_before_last", read_on=item.read_on, last_read_on=meter.last_read_on)
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
