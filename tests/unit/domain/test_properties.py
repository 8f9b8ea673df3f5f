"""Property tests for the domain parsers and the submission window."""

from datetime import date, timedelta
from decimal import Decimal

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


# ---------------------------------------------------------------- round trips and invariants
# (added with the security suite: what a hostile or odd input can and cannot do to a parser)

from stdnum.ru import inn as stdnum_inn  # noqa: E402

from app.domain.calendar import period_for_windows, window_state  # noqa: E402
from app.domain.inn import normalize_contract_number  # noqa: E402
from app.domain.readings import (  # noqa: E402
    PreviousReading,
    check_cold_reading,
    consumptions_from_history,
    parse_reading_date,
)

WHITESPACE = st.text(alphabet=" \t\u00a0\n", max_size=3)
HOSTILE_CHARS = st.text(alphabet="<>\"'&\x00\u202e\u200f;-/\\%_*", min_size=1, max_size=5)


@given(st.integers(1, 9).flatmap(lambda d: st.tuples(st.just(d), st.integers(0, 10**d - 1))),
       WHITESPACE, WHITESPACE, st.integers(0, 3), st.sampled_from([".", ","]))
def test_cold_value_round_trip(digits_value, before, after, zeros, sep):
    digits, value = digits_value
    fraction = sep + "0" * zeros if zeros else ""
    assert parse_cold_value(f"{before}{value}{fraction}{after}", digits) == value


@given(st.integers(1, 9), st.integers(0, 10**9), HOSTILE_CHARS)
def test_cold_value_rejects_any_hostile_character(digits, value, junk):
    try:
        parse_cold_value(f"{value}{junk}", digits)
    except ReadingError:
        return
    raise AssertionError("accepted a value with markup/quote/control characters")


@given(st.decimals(min_value=0, max_value=Decimal("999999999.999"), places=3),
       st.sampled_from([".", ","]), WHITESPACE)
def test_volume_round_trip(volume, sep, pad):
    text = f"{volume:f}".replace(".", sep)
    assert parse_volume(pad + text + pad) == volume


@given(st.integers(0, 999_999_999), st.integers(0, 999), st.sampled_from([" ", "\u00a0", "\u202f"]))
def test_volume_with_thousands_separators(whole, thousandths, space):
    grouped = f"{whole:,}".replace(",", space)
    expected = Decimal(whole) + Decimal(thousandths) / 1000
    assert parse_volume(f"{grouped},{thousandths:03d}") == expected


@given(st.dates(date(1900, 1, 1), date(2999, 12, 31)), WHITESPACE)
def test_reading_date_round_trip_both_formats(day, pad):
    assert parse_reading_date(pad + day.strftime("%d.%m.%Y") + pad) == day
    assert parse_reading_date(day.isoformat()) == day


@given(st.text(max_size=30))
def test_reading_date_only_raises_reading_error(raw):
    try:
        parsed = parse_reading_date(raw)
    except ReadingError:
        return
    assert isinstance(parsed, date)


@given(st.integers(10**8, 10**9 - 1), WHITESPACE)
def test_valid_company_inn_round_trip(base, pad):
    inn = str(base) + stdnum_inn.calc_company_check_digit(str(base))
    assert normalize_inn(pad + inn + pad) == inn


@given(st.integers(10**9, 10**10 - 1))
def test_valid_personal_inn_round_trip(base):
    inn = str(base) + stdnum_inn.calc_personal_check_digits(str(base))
    assert normalize_inn(inn) == inn


@given(st.integers(10**8, 10**9 - 1), st.integers(1, 9))
def test_wrong_check_digit_is_refused(base, delta):
    good = str(base) + stdnum_inn.calc_company_check_digit(str(base))
    bad = good[:-1] + str((int(good[-1]) + delta) % 10)
    try:
        normalize_inn(bad)
    except InnError:
        return
    raise AssertionError(f"{bad} accepted")


@given(st.text(max_size=40), WHITESPACE)
def test_contract_number_ignores_case_and_outer_whitespace(number, pad):
    assert normalize_contract_number(pad + number.upper() + pad) == \
        normalize_contract_number(number.lower())


@given(st.dates(date(2018, 1, 1), date(2027, 12, 31)), st.integers(1, 31),
       st.dates(date(2017, 12, 1), date(2028, 2, 1)))
def test_window_state_agrees_with_the_window(period, day, today):
    opens, closes = submission_window(period, day, CAL)
    state = window_state(today, (opens, closes))
    assert (state == "open") == (opens <= today <= closes)
    assert (state == "before") == (today < opens)


@given(st.dates(date(2018, 3, 1), date(2027, 10, 31)), st.integers(1, 31))
def test_period_for_windows_is_open_today_or_next_to_open(today, day):
    from app.domain.calendar import candidate_periods

    periods = candidate_periods(today)
    windows = {p: submission_window(p, day, CAL) for p in periods}
    chosen = period_for_windows(today, windows)
    assert chosen in periods
    open_now = [p for p, w in windows.items() if w[0] <= today <= w[1]]
    if open_now:
        assert chosen in open_now
    elif any(w[0] > today for w in windows.values()):
        assert windows[chosen][0] > today
        assert all(windows[chosen][0] <= w[0] for w in windows.values() if w[0] > today)


@given(st.integers(1, 8).flatmap(lambda d: st.tuples(
    st.just(d), st.integers(0, 10**d - 1), st.integers(0, 10**d - 1))))
def test_cold_consumption_is_never_negative(digits_values):
    digits, previous, value = digits_values
    check = check_cold_reading(value, digits, date(2026, 1, 10), date(2026, 1, 10),
                               PreviousReading(previous, date(2026, 1, 1)), [], True, True)
    assert check.consumption is not None and 0 <= check.consumption < 10**digits
    assert any(p.code == "rollover" for p in check.warnings) == (value < previous)
    assert not check.errors and not check.confirmations  # both confirmations given


@given(st.integers(1, 8).flatmap(lambda d: st.tuples(
    st.just(d), st.lists(st.integers(0, 10**d - 1), max_size=12))))
def test_history_consumptions_are_in_range(digits_values):
    digits, values = digits_values
    result = consumptions_from_history(values, digits)
    assert len(result) == max(0, len(values) - 1)
    assert all(0 <= c < 10**digits for c in result)
