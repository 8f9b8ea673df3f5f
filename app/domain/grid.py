"""One reading grid, two screens: what differs between cold readings (R2) and volumes (R3).

A `GridKind` describes a screen (columns, how one typed row is evaluated, which deadline day
opens its window, its texts); everything else — query, controller, template — is shared.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from app.domain import N_, Problem
from app.domain.readings import (
    PreviousReading,
    ReadingError,
    check_cold_reading,
    check_volume,
    consumptions_from_history,
    parse_cold_value,
    parse_reading_date,
    parse_volume,
)
from app.domain.vocabulary import MeterKind, ReadingStatus
from app.domain.writes import StoredReading, WriteOutcome, may_write, refusal


@dataclass(frozen=True)
class MeterHistory:
    """What the rules need to know about a meter: its dial and its accepted history."""

    digits: int
    previous: PreviousReading | None
    history: Sequence[Decimal] = ()  # accepted values, newest first (previous first)


@dataclass(frozen=True)
class RowInput:
    """What the user typed in one row (raw text, kept as typed)."""

    value: str = ""
    read_on: str = ""
    confirm_rollover: bool = False
    confirm_anomaly: bool = False


@dataclass
class RowOutcome:
    value: Decimal | None = None
    read_on: date | None = None
    consumption: int | None = None
    errors: list[Problem] = field(default_factory=list)
    confirmations: list[Problem] = field(default_factory=list)  # need an explicit tick
    warnings: list[Problem] = field(default_factory=list)  # ticked confirmations
    empty: bool = False

    @property
    def ok(self) -> bool:
        """May be transmitted."""
        return not self.empty and not self.errors and not self.confirmations

    @property
    def savable(self) -> bool:
        """May be stored as a draft (unconfirmed questions do not block a draft)."""
        return not self.empty and not self.errors and self.value is not None


def _read_on(raw: str, today: date, outcome: RowOutcome) -> None:
    if not raw.strip():  # the date defaults to today
        outcome.read_on = today
        return
    try:
        outcome.read_on = parse_reading_date(raw)
    except ReadingError as exc:
        outcome.errors.append(exc.problem)


def _evaluate(
    row: RowInput, today: date, parse: Callable[[str], Decimal],
    check: Callable[[RowOutcome], None],
) -> RowOutcome:
    """The frame both kinds share: empty row, value and date parsed, then the kind's check."""
    if not row.value.strip():
        return RowOutcome(empty=True)
    outcome = RowOutcome()
    value = None
    try:
        value = parse(row.value)
    except ReadingError as exc:
        outcome.errors.append(exc.problem)
    _read_on(row.read_on, today, outcome)
    if value is not None and outcome.read_on is not None:
        outcome.value = value
        check(outcome)
    return outcome


def evaluate_cold(row: RowInput, meter: MeterHistory, today: date) -> RowOutcome:
    """R2 for one typed row; an empty value is an empty row, not an error."""

    def check(outcome: RowOutcome) -> None:
        history = consumptions_from_history([int(v) for v in meter.history], meter.digits)
        result = check_cold_reading(
            int(outcome.value), meter.digits, outcome.read_on, today, meter.previous, history,
            row.confirm_rollover, row.confirm_anomaly,
        )
        outcome.consumption = result.consumption
        outcome.errors += result.errors
        outcome.confirmations = result.confirmations
        outcome.warnings = result.warnings

    return _evaluate(row, today, lambda raw: Decimal(parse_cold_value(raw, meter.digits)), check)


def evaluate_volume(row: RowInput, meter: MeterHistory, today: date) -> RowOutcome:
    """R3 for one typed row; an empty value is an empty row, not an error."""

    def check(outcome: RowOutcome) -> None:
        outcome.errors += check_volume(outcome.value, outcome.read_on, today,
                                       meter.previous).errors

    return _evaluate(row, today, parse_volume, check)


# Which input a problem belongs to: the message is drawn under that input, which is marked
# invalid (aria-invalid + aria-describedby). Everything not about the date is about the value.
DATE_PROBLEMS = frozenset({"invalid_date", "date_in_future", "date_before_previous"})


def problem_field(problem: Problem) -> str:
    """"date" for a problem of the reading date, else "value"."""
    return "date" if problem.code in DATE_PROBLEMS else "value"


@dataclass(frozen=True)
class RowPlan:
    """What a save or transmit does with one evaluated row: write it with `status`, leave it
    (empty, or already stored as typed), or refuse it (red), with `note` when it is the stored
    reading that refuses it."""

    status: str | None = None
    refused: bool = False
    note: WriteOutcome | None = None


def plan_row(outcome: RowOutcome, transmit: bool, stored: StoredReading | None) -> RowPlan:
    """R4 for one row of a save (`transmit` False) or transmit: the grid, the spreadsheet
    upload and the API decide every row here, then write with app.queries.readings."""
    if outcome.empty:
        return RowPlan()
    if (transmit and not outcome.ok) or (not transmit and not outcome.savable):
        return RowPlan(refused=True)
    status = ReadingStatus.transmitted if transmit else ReadingStatus.draft
    if stored is not None and not may_write(stored.status, stored.batch, status):
        if (outcome.value, outcome.read_on) == (stored.value, stored.read_on):
            return RowPlan()  # already stored as typed: nothing to write, nothing wrong
        return RowPlan(refused=True, note=refusal(stored, status, outcome.value,
                                                  outcome.read_on))
    return RowPlan(status=status)


@dataclass(frozen=True)
class Column:
    key: str  # which cell the template draws
    label: str  # untranslated (N_), translated by the template
    numeric: bool = False


# The window sentence of a grid: `{subject}` is the grid's own noun phrase.
WINDOW_TEXTS = {
    "before": N_("{subject} за {period} откроется {date}"),
    "open": N_("{subject} за {period} открыта до {date} включительно"),
    "closed": N_("{subject} за {period} закрыта {date}"),
}


def window_text(state: str, subject: str, period: str, opens: str, closes: str,
                gettext: Callable[[str], str]) -> str:
    """The window sentence of a grid (R1), e.g. «Передача показаний за ноябрь 2026 открыта до
    27.11.2026 включительно»: the grid's header and the API's refusal of a transmit."""
    return gettext(WINDOW_TEXTS[state]).format(
        subject=gettext(subject), period=period, date=opens if state == "before" else closes)


@dataclass(frozen=True)
class GridKind:
    kind: MeterKind
    title: str
    deadline_field: str  # attribute of the contract holding this screen's deadline day
    columns: tuple[Column, ...]
    evaluate: Callable[[RowInput, MeterHistory, date], RowOutcome]
    input_decimals: int  # how a stored value is put back into the input
    no_meters: str
    subject: str  # «Передача показаний» / «Передача объемов», for WINDOW_TEXTS

    def deadline_day(self, contract: object) -> int:
        return getattr(contract, self.deadline_field)


def entry_columns(previous: str, current: str) -> tuple[Column, ...]:
    """The four columns every grid ends with: previous value and date, current value and date."""
    return (
        Column("previous", previous, numeric=True),
        Column("previous_date", N_("Дата предыдущего показания")),
        Column("value", current, numeric=True),
        Column("date", N_("Дата текущего показания")),
    )


COLD = GridKind(
    kind=MeterKind.cold, title=N_("Передача показаний приборов учёта ХВС"),
    deadline_field="deadline_day",
    columns=(Column("serial", N_("Номер прибора учёта")),
             Column("address", N_("Адрес установки прибора учёта")),
             Column("model", N_("Марка прибора учёта")),
             Column("verification", N_("Плановая дата поверки")),
             *entry_columns(N_("Предыдущее показание"), N_("Текущее показание прибора учёта"))),
    evaluate=evaluate_cold, input_decimals=0,
    no_meters=N_("На этом договоре нет приборов учёта холодной воды"),
    subject=N_("Передача показаний"),
)

HOT = GridKind(
    kind=MeterKind.hot, title=N_("Передача объемов по стокам ГВС"),
    deadline_field="discharge_deadline_day",
    columns=(Column("address", N_("Адрес установки прибора учета")),
             *entry_columns(N_("Предыдущий объем"), N_("Текущий объем"))),
    evaluate=evaluate_volume, input_decimals=3,
    no_meters=N_("На этом договоре нет приборов учёта горячей воды"),
    subject=N_("Передача объемов"),
)

GRIDS = {grid.kind: grid for grid in (COLD, HOT)}
# Per meter kind, the contract column holding the deadline day of its window (R1).
DEADLINE_FIELDS = {grid.kind: grid.deadline_field for grid in GRIDS.values()}
