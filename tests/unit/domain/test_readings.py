"""Cold-water readings (R2) and hot-water discharge volumes (R3)."""

from datetime import date
from decimal import Decimal

import pytest

from app.domain.readings import (
    PreviousReading,
    ReadingError,
    check_cold_reading,
    check_volume,
    consumption_since,
    consumptions_from_history,
    parse_cold_value,
    parse_reading_date,
    parse_volume,
)

TODAY = date(2018, 10, 8)


def asks(check, code: str) -> bool:
    """The check carries the question `code` (asked or already confirmed)."""
    return any(p.code == code for p in check.confirmations + check.warnings)


def transmittable(check) -> bool:
    return not check.errors and not check.confirmations


def ident(s: str) -> str:
    return s


@pytest.mark.parametrize(
    ("raw", "digits", "expected"),
    [
        ("12", 5, 12),
        ("012", 5, 12),
        (" 231 ", 5, 231),
        ("12.000", 5, 12),
        ("12,000", 5, 12),
        ("12,0", 5, 12),
        ("0", 5, 0),
        ("00000", 5, 0),
        ("99999", 5, 99999),
        ("0099999", 5, 99999),
        ("9", 1, 9),
        ("999999999", 9, 999999999),
        ("1 234", 5, 1234),
        ("-0", 5, 0),
    ],
)
def test_parse_cold_value(raw, digits, expected):
    assert parse_cold_value(raw, digits) == expected


@pytest.mark.parametrize(
    ("raw", "digits", "code"),
    [
        ("", 5, "required"),
        ("  \t", 5, "required"),
        ("12.5", 5, "not_whole"),
        ("12,5", 5, "not_whole"),
        ("12.001", 5, "not_whole"),
        ("100000", 5, "out_of_range"),
        ("10", 1, "out_of_range"),
        ("-1", 5, "out_of_range"),
        ("1" * 5000, 5, "out_of_range"),
        ("abc", 5, "not_a_number"),
        ("1e3", 5, "not_a_number"),
        ("12.", 5, "not_a_number"),
        ("+5", 5, "not_a_number"),
        ("١٢", 5, "not_a_number"),  # Arabic-Indic digits
        ("NaN", 5, "not_a_number"),
    ],
)
def test_parse_cold_value_rejects(raw, digits, code):
    with pytest.raises(ReadingError) as exc:
        parse_cold_value(raw, digits)
    assert exc.value.problem.code == code


def test_cold_value_messages():
    with pytest.raises(ReadingError) as exc:
        parse_cold_value("100000", 5)
    assert exc.value.problem.text(ident) == "Показание должно быть от 0 до 99999 (5 чёрных цифр)"
    with pytest.raises(ReadingError) as exc:
        parse_cold_value("12,5", 5)
    assert "чёрные цифры" in exc.value.problem.text(ident)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("08.10.2018", date(2018, 10, 8)),
        ("8.10.2018", date(2018, 10, 8)),
        ("2018-10-08", date(2018, 10, 8)),
        (" 29.02.2024 ", date(2024, 2, 29)),
    ],
)
def test_parse_reading_date(raw, expected):
    assert parse_reading_date(raw) == expected


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("", "required"),
        ("29.02.2023", "invalid_date"),
        ("32.01.2018", "invalid_date"),
        ("2018-13-01", "invalid_date"),
        ("08/10/2018", "invalid_date"),
        ("2018-10-8", "invalid_date"),
        ("08.10.18", "invalid_date"),
        ("вчера", "invalid_date"),
        ("00.00.0000", "invalid_date"),
    ],
)
def test_parse_reading_date_rejects(raw, code):
    with pytest.raises(ReadingError) as exc:
        parse_reading_date(raw)
    assert exc.value.problem.code == code


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("12", "12.000"),
        ("12.5", "12.500"),
        ("12,5", "12.500"),
        ("0,001", "0.001"),
        ("0", "0.000"),
        (" 3.14 ", "3.140"),
        ("1 234,567", "1234.567"),
        ("1\u00a0234\u00a0567.1", "1234567.100"),
        ("1\u202f234", "1234.000"),
        ("12.5000", "12.500"),
        ("999999999.999", "999999999.999"),
        ("0000000000012.5", "12.500"),
        ("-0", "0.000"),
    ],
)
def test_parse_volume(raw, expected):
    value = parse_volume(raw)
    assert value == Decimal(expected)
    assert str(value) == expected


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("", "required"),
        ("-1", "negative"),
        ("-0,5", "negative"),
        ("1.2345", "too_many_decimals"),
        ("0,0001", "too_many_decimals"),
        ("1000000000", "too_large"),
        ("1e3", "not_a_number"),
        ("1E3", "not_a_number"),
        ("NaN", "not_a_number"),
        ("Infinity", "not_a_number"),
        ("inf", "not_a_number"),
        ("12 м3", "not_a_number"),
        ("12.5.1", "not_a_number"),
        ("1 23", "not_a_number"),
        ("12 345 6", "not_a_number"),
        ("1,234.5", "not_a_number"),
        ("0x10", "not_a_number"),
        (".5", "not_a_number"),
        ("+1", "not_a_number"),
    ],
)
def test_parse_volume_rejects(raw, code):
    with pytest.raises(ReadingError) as exc:
        parse_volume(raw)
    assert exc.value.problem.code == code


PREV = PreviousReading(value=231, read_on=date(2018, 9, 7))


@pytest.mark.parametrize(
    ("value", "previous", "history", "confirm_rollover", "confirm_anomaly", "expected"),
    [
        # expected: consumption, rollover, anomaly, confirmation codes, warning codes, ok
        (240, PREV, [10, 10], False, False, (9, False, False, [], [], True)),
        (231, PREV, [10], False, False, (0, False, False, [], [], True)),
        (240, None, [10], False, False, (None, False, False, [], [], True)),
        (5, PREV, [], False, False, (99774, True, False, ["rollover"], [], False)),
        (5, PREV, [], True, False, (99774, True, False, [], ["rollover"], True)),
        (262, PREV, [10, 10], False, False, (31, False, True, ["anomaly"], [], False)),
        (262, PREV, [10, 10], False, True, (31, False, True, [], ["anomaly"], True)),
        (261, PREV, [10, 10], False, False, (30, False, False, [], [], True)),  # exactly 3×
        (
            261,
            PREV,
            [10, 0, 0, 0, 0, 0, 1000],
            False,
            False,
            (30, False, True, ["anomaly"], [], False),
        ),
        (300, PREV, [0, 0], False, False, (69, False, False, [], [], True)),  # mean 0
        (300, PREV, [], False, False, (69, False, False, [], [], True)),  # no history
        (
            5,
            PREV,
            [1, 1],
            False,
            False,
            (99774, True, True, ["rollover", "anomaly"], [], False),
        ),
        (5, PREV, [1, 1], True, True, (99774, True, True, [], ["rollover", "anomaly"], True)),
        (
            240,
            PreviousReading(Decimal("231.000"), date(2018, 9, 7)),
            [9],
            False,
            False,
            (9, False, False, [], [], True),
        ),
        (
            240,
            PreviousReading(Decimal("231.700"), date(2018, 9, 7)),
            [9],
            False,
            False,
            (9, False, False, [], [], True),
        ),
    ],
)
def test_check_cold_reading(value, previous, history, confirm_rollover, confirm_anomaly, expected):
    check = check_cold_reading(
        value, 5, TODAY, TODAY, previous, history, confirm_rollover, confirm_anomaly
    )
    got = (
        check.consumption,
        asks(check, "rollover"),
        asks(check, "anomaly"),
        [p.code for p in check.confirmations],
        [p.code for p in check.warnings],
        transmittable(check),
    )
    assert got == expected
    assert check.errors == []


def test_rollover_uses_meter_digits():
    check = check_cold_reading(3, 4, TODAY, TODAY, PreviousReading(9998, TODAY), [], True, False)
    assert check.consumption == 5 and asks(check, "rollover") and transmittable(check)


def test_confirmation_messages():
    check = check_cold_reading(5, 5, TODAY, TODAY, PREV, [1, 2, 2], False, False)
    rollover, anomaly = check.confirmations
    assert rollover.text(ident) == (
        "Текущее показание меньше предыдущего. Счётчик прошёл через ноль? "
        "Подтвердите переход через ноль."
    )
    assert anomaly.text(ident) == (
        "Расход 99774 м³ более чем в 3 раза превышает средний (1.667) "
        "за последние периоды. Подтвердите показание."
    )
    check = check_cold_reading(300, 5, TODAY, TODAY, PREV, [10, 20], False, False)
    assert check.confirmations[0].params == {"consumption": 69, "mean": Decimal("15")}


@pytest.mark.parametrize(
    ("read_on", "previous", "codes"),
    [
        (TODAY, PREV, []),
        (date(2018, 9, 7), PREV, []),  # same day as previous is allowed
        (date(2018, 9, 6), PREV, ["date_before_previous"]),
        (date(2018, 10, 9), PREV, ["date_in_future"]),
        (date(2018, 10, 9), None, ["date_in_future"]),
        (date(2000, 1, 1), None, []),
        (
            date(2018, 10, 9),
            PreviousReading(1, date(2019, 1, 1)),
            ["date_in_future", "date_before_previous"],
        ),
    ],
)
def test_reading_dates(read_on, previous, codes):
    cold = check_cold_reading(240, 5, read_on, TODAY, previous, [], False, False)
    volume = check_volume(Decimal("1.5"), read_on, TODAY, previous)
    assert [p.code for p in cold.errors] == codes
    assert [p.code for p in volume.errors] == codes
    assert transmittable(cold) is (not codes)


def test_date_before_previous_message():
    check = check_cold_reading(240, 5, date(2018, 9, 1), TODAY, PREV, [], False, False)
    assert check.errors[0].text(ident) == (
        "Дата показания не может быть раньше даты предыдущего показания (07.09.2018)"
    )


def test_errors_block_even_when_confirmed():
    check = check_cold_reading(5, 5, date(2018, 10, 9), TODAY, PREV, [], True, True)
    assert asks(check, "rollover") and not transmittable(check)



@pytest.mark.parametrize(
    ("values", "digits", "expected"),
    [
        ([], 5, []),
        ([231], 5, []),
        ([260, 240, 231], 5, [20, 9]),
        ([5, 99990, 99980], 5, [15, 10]),
        ([3, 8], 1, [5]),
        ([7, 7], 5, [0]),
    ],
)
def test_consumptions_from_history(values, digits, expected):
    assert consumptions_from_history(values, digits) == expected


@pytest.mark.parametrize(
    ("value", "previous", "digits", "expected", "why"),
    [
        ("238", "231", 5, "7", "plain difference"),
        ("231", "231", 5, "0", "no water used"),
        ("3", "99998", 5, "5", "rolled over past 99999 (R2)"),
        ("5", "998", 3, "7", "rollover depends on the meter's digits"),
        ("231", None, 5, None, "the meter's first accepted reading: nothing to compare"),
    ],
)
def test_archive_consumption_since_previous(value, previous, digits, expected, why):
    got = consumption_since(Decimal(value), None if previous is None else Decimal(previous),
                            digits)
    assert got == (None if expected is None else Decimal(expected)), why
