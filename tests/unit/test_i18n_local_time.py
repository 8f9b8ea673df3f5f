"""Timestamps are shown in the portal's zone (TIMEZONE, Izhevsk by default) with the zone
said, through the one `|datetime` / `|date` filter pair of app/i18n.py (issue 19)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from app import i18n
from app.settings import Settings, _timezone, get_settings


@pytest.fixture(params=["ru", "en"])
def locale(request):
    token = i18n.current_locale.set(request.param)
    yield request.param
    i18n.current_locale.reset(token)


def _utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


# (UTC instant, keyword arguments, ru, en). Europe/Samara is UTC+4 all year: no DST since 2011.
CASES = [
    (_utc(2026, 12, 2, 10, 15, 3), {}, "02.12.2026 14:15:03 UTC+4", "2 Dec 2026 14:15:03 UTC+4"),
    (_utc(2026, 7, 2, 10, 15, 3), {}, "02.07.2026 14:15:03 UTC+4", "2 Jul 2026 14:15:03 UTC+4"),
    (_utc(2026, 12, 2, 10, 15, 3), {"seconds": False}, "02.12.2026 14:15 UTC+4",
     "2 Dec 2026 14:15 UTC+4"),
    (_utc(2026, 12, 2, 10, 15, 3), {"zone": False}, "02.12.2026 14:15:03",
     "2 Dec 2026 14:15:03"),
    # the evening of 31 December in UTC is already the new year in Izhevsk
    (_utc(2026, 12, 31, 21, 30, 0), {"seconds": False}, "01.01.2027 01:30 UTC+4",
     "1 Jan 2027 01:30 UTC+4"),
    # an instant given in another zone is the same instant
    (datetime(2026, 12, 2, 13, 15, 3, tzinfo=timezone(timedelta(hours=3))), {},
     "02.12.2026 14:15:03 UTC+4", "2 Dec 2026 14:15:03 UTC+4"),
    # a naive value (never from the database, which stores timestamptz) is taken as UTC
    (datetime(2026, 12, 2, 10, 15, 3), {}, "02.12.2026 14:15:03 UTC+4",
     "2 Dec 2026 14:15:03 UTC+4"),
    (None, {}, "", ""),
]


@pytest.mark.parametrize(("instant", "kwargs", "ru", "en"), CASES)
def test_datetime_is_izhevsk_time(locale, instant, kwargs, ru, en):
    assert get_settings().timezone == "Europe/Samara"
    assert i18n.format_datetime(instant, **kwargs) == (ru if locale == "ru" else en)


@pytest.mark.parametrize(("instant", "ru", "en"), [
    (_utc(2026, 12, 2, 19, 59, 0), "02.12.2026", "2 Dec 2026"),
    (_utc(2026, 12, 2, 20, 0, 0), "03.12.2026", "3 Dec 2026"),  # midnight in Izhevsk
])
def test_date_of_a_timestamp_is_the_local_date(locale, instant, ru, en):
    assert i18n.format_date(instant) == (ru if locale == "ru" else en)
    assert i18n.format_date(date(2026, 12, 2)) == ("02.12.2026" if locale == "ru" else "2 Dec 2026")


@pytest.mark.parametrize(("zone", "expected"), [
    ("Europe/Samara", "02.12.2026 14:15:03 UTC+4"),
    ("Europe/Moscow", "02.12.2026 13:15:03 UTC+3"),
    ("UTC", "02.12.2026 10:15:03 UTC"),
    ("Asia/Kolkata", "02.12.2026 15:45:03 UTC+5:30"),
    ("America/New_York", "02.12.2026 05:15:03 UTC-5"),
])
def test_timezone_setting_is_followed(monkeypatch, zone, expected):
    settings: Settings = dataclasses.replace(get_settings(), timezone=zone)
    monkeypatch.setattr(i18n, "get_settings", lambda: settings)
    token = i18n.current_locale.set("ru")
    try:
        assert i18n.format_datetime(_utc(2026, 12, 2, 10, 15, 3)) == expected
    finally:
        i18n.current_locale.reset(token)


def test_unknown_timezone_fails_at_start():
    with pytest.raises(ValueError, match="TIMEZONE"):
        _timezone("Europe/Izhevsk")
