"""app.domain.spreadsheet: cells -> typed text, header detection, matching rows to meters."""

from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal

import pytest

from app.domain.grid import COLD, HOT, MeterHistory, RowInput
from app.domain.readings import PreviousReading
from app.domain.spreadsheet import (
    CODE,
    DATE,
    SERIAL,
    VALUE,
    Header,
    MeterRef,
    SheetError,
    Unreadable,
    date_text,
    fill_from_rows,
    find_header,
    header_aliases,
    match_rows,
    value_text,
)


def english(text: str) -> str:
    return {"Код прибора": "Meter code", "Текущее показание": "Current reading"}.get(text, text)


ALIASES = header_aliases([english])


@pytest.mark.parametrize(("cell", "text"), [
    (None, ""),
    ("", ""),
    ("   ", ""),
    (123, "123"),
    (123.0, "123"),
    (12.5, "12.5"),
    (0.1 + 0.2, "0.3"),
    (1234.567, "1234.567"),
    (1e-05, "0.00001"),
    (-5, "-5"),
    (Decimal("7.250"), "7.25"),
    ("1 234,5", "1234,5"),
    ("1\u00a0234,5", "1234,5"),
    ("1\u202f234.5", "1234.5"),
    (" 0042 ", "0042"),
    ("-3", "-3"),
    ("abc", "abc"),
    ("12\x00", "12"),
])
def test_value_cells_become_the_text_a_user_would_type(cell, text):
    assert value_text(cell) == text


@pytest.mark.parametrize("cell", [True, False, date(2026, 3, 1), datetime(2026, 3, 1),
                                  time(12, 0), float("nan"), float("inf")])
def test_value_cells_that_are_no_number_at_all(cell):
    with pytest.raises(Unreadable):
        value_text(cell)


@pytest.mark.parametrize(("cell", "text"), [
    (None, ""),
    ("", ""),
    (datetime(2026, 3, 18, 0, 0), "18.03.2026"),
    (datetime(2026, 3, 18, 13, 45), "18.03.2026"),
    (date(2026, 3, 8), "08.03.2026"),
    (46099, "18.03.2026"),  # Excel serial
    (46099.75, "18.03.2026"),
    (1, "31.12.1899"),
    ("18.03.2026", "18.03.2026"),
    ("8.3.2026", "08.03.2026"),
    ("18/03/2026", "18.03.2026"),
    ("2026-03-18", "18.03.2026"),
    ("2026-03-18T00:00:00", "18.03.2026"),
    ("2026-03-18 10:00:00", "18.03.2026"),
    ("31.02.2026", "31.02.2026"),  # kept: the grid says the date is wrong
    ("вчера", "вчера"),
])
def test_date_cells_become_dd_mm_yyyy(cell, text):
    assert date_text(cell) == text


@pytest.mark.parametrize("cell", [True, 0, -1, 10**8, time(8, 0)])
def test_date_cells_that_are_no_date(cell):
    with pytest.raises(Unreadable):
        date_text(cell)


@pytest.mark.parametrize(("rows", "index", "columns"), [
    ([["Код прибора", "Текущее показание"]], 0, {CODE: 0, VALUE: 1}),
    ([["Показания ХВС"], [], ["Номер прибора учёта", "Дата текущего показания",
                               "Текущее показание"]],
     2, {SERIAL: 0, DATE: 1, VALUE: 2}),
    ([["  КОД   ПРИБОРА ", "текущий объём*", "x"]], 0, {CODE: 0, VALUE: 1}),
    ([["Номер прибора учета", "Текущее показание прибора учёта"]], 0, {SERIAL: 0, VALUE: 1}),
    ([["Meter code", "current reading"]], 0, {CODE: 0, VALUE: 1}),
    ([["Примечание", "Код\u00a0прибора", "Адрес", "Текущий объем", "Код прибора"]], 0,
     {CODE: 1, VALUE: 3}),
])
def test_header_is_found_anywhere_in_the_first_rows(rows, index, columns):
    header = find_header(rows, ALIASES)
    assert header.index == index
    assert {k: v for k, v in header.columns.items() if k in (CODE, SERIAL, VALUE, DATE)} == columns


@pytest.mark.parametrize("rows", [
    [],
    [["a", "b"], [1, 2]],
    [["Код прибора", "Адрес"]],  # no current value column
    [["Текущее показание", "Адрес"]],  # no way to find the meter
    [[]] * 20 + [["Код прибора", "Текущее показание"]],  # too far down
    [[1, 2.5, None, True]],
])
def test_no_recognizable_header(rows):
    with pytest.raises(SheetError) as exc:
        find_header(rows, ALIASES)
    assert exc.value.problem.code == "no_header"


METERS = [MeterRef(1, 501, "12 345"), MeterRef(2, 502, "777"), MeterRef(3, 503, "777"),
          MeterRef(4, 504, "A-1", editable=False)]
CODE_HEADER = Header(0, {CODE: 0, VALUE: 1, DATE: 2})
SERIAL_HEADER = Header(0, {SERIAL: 0, VALUE: 1})
BOTH_HEADER = Header(0, {CODE: 0, SERIAL: 1, VALUE: 2})


def notes(fill) -> list[tuple[str, int]]:
    return [(p.code, p.params["row"]) for p in fill.notes]


@pytest.mark.parametrize(("header", "rows", "inputs", "expected_notes"), [
    # by code; Excel row numbers (header on row 1)
    (CODE_HEADER, [[501, "10", "18.03.2026"]], {1: RowInput("10", "18.03.2026")}, []),
    (CODE_HEADER, [["501", 10.0, None]], {1: RowInput("10", "")}, []),
    (CODE_HEADER, [[501.0, "1 234", 46099]], {1: RowInput("1234", "18.03.2026")}, []),
    # unknown / another contract's meter: never filled (R8)
    (CODE_HEADER, [[999, "10", None]], {}, [("not_found", 2)]),
    (CODE_HEADER, [["abc", "10", None]], {}, [("not_found", 2)]),
    # the same meter twice: neither row used
    (CODE_HEADER, [[501, "10", None], [502, "5", None], [501, "11", None]],
     {2: RowInput("5", "")}, [("twice", 2), ("twice", 4)]),
    # an empty value leaves the grid row as it was (and does not make a duplicate)
    (CODE_HEADER, [[501, None, None], [501, "3", None]], {1: RowInput("3", "")}, []),
    # an empty row is skipped, numbering keeps Excel's
    (CODE_HEADER, [[None, None, None], [999, "1", None]], {}, [("not_found", 3)]),
    # by serial, spaces and case do not matter; a serial two meters share is an error
    (SERIAL_HEADER, [["12  345", "7"]], {1: RowInput("7", "")}, []),
    (SERIAL_HEADER, [["777", "7"]], {}, [("ambiguous", 2)]),
    (SERIAL_HEADER, [[12345, "7"]], {}, [("not_found", 2)]),
    # both columns: the code wins; a row without a code falls back to the serial
    (BOTH_HEADER, [[502, "777", "1"]], {2: RowInput("1", "")}, []),
    (BOTH_HEADER, [[None, "12 345", "1"]], {1: RowInput("1", "")}, []),
    # no meter at all, a frozen reading, an unreadable cell
    (BOTH_HEADER, [[None, None, "5"]], {}, [("no_meter", 2)]),
    (CODE_HEADER, [[504, "5", None]], {}, [("frozen", 2)]),
    (CODE_HEADER, [[501, True, None]], {}, [("unreadable", 2)]),
    (CODE_HEADER, [[501, "5", False]], {}, [("unreadable", 2)]),
    # short rows (a CSV line with fewer fields)
    (CODE_HEADER, [[501, "5"]], {1: RowInput("5", "")}, []),
])
def test_matching(header, rows, inputs, expected_notes):
    fill = match_rows([["header"]] + rows, header, METERS)
    assert fill.inputs == inputs
    assert notes(fill) == expected_notes


def test_empty_values_are_counted_not_listed():
    fill = match_rows([["h"], [501, None, None], [502, "", None]], CODE_HEADER, METERS)
    assert fill.inputs == {} and fill.notes == [] and fill.empty_values == 2


def test_row_numbers_follow_a_header_under_a_title():
    rows = [["Заголовок"], [], ["Код прибора", "Текущее показание"], [999, 1]]
    fill = fill_from_rows(rows, METERS, ALIASES)
    assert notes(fill) == [("not_found", 4)]


def test_no_data_rows_and_too_many_rows():
    with pytest.raises(SheetError) as exc:
        match_rows([["h"], [None, None]], CODE_HEADER, METERS)
    assert exc.value.problem.code == "no_rows"
    many = [["h"]] + [[501, "1"]] * 10_001
    with pytest.raises(SheetError) as exc:
        match_rows(many, CODE_HEADER, METERS)
    assert exc.value.problem.code == "too_many_rows"
    assert len(match_rows(many[:10_001], CODE_HEADER, METERS).notes) == 10_000  # all twice


# A row from a file gets the verdict a typed row gets: the same evaluate on the same text.
HISTORY = MeterHistory(5, PreviousReading(Decimal(100), date(2026, 2, 18)), (Decimal(100),))
TODAY = date(2026, 3, 18)


@pytest.mark.parametrize(("grid", "value", "read_on", "code"), [
    (COLD, -5, None, "out_of_range"),
    (COLD, 100000, None, "out_of_range"),  # ≥ 10**digits
    (COLD, "12,5", None, "not_whole"),
    (COLD, 120, datetime(2026, 3, 19), "date_in_future"),
    (COLD, 120, "01.01.2026", "date_before_previous"),
    (COLD, 90, None, "rollover"),
    (HOT, "-1,5", None, "negative"),
    (HOT, 1.2345, None, "too_many_decimals"),
    (HOT, 10**9, None, "too_large"),
])
def test_file_values_get_the_grids_verdicts(grid, value, read_on, code):
    fill = match_rows([["h"], [501, value, read_on]], CODE_HEADER, METERS)
    outcome = grid.evaluate(fill.inputs[1], HISTORY, TODAY)
    assert code in [p.code for p in outcome.errors + outcome.confirmations]


def test_a_good_file_value_is_ok():
    fill = match_rows([["h"], [501, 120.0, datetime(2026, 3, 18)]], CODE_HEADER, METERS)
    outcome = COLD.evaluate(fill.inputs[1], HISTORY, TODAY)
    assert outcome.ok and outcome.value == 120 and outcome.consumption == 20
    fill = match_rows([["h"], [501, "1 234,5", "2026-03-18"]], CODE_HEADER, METERS)
    outcome = HOT.evaluate(fill.inputs[1], HISTORY, TODAY)
    assert outcome.ok and outcome.value == Decimal("1234.500")
