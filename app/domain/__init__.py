"""Pure domain layer: rules of the subscriber portal, free of web, database and I/O."""

from collections.abc import Callable
from dataclasses import dataclass, field
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

    def text(self, gettext: Callable[[str], str], number: Callable[[Any], str] = str) -> str:
        """Translated message; Decimal params go through `number` (locale formatting)."""
        params = {k: number(v) if isinstance(v, Decimal) else v for k, v in self.params.items()}
        return gettext(self.message).format(**params)
