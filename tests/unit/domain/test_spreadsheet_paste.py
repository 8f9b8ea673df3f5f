"""A block pasted into the grid (app.domain.spreadsheet.fill_from_paste): by header, by a
column of meter codes or serials, else by position — and when it refuses to guess."""

import pytest

from app.domain import Problem
from app.domain.grid import DATE_PROBLEMS, problem_field
from app.domain.spreadsheet import (
    MeterRef,
    SheetError,
    fill_from_paste,
    header_aliases,
    paste_cells,
)

METERS = [MeterRef(1, 49001, "13 300963"), MeterRef(2, 49002, "13 300964"),
          MeterRef(3, 49003, "07 123456"), MeterRef(4, 49004, "55 000001", editable=False),
          MeterRef(5, 49005, "77 777777"), MeterRef(6, 49006, "77 777777")]
ORDER = [2, 3, 5]  # the editable rows from the one pasted into, as shown
ALIASES = header_aliases()


def run(text: str) -> tuple[str, dict[int, tuple[str, str]], list[str]]:
    fill = fill_from_paste(text, METERS, ALIASES, ORDER)
    return (fill.mode, {m: (i.value, i.read_on) for m, i in fill.inputs.items()},
            [p.code for p in fill.notes])


@pytest.mark.parametrize(("text", "mode", "inputs", "notes", "why"), [
    ("5\n6\n", "order", {2: ("5", ""), 3: ("6", "")}, [],
     "one column stays positional, from the row pasted into"),
    ("5\n\n7\r\n\r\n", "order", {2: ("5", ""), 5: ("7", "")}, [],
     "a blank cell keeps its place; Excel's trailing CRLF lines are dropped"),
    ("1 234\n", "order", {2: ("1234", "")}, [], "spaces inside a number go"),
    ("5\n6\n7\n8\n9\n", "order", {2: ("5", ""), 3: ("6", ""), 5: ("7", "")}, ["overflow"],
     "lines past the last row are not lost silently"),
    ("12\t01.03.2026\n13\t\n", "order", {2: ("12", "01.03.2026"), 3: ("13", "")}, [],
     "value + date columns without a meter column: positional, the date taken along"),
    ("13 300964\t12\n13 300963\t11\n", "serial", {2: ("12", ""), 1: ("11", "")}, [],
     "a serial column matches rows by it, in any order"),
    ("11\t13 300963\n12\t13 300964\n", "serial", {1: ("11", ""), 2: ("12", "")}, [],
     "the serial column may be anywhere"),
    ("49002\t12\n49001\t11\n", "code", {2: ("12", ""), 1: ("11", "")}, [],
     "«Код прибора» column"),
    ("49002\t13 300964\t12\t01.03.2026\n", "code", {2: ("12", "01.03.2026")}, [],
     "code + serial + value + date (the template's rows without its header)"),
    ("13 300964\t12\n99 999999\t3\n", "serial", {2: ("12", "")}, ["not_found"],
     "half the serials are the grid's: a key column; the stranger is reported"),
    ("13 300964\t12\n55 000001\t3\n", "serial", {2: ("12", "")}, ["frozen"],
     "a frozen reading is not filled"),
    ("77 777777\t12\n13 300963\t3\n", "serial", {1: ("3", "")}, ["ambiguous"],
     "a serial two meters share is an error for that line"),
    ("Номер прибора учёта\tТекущее показание\n13 300964\t7\n", "serial", {2: ("7", "")}, [],
     "the template's header"),
    ("Код прибора\tНомер прибора учёта\tТекущее показание\tДата текущего показания\n"
     "49003\t13 300964\t8\t02.03.2026\n", "code", {3: ("8", "02.03.2026")}, [],
     "with a header, the code wins over the serial"),
])
def test_paste_fills(text, mode, inputs, notes, why):
    assert run(text) == (mode, inputs, notes), why


@pytest.mark.parametrize(("text", "code", "why"), [
    ("1\t2\n3\t4\n", "paste_ambiguous", "two number columns, no meter column: no guessing"),
    ("99 999999\t12\n98 999999\t3\n", "paste_ambiguous",
     "serials of another contract look like numbers: refused, not pasted as values"),
    ("13 300964\tабв\n", "paste_no_values", "a meter column but nothing like a value"),
    ("\n\n", "no_rows", "nothing pasted"),
])
def test_paste_refused(text, code, why):
    with pytest.raises(SheetError) as exc:
        fill_from_paste(text, METERS, ALIASES, ORDER)
    assert exc.value.problem.code == code, why


def test_positional_skips_rows_not_editable_or_foreign():
    fill = fill_from_paste("5\n6\n", METERS, ALIASES, [4, 999, 3, 2])
    assert {m: i.value for m, i in fill.inputs.items()} == {3: "5", 2: "6"}


def test_paste_cells():
    assert paste_cells("a\tb\r\nc\r\n\r\n") == [["a", "b"], ["c"]]


@pytest.mark.parametrize(("code", "field"), [
    ("invalid_date", "date"), ("date_in_future", "date"), ("date_before_previous", "date"),
    ("not_whole", "value"), ("not_a_number", "value"), ("out_of_range", "value"),
    ("required", "value"), ("too_many_decimals", "value"), ("negative", "value"),
])
def test_problem_field(code, field):
    """The message goes under the input it is about (issue 19 item 9)."""
    assert problem_field(Problem(code, "")) == field
    assert (code in DATE_PROBLEMS) == (field == "date")
