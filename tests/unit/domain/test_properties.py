"""Property tests for the domain parsers and the submission window."""

from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from app.domain.billing_csv import FILES, parse_csv
from app.domain.calendar import WorkingCalendar, add_months, submission_window
from app.domain.inn import InnError, normalize_inn
from app.domain.readings import ReadingError, parse_cold_value, parse_volume

CAL = WorkingCalendar()
NUMBERISH = st.text(alphabet="0123456789 ,.-+eE\u00a0naif", max_size=20)


@given(st.one_of(st.text(), NUMBERISH))
def test_parse_volume_only_raises_reading_error(raw):
    try:
        value = parse_volume(raw)
    except ReadingError:
        return
    assert value >= 0 and value.as_tuple().exponent == -3


@given(st.one_of(st.text(), NUMBERISH), st.integers(1, 9))
def test_parse_cold_value_is_in_range_or_reading_error(raw, digits):
    try:
        value = parse_cold_value(raw, digits)
    except ReadingError:
        return
    assert 0 <= value < 10**digits


@given(st.dates(date(2018, 1, 1), date(2027, 12, 31)), st.integers(1, 31))
def test_window_shape(period, day):
    opens, closes = submission_window(period, day, CAL)
    deadline = opens + timedelta(days=2)
    assert opens <= closes
    assert CAL.is_working_day(closes)
    assert (deadline.year, deadline.month) == (period.year, period.month)
    assert deadline.day == day or (
        deadline.day < day and add_months(period, 1) - timedelta(1) == deadline
    )
    assert all(
        not CAL.is_working_day(deadline + timedelta(n)) for n in range((closes - deadline).days)
    )


@given(st.one_of(st.text(), st.text(alphabet="0123456789 \t", max_size=14)))
def test_normalize_inn_only_raises_inn_error(raw):
    try:
        inn = normalize_inn(raw)
    except InnError:
        return
    assert inn.isascii() and inn.isdigit() and len(inn) in (10, 12)


@given(st.sampled_from(sorted(FILES)), st.text())
def test_parse_csv_never_crashes(filename, text):
    rows, errors = parse_csv(filename, text)
    assert all(e.startswith(f"{filename}:") for e in errors)
    assert all(isinstance(r["_line"], int) for r in rows)
