"""The fast date/number formatters of app/i18n.py give exactly what Babel gives."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from babel.dates import format_date as babel_format_date
from babel.numbers import format_decimal
from hypothesis import given
from hypothesis import strategies as st

from app import i18n


@pytest.fixture(params=["ru", "en"])
def locale(request):
    token = i18n.current_locale.set(request.param)
    yield request.param
    i18n.current_locale.reset(token)


@given(st.decimals(min_value=Decimal("-99999999"), max_value=Decimal("999999999"), places=3,
                   allow_nan=False, allow_infinity=False))
def test_format_m3_equals_babel(value):
    for code in ("ru", "en"):
        token = i18n.current_locale.set(code)
        try:
            assert i18n.format_m3(value) == format_decimal(value, "#,##0.000", locale=code)
            assert i18n.format_m3(value, 0) == format_decimal(value, "#,##0", locale=code)
        finally:
            i18n.current_locale.reset(token)


@pytest.mark.parametrize(("value", "ru", "en"), [
    (Decimal("1234"), "1\u00a0234,000", "1,234.000"),
    (Decimal("0.5"), "0,500", "0.500"),
    (231, "231,000", "231.000"),
    (None, "", ""),
])
def test_format_m3_examples(locale, value, ru, en):
    assert i18n.format_m3(value) == (ru if locale == "ru" else en)


@given(st.dates(min_value=date(1900, 1, 1), max_value=date(2200, 12, 31)))
def test_format_date_equals_babel(value):
    for code, pattern in (("ru", "dd.MM.yyyy"), ("en", "d MMM yyyy")):
        token = i18n.current_locale.set(code)
        try:
            assert i18n.format_date(value) == babel_format_date(value, pattern, locale=code)
        finally:
            i18n.current_locale.reset(token)


# ---------------------------------------------------------------- one date format per language
# (issue 19): every date a page shows — text, the grid's date inputs, messages that quote a
# date — is ДД.ММ.ГГГГ in Russian and "1 Dec 2026" in English, and what is shown parses back.

@pytest.mark.parametrize(("value", "ru", "en"), [
    (date(2026, 11, 1), "01.11.2026", "1 Nov 2026"),
    (date(2026, 12, 31), "31.12.2026", "31 Dec 2026"),
    (date(2018, 9, 4), "04.09.2018", "4 Sep 2018"),
])
def test_format_date_per_language(locale, value, ru, en):
    assert i18n.format_date(value) == (ru if locale == "ru" else en)


@given(st.dates(min_value=date(1900, 1, 1), max_value=date(2200, 12, 31)))
def test_what_a_page_shows_parses_back(value):
    from app.domain.readings import parse_reading_date

    for code in ("ru", "en"):
        token = i18n.current_locale.set(code)
        try:
            assert parse_reading_date(i18n.format_date(value)) == value
        finally:
            i18n.current_locale.reset(token)


@pytest.mark.parametrize(("text", "expected"), [
    ("01.12.2026", date(2026, 12, 1)),
    ("1.12.2026", date(2026, 12, 1)),
    ("2026-12-01", date(2026, 12, 1)),
    ("1 Dec 2026", date(2026, 12, 1)),
    ("01 dec 2026", date(2026, 12, 1)),
    ("1 December 2026", date(2026, 12, 1)),
    ("30 Sept 2026", date(2026, 9, 30)),
    ("5 May 2026", date(2026, 5, 5)),
    (" 7 Nov. 2026 ", date(2026, 11, 7)),
    ("31 Feb 2026", None),
    ("1 Foo 2026", None),
    ("Dec 1 2026", None),
    ("12/01/2026", None),
])
def test_parse_reading_date_reads_both_languages(text, expected):
    from app.domain.readings import ReadingError, parse_reading_date

    if expected is None:
        with pytest.raises(ReadingError):
            parse_reading_date(text)
    else:
        assert parse_reading_date(text) == expected


@pytest.mark.parametrize(("locale", "expected"), [
    ("ru", "Дата показания не может быть раньше даты предыдущего показания (04.09.2018)"),
    ("en", "The reading date cannot be earlier than the previous reading's date (4 Sep 2018)"),
])
def test_a_message_quotes_a_date_the_pages_way(locale, expected):
    from app.domain.readings import PreviousReading, check_cold_reading

    token = i18n.current_locale.set(locale)
    try:
        check = check_cold_reading(240, 5, date(2018, 9, 3), date(2018, 10, 8),
                                   PreviousReading(231, date(2018, 9, 4)), [], False, False)
        [problem] = [p for p in check.errors if p.code == "date_before_previous"]
        assert problem.text(i18n.gettext, i18n.format_number, i18n.format_date) == expected
    finally:
        i18n.current_locale.reset(token)
