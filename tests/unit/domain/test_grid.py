"""One typed grid row through the rules: cold readings (R2) and discharge volumes (R3)."""

from datetime import date
from decimal import Decimal

import pytest

from app.domain.calendar import period_for_windows
from app.domain.grid import COLD, GRIDS, HOT, MeterHistory, RowInput, evaluate_cold, evaluate_volume
from app.domain.readings import PreviousReading

TODAY = date(2018, 10, 8)
PREV = PreviousReading(Decimal(100), date(2018, 9, 8))
# accepted values newest first: consumptions 10, 10, 10, 10, 10, 10 (mean 10)
HISTORY = tuple(Decimal(v) for v in (100, 90, 80, 70, 60, 50, 40))

def carries(outcome, code: str) -> bool:
    """The row carries the question `code` (asked or already confirmed)."""
    return any(p.code == code for p in outcome.confirmations + outcome.warnings)


METER = MeterHistory(digits=5, previous=PREV, history=HISTORY)
NEW_METER = MeterHistory(digits=5, previous=None, history=())
NEAR_ZERO = MeterHistory(digits=5, previous=PreviousReading(Decimal(99_998), date(2018, 9, 8)))


def codes(problems) -> list[str]:
    return [p.code for p in problems]


@pytest.mark.parametrize(
    ("row", "meter", "ok", "savable", "errors", "asks", "consumption"),
    [
        (RowInput("", "08.10.2018"), METER, False, False, [], [], None),
        (RowInput("   ", ""), METER, False, False, [], [], None),
        (RowInput("110", "08.10.2018"), METER, True, True, [], [], 10),
        (RowInput("110", ""), METER, True, True, [], [], 10),  # date defaults to today
        (RowInput("110,000", "2018-10-08"), METER, True, True, [], [], 10),
        (RowInput("110", "09.10.2018"), METER, False, False, ["date_in_future"], [], 10),
        (RowInput("110", "07.09.2018"), METER, False, False, ["date_before_previous"], [], 10),
        (RowInput("110", "32.10.2018"), METER, False, False, ["invalid_date"], [], None),
        (RowInput("110,5", "08.10.2018"), METER, False, False, ["not_whole"], [], None),
        (RowInput("abc", "08.10.2018"), METER, False, False, ["not_a_number"], [], None),
        (RowInput("100000", "08.10.2018"), METER, False, False, ["out_of_range"], [], None),
        (RowInput("131", "08.10.2018"), METER, False, True, [], ["anomaly"], 31),
        (RowInput("131", "08.10.2018", confirm_anomaly=True), METER, True, True, [], ["anomaly"],
         31),
        (RowInput("130", "08.10.2018"), METER, True, True, [], [], 30),  # exactly 3x: fine
        (RowInput("5", "08.10.2018"), NEAR_ZERO, False, True, [], ["rollover"], 7),
        (RowInput("5", "08.10.2018", confirm_rollover=True), NEAR_ZERO, True, True, [],
         ["rollover"], 7),
        (RowInput("7", "08.10.2018"), NEW_METER, True, True, [], [], None),
    ],
)
def test_evaluate_cold(row, meter, ok, savable, errors, asks, consumption):
    outcome = evaluate_cold(row, meter, TODAY)
    assert outcome.ok is ok
    assert outcome.savable is savable
    assert codes(outcome.errors) == errors
    assert [c for c in ("rollover", "anomaly") if carries(outcome, c)] == asks
    assert outcome.consumption == consumption
    assert outcome.empty is (not row.value.strip())


@pytest.mark.parametrize(
    ("raw", "read_on", "value", "errors"),
    [
        ("12,345", "08.10.2018", Decimal("12.345"), []),
        ("12.3", "08.10.2018", Decimal("12.300"), []),
        ("0", "", Decimal("0.000"), []),
        ("1 234,5", "08.10.2018", Decimal("1234.500"), []),
        ("12,3456", "08.10.2018", None, ["too_many_decimals"]),
        ("-1", "08.10.2018", None, ["negative"]),
        ("1,5", "09.10.2018", Decimal("1.500"), ["date_in_future"]),
        ("x", "bad", None, ["not_a_number", "invalid_date"]),
    ],
)
def test_evaluate_volume(raw, read_on, value, errors):
    outcome = evaluate_volume(RowInput(raw, read_on), METER, TODAY)
    assert codes(outcome.errors) == errors
    if not errors:
        assert outcome.value == value and outcome.ok
    assert not carries(outcome, "rollover") and outcome.consumption is None


def test_empty_volume_row_is_skipped_not_an_error():
    outcome = evaluate_volume(RowInput("", "08.10.2018"), METER, TODAY)
    assert outcome.empty and not outcome.errors and not outcome.ok


def test_grid_kinds_differ_only_in_their_description():
    assert GRIDS == {"cold": COLD, "hot": HOT}
    assert (COLD.deadline_field, HOT.deadline_field) == ("deadline_day", "discharge_deadline_day")
    assert len(COLD.columns) == 8 and len(HOT.columns) == 5
    assert [c.key for c in HOT.columns] == ["address", "previous", "previous_date", "value", "date"]


@pytest.mark.parametrize(
    ("today", "expected"),
    [
        (date(2018, 10, 7), date(2018, 10, 1)),  # inside October's window
        (date(2018, 10, 20), date(2018, 11, 1)),  # between windows: the next to open
        (date(2018, 12, 20), date(2018, 11, 1)),  # after all: the latest
    ],
)
def test_period_for_stored_windows(today, expected):
    windows = {
        date(2018, 10, 1): (date(2018, 10, 6), date(2018, 10, 8)),
        date(2018, 11, 1): (date(2018, 11, 6), date(2018, 11, 8)),
    }
    assert period_for_windows(today, windows) == expected
