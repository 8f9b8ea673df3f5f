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
