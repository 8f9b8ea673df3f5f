"""Validation of operator calendar overrides."""

from datetime import date

import pytest

from app.domain.calendar import WorkingCalendar
from app.domain.overrides import Override, check_override

PRODUCTION = WorkingCalendar()


@pytest.mark.parametrize(
    ("day", "kind", "expected"),
    [
        ("2026-12-30", "off", Override(date(2026, 12, 30), False)),   # Wednesday → day off
        ("30.12.2026", "off", Override(date(2026, 12, 30), False)),
        (" 2026-12-26 ", "working", Override(date(2026, 12, 26), True)),  # Saturday → working
        ("2027-01-05", "working", Override(date(2027, 1, 5), True)),  # New Year holidays
    ],
)
def test_valid(day, kind, expected):
    assert check_override(day, kind, PRODUCTION) == (expected, {})


@pytest.mark.parametrize(
    ("day", "kind", "codes"),
    [
        ("", "off", {"day": "required"}),
        ("   ", "", {"day": "required", "kind": "kind_required"}),
        ("31.02.2026", "off", {"day": "invalid_date"}),
        ("2026/12/31", "off", {"day": "invalid_date"}),
        ("1999-12-31", "off", {"day": "out_of_range"}),
        ("2026-12-30", "maybe", {"kind": "kind_required"}),
        ("2026-12-30", "working", {"kind": "same_as_calendar"}),  # Wednesday is working anyway
        ("2026-12-27", "off", {"kind": "same_as_calendar"}),  # Sunday is off anyway
        ("2027-01-01", "off", {"kind": "same_as_calendar"}),  # New Year
    ],
)
def test_invalid(day, kind, codes):
    override, problems = check_override(day, kind, PRODUCTION)
    assert override is None
    assert {field: p.code for field, p in problems.items()} == codes


def test_same_as_calendar_message_says_which():
    _, problems = check_override("2026-12-27", "off", PRODUCTION)
    assert problems["kind"].text(lambda s: s).endswith("и так нерабочий")
    _, problems = check_override("2026-12-30", "working", PRODUCTION)
    assert problems["kind"].text(lambda s: s).endswith("и так рабочий")
