"""Parsing and checking of cold-water readings (R2) and hot-water discharge volumes (R3)."""

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from app.domain import N_, Problem

MAX_HISTORY = 6
ANOMALY_FACTOR = 3
VOLUME_QUANTUM = Decimal("0.001")
MAX_VOLUME_INT_DIGITS = 9

_WS_RE = re.compile(r"\s+")
_COLD_RE = re.compile(r"(-?)([0-9]+)(?:[.,]([0-9]+))?")
_VOLUME_RE = re.compile(r"(-?)([0-9]+|[0-9]{1,3}(?:[ \u00a0\u202f][0-9]{3})+)(?:[.,]([0-9]+))?")
_DMY_RE = re.compile(r"([0-9]{1,2})\.([0-9]{1,2})\.([0-9]{4})")
_ISO_RE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")
# What English pages show ("1 Dec 2026", app.i18n.format_date) and its long form.
_DAY_MONTH_RE = re.compile(r"([0-9]{1,2})\s+([A-Za-z]{3,9})\.?,?\s+([0-9]{4})")
_MONTHS = {name: n for n, names in enumerate(
    (("jan", "january"), ("feb", "february"), ("mar", "march"), ("apr", "april"),
     ("may",), ("jun", "june"), ("jul", "july"), ("aug", "august"),
     ("sep", "sept", "september"), ("oct", "october"), ("nov", "november"),
     ("dec", "december")), start=1) for name in names}


class ReadingError(ValueError):
    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.code)
        self.problem = problem


def _fail(code: str, message: str, **params: object) -> ReadingError:
    return ReadingError(Problem(code, message, params))


def _number_parts(text: str, pattern: re.Pattern, required: str, not_a_number: str
                  ) -> tuple[str, str, str | None]:
    """(sign, whole, fraction) of a typed number; "required" / "not_a_number" problems."""
    if not text:
        raise _fail("required", required)
    m = pattern.fullmatch(text)
    if not m:
        raise _fail("not_a_number", not_a_number)
    return m.groups()


def parse_cold_value(raw: str, digits: int) -> int:
    """A whole number of m³ (black digits only), 0 ≤ value < 10**digits."""
    sign, whole, fraction = _number_parts(
        _WS_RE.sub("", raw), _COLD_RE, N_("Введите показание"),
        N_("Показание должно быть целым числом кубометров (только чёрные цифры)"),
    )
    if fraction and fraction.strip("0"):
        raise _fail(
            "not_whole",
            N_("Передаются только чёрные цифры: введите целое число кубометров без дробной части"),
        )
    significant = whole.lstrip("0")
    if (sign and significant) or len(significant) > digits:
        raise _fail(
            "out_of_range",
            N_("Показание должно быть от 0 до {max} ({digits} чёрных цифр)"),
            max=10**digits - 1,
            digits=digits,
        )
    return int(significant or "0")


def parse_reading_date(raw: str) -> date:
    """Accepts what a page shows — ДД.ММ.ГГГГ (Russian), "1 Dec 2026" / "1 December 2026"
    (English) — and YYYY-MM-DD, whatever the page's language."""
    text = raw.strip()
    if not text:
        raise _fail("required", N_("Укажите дату показания"))
    if m := _DMY_RE.fullmatch(text):
        day, month, year = m.groups()
    elif m := _ISO_RE.fullmatch(text):
        year, month, day = m.groups()
    elif (m := _DAY_MONTH_RE.fullmatch(text)) and m.group(2).lower() in _MONTHS:
        day, month, year = m.group(1), _MONTHS[m.group(2).lower()], m.group(3)
    else:
        year = month = day = "0"
    try:
        return date(int(year), int(month), int(day))
    except ValueError:
        raise _fail(
            "invalid_date", N_("Неверная дата: укажите дату в формате ДД.ММ.ГГГГ")
        ) from None


def parse_volume(raw: str) -> Decimal:
    """Volume in m³, ≥ 0, up to three decimals, quantized to 0.001."""
    sign, whole, fraction = _number_parts(
        raw.strip(), _VOLUME_RE, N_("Введите объём"),
        N_("Объём должен быть числом кубометров, не более трёх знаков после запятой"),
    )
    whole = re.sub(r"[^0-9]", "", whole).lstrip("0")
    fraction = (fraction or "").rstrip("0")
    if sign and (whole or fraction):
        raise _fail("negative", N_("Объём не может быть отрицательным"))
    if len(fraction) > 3:
        raise _fail(
            "too_many_decimals", N_("Объём указывается не более чем с тремя знаками после запятой")
        )
    if len(whole) > MAX_VOLUME_INT_DIGITS:
        raise _fail(
            "too_large",
            N_("Объём слишком велик: не более {digits} цифр до запятой"),
            digits=MAX_VOLUME_INT_DIGITS,
        )
    return Decimal(f"{whole or '0'}.{fraction or '0'}").quantize(VOLUME_QUANTUM)


@dataclass
class PreviousReading:
    value: Decimal | int
    read_on: date


def _date_problems(read_on: date, today: date, previous: PreviousReading | None) -> list[Problem]:
    problems = []
    if read_on > today:
        problems.append(Problem("date_in_future", N_("Дата показания не может быть в будущем")))
    if previous is not None and read_on < previous.read_on:
        problems.append(
            Problem(
                "date_before_previous",
                N_("Дата показания не может быть раньше даты предыдущего показания ({date})"),
                {"date": previous.read_on},  # written the page's way (Problem.text)
            )
        )
    return problems


@dataclass
class ColdCheck:
    consumption: int | None = None
    errors: list[Problem] = field(default_factory=list)
    confirmations: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)


def _format_mean(total: int | Decimal, count: int) -> Decimal:
    mean = (Decimal(total) / count).quantize(VOLUME_QUANTUM)
    return Decimal(f"{mean.normalize():f}")  # "2.333", "15": no exponent, no trailing zeros


@dataclass(frozen=True)
class AnomalyBaseline:
    """What the anomaly check of R2 compares a consumption with: the mean of the last up to
    MAX_HISTORY accepted consumptions; more than ANOMALY_FACTOR times it needs a confirmation.
    The grid's check and a meter's history chart (its mean and 3× lines) both use this."""

    total: int | Decimal
    count: int

    @property
    def mean(self) -> Decimal:
        return _format_mean(self.total, self.count)

    @property
    def threshold(self) -> Decimal:
        return _format_mean(ANOMALY_FACTOR * Decimal(self.total), self.count)

    def exceeded_by(self, consumption: int | Decimal) -> bool:
        # compared on the exact total, not the rounded mean
        return consumption * self.count > ANOMALY_FACTOR * self.total


def anomaly_baseline(history: Sequence[int | Decimal]) -> AnomalyBaseline | None:
    """The baseline of accepted consumptions `history` (newest first); None when there is
    nothing to compare with (no history, or only zero consumption)."""
    recent = list(history[:MAX_HISTORY])
    total = sum(recent)
    if not recent or total <= 0:
        return None
    return AnomalyBaseline(total, len(recent))


def check_cold_reading(
    value: int,
    digits: int,
    read_on: date,
    today: date,
    previous: PreviousReading | None,
    history: Sequence[int | Decimal],
    confirm_rollover: bool,
    confirm_anomaly: bool,
) -> ColdCheck:
    """Rule R2 for one row; `history` holds consumptions of accepted periods, newest first."""
    check = ColdCheck(errors=_date_problems(read_on, today, previous))
    if previous is None:
        return check

    def need(problem: Problem, confirmed: bool) -> None:
        (check.warnings if confirmed else check.confirmations).append(problem)

    before = int(previous.value)  # black digits: the whole part
    check.consumption = consumption_between(value, before, digits)
    if value < before:
        need(
            Problem(
                "rollover",
                N_(
                    "Текущее показание меньше предыдущего. Счётчик прошёл через ноль? "
                    "Подтвердите переход через ноль."
                ),
            ),
            confirm_rollover,
        )
    baseline = anomaly_baseline(history)
    if baseline is not None and baseline.exceeded_by(check.consumption):
        need(
            Problem(
                "anomaly",
                N_(
                    "Расход {consumption} м³ более чем в 3 раза превышает средний ({mean}) "
                    "за последние периоды. Подтвердите показание."
                ),
                # Decimal: formatted for the locale like the mean («99 774», not "99774")
                {"consumption": Decimal(check.consumption), "mean": baseline.mean},
            ),
            confirm_anomaly,
        )
    return check


@dataclass
class VolumeCheck:
    errors: list[Problem] = field(default_factory=list)


def check_volume(
    volume: Decimal, read_on: date, today: date, previous: PreviousReading | None
) -> VolumeCheck:
    """Rule R3 for one row (the value itself, never negative, is validated by parse_volume)."""
    return VolumeCheck(errors=_date_problems(read_on, today, previous))


def consumption_between(newer: int, older: int, digits: int) -> int:
    """m³ used from reading `older` to reading `newer` on a dial of `digits` black digits;
    a smaller newer value is a pass through zero (R2's rollover)."""
    return newer - older if newer >= older else newer + 10**digits - older


def consumption_since(value: Decimal, previous: Decimal | None, digits: int) -> Decimal | None:
    """The archive's «Расход»: consumption_between a reading and the meter's previous
    accepted one; None without a previous reading."""
    if previous is None:
        return None
    return consumption_between(value, previous, digits)


def consumptions_from_history(values: Sequence[int], digits: int) -> list[int]:
    """Consumptions between consecutive accepted readings (newest first), with rollover."""
    return [consumption_between(newer, older, digits)
            for newer, older in zip(values, values[1:], strict=False)]


MAX_TYPED_DIGITS = 40  # beyond any dial or volume: more digits are out of range either way


def typed_number(value: Decimal) -> str:
    """A number received as JSON (the API), written as a user would type it into the grid, so
    the grid's own parsers judge it: «231», «1.5», «-2». NaN/Infinity become text no parser
    accepts; absurd exponents are cut to 41 digits (still too large or too precise), so that
    1e999999999 never expands into a billion characters."""
    if not value.is_finite():
        return "NaN"
    sign = "-" if value.is_signed() and not value.is_zero() else ""
    value = value.copy_abs()  # no context: abs() would overflow on 1e999999999
    if value.adjusted() >= MAX_TYPED_DIGITS:
        return sign + "1" + "0" * MAX_TYPED_DIGITS
    if value.as_tuple().exponent < -MAX_TYPED_DIGITS:
        if value == 0:
            return "0"
        return sign + "0." + "0" * MAX_TYPED_DIGITS + "1"
    return sign + format(value, "f")
