"""Per-request locale (a contextvar), Babel catalogs and the formatters used by templates."""

from __future__ import annotations

from contextvars import ContextVar
from datetime import date
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

from babel import Locale
from babel.dates import format_date as babel_format_date
from babel.numbers import format_decimal
from babel.support import NullTranslations, Translations

LOCALES = ("ru", "en")
DEFAULT_LOCALE = "ru"
LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"

current_locale: ContextVar[str] = ContextVar("current_locale", default=DEFAULT_LOCALE)


@lru_cache(maxsize=None)
def translations(locale: str) -> NullTranslations:
    if locale == DEFAULT_LOCALE:
        # Source strings are Russian: the ru catalog is the identity.
        return NullTranslations()
    return Translations.load(str(LOCALE_DIR), [locale], domain="messages")


def gettext(message: str) -> str:
    return translations(current_locale.get()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    # Screen texts avoid plurals that depend on a number (Russian has three forms).
    return translations(current_locale.get()).ngettext(singular, plural, n)


_ = gettext


def pick_locale(*candidates: str | None) -> str:
    for candidate in candidates:
        if candidate in LOCALES:
            return candidate
    return DEFAULT_LOCALE


@lru_cache(maxsize=None)
def _babel_locale(code: str) -> Locale:
    return Locale.parse(code)


def format_date(value: date | None) -> str:
    """ДД.ММ.ГГГГ in Russian, '29 Nov 2026' in English."""
    if value is None:
        return ""
    locale = current_locale.get()
    pattern = "dd.MM.yyyy" if locale == "ru" else "d MMM yyyy"
    return babel_format_date(value, pattern, locale=_babel_locale(locale))


def format_m3(value: Decimal | int | float | None, decimals: int = 3) -> str:
    """A volume with three decimals through Babel: «1 234,000» (ru), "1,234.000" (en)."""
    if value is None:
        return ""
    pattern = "#,##0." + "0" * decimals if decimals else "#,##0"
    return format_decimal(Decimal(value), pattern, locale=_babel_locale(current_locale.get()))


def format_period(period: date) -> str:
    """«Октябрь 2018» / "October 2018"."""
    locale = current_locale.get()
    text = babel_format_date(period, "LLLL yyyy", locale=_babel_locale(locale))
    return text[:1].upper() + text[1:]
