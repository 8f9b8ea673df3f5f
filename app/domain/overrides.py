"""Operator overrides of the production calendar: what a valid override is."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from app.domain import N_, Problem
from app.domain.calendar import WorkingCalendar
from app.domain.readings import ReadingError, parse_reading_date

FIRST_YEAR, LAST_YEAR = 2000, 2100
DAY_KINDS = {"working": True, "off": False}


@dataclass(frozen=True)
class Override:
    day: date
    is_working: bool


def check_override(day_raw: str, kind_raw: str,
                   production: WorkingCalendar) -> tuple[Override | None, dict[str, Problem]]:
    """The override typed by an operator, or the problems per field ("day", "kind").

    `production` is the calendar WITHOUT operator overrides: an override that says what the
    production calendar already says would change nothing, so it is refused."""
    problems: dict[str, Problem] = {}
    day: date | None = None
    if not day_raw.strip():
        problems["day"] = Problem("required", N_("Укажите дату"))
    else:
        try:
            day = parse_reading_date(day_raw)
        except ReadingError as exc:
            problems["day"] = exc.problem
        else:
            if not FIRST_YEAR <= day.year <= LAST_YEAR:
                problems["day"] = Problem(
                    "out_of_range", N_("Укажите дату с {first} по {last} год"),
                    {"first": FIRST_YEAR, "last": LAST_YEAR})
                day = None
    is_working = DAY_KINDS.get(kind_raw)
    if is_working is None:
        problems["kind"] = Problem("kind_required", N_("Выберите: рабочий или нерабочий день"))
    if day is not None and is_working is not None and \
            production.is_working_day(day) == is_working:
        problems["kind"] = (
            Problem("same_as_calendar",
                    N_("По производственному календарю этот день и так рабочий"))
            if is_working else
            Problem("same_as_calendar",
                    N_("По производственному календарю этот день и так нерабочий"))
        )
    if problems:
        return None, problems
    return Override(day, is_working), {}
