"""The API's wire models: msgspec Structs that Litestar decodes, validates and describes in
the OpenAPI document. Ids on the wire are billing ids (contract «№», meter «Код прибора»)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Literal

from msgspec import Meta, Struct

MAX_ITEMS = 1000
BillingId = Annotated[int, Meta(ge=1, le=2**31 - 1, description="A billing id")]
Period = Annotated[str, Meta(pattern=r"^[0-9]{4}-(0[1-9]|1[0-2])$", examples=["2026-11"],
                             description="Reporting period, YYYY-MM")]
Kind = Literal["cold", "hot"]


class Contract(Struct):
    id: BillingId
    number: str
    counterparty: str
    inn: str
    deadline_day: int
    discharge_deadline_day: int


class PreviousReading(Struct):
    period: str
    value: float  # m³ (cold: whole, hot: up to 3 decimals)
    date: dt.date


class Meter(Struct):
    id: BillingId
    kind: Kind
    serial: str
    model: str
    address: str
    verification_due: dt.date | None
    digits: int
    previous: PreviousReading | None


class Window(Struct):
    opens: dt.date
    closes: dt.date
    state: Literal["before", "open", "closed"]


class Windows(Struct):
    period: str
    cold: Window
    hot: Window


class ReadingItem(Struct, forbid_unknown_fields=True):
    meter_id: BillingId
    # Decimal: msgspec keeps the JSON number's digits exactly as sent (no float rounding);
    # the document says "number", which is what integrators send (a numeric string is also
    # accepted).
    value: Annotated[Decimal, Meta(extra_json_schema={
        "description": "m³: whole for cold meters, up to 3 decimals for hot-water discharge "
                       "volumes", "extra": {"type": "number"}})]
    date: Annotated[dt.date, Meta(description="Reading date, ISO YYYY-MM-DD")]
    confirm_rollover: bool = False
    confirm_anomaly: bool = False


class SubmitReadings(Struct, forbid_unknown_fields=True):
    period: Period
    items: Annotated[list[ReadingItem], Meta(min_length=1, max_length=MAX_ITEMS)]
    transmit: bool = False
    kind: Kind | None = None  # when given, every item's meter must be of this kind


class ItemProblem(Struct):
    code: str
    message: str


class ItemResult(Struct):
    meter_id: int
    status: Literal["draft", "transmitted", "accepted", "refused"]
    problems: list[ItemProblem]


class SubmitResult(Struct):
    items: list[ItemResult]
    receipts: list[int]  # «Квитанция о передаче №» of what this request transmitted


class Reading(Struct):
    meter_id: int
    period: str
    value: float  # m³
    date: dt.date
    status: Literal["draft", "transmitted", "accepted", "rejected"]
    reason: Annotated[str | None, Meta(description=(
        "Billing's reason for a rejection, in the token owner's language (as problem messages "
        "are); null when not rejected"))]
    reason_code: Annotated[str | None, Meta(description=(
        "The reason's stable code (not_active, negative, digits, below_last, "
        "date_before_last, rejected, or billing's own); null when billing gave only text "
        "or the reading is not rejected"), examples=["below_last"])] = None


class FieldError(Struct):
    field: str
    message: str


class ProblemDetails(Struct, omit_defaults=True):
    """RFC 9457 application/problem+json, the body of every API error."""

    status: int
    title: str
    type: str = "about:blank"
    detail: str = ""
    errors: list[FieldError] = []
