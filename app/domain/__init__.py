"""Pure domain layer: rules of the subscriber portal, free of web, database and I/O."""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any


def N_(s: str) -> str:
    """Mark a message for Babel extraction (`-k N_`); translated later by the web layer."""
    return s


@dataclass(frozen=True)
class Problem:
    """A user-facing problem: stable `code`, untranslated `message` and its format params."""

    code: str
    message: str
    params: dict[str, Any] = field(default_factory=dict)

    def text(self, gettext: Callable[[str], str], number: Callable[[Any], str] = str,
             day: Callable[[date], str] | None = None) -> str:
        """Translated message; Decimal params go through `number`, dates through `day`
        (locale formatting; without `day` a date is written ДД.ММ.ГГГГ)."""
        params = {k: number(v) if isinstance(v, Decimal)
                  else (day(v) if day else v.strftime("%d.%m.%Y")) if isinstance(v, date)
                  else v
                  for k, v in self.params.items()}
        return gettext(self.message).format(**params)
