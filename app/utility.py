"""The utility's own details in every page's footer: contacts, hours, legal details.

A deployment gives its own in a TOML file named by the `UTILITY_FILE` setting (example:
`deploy/utility.toml.example`); without one the demo utility's details are shown. A key the
file leaves out keeps its demo value. A text made of words is either one string — passed
through the catalogs, so the demo texts below are translated — or a table of the languages,
`{ru = "…", en = "…"}` (a language it lacks shows the Russian). Numbers, the phone and the
e-mail are shown as they are. The file is read and checked once, when the app is built: a
typo stops the start instead of showing a broken footer.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.domain import N_
from app.i18n import DEFAULT_LOCALE, current_locale, gettext

Text = str | dict[str, str]

# The words: one string through Babel, or {ru, en}.
WORDS: dict[str, str] = {
    "department": N_("Абонентский отдел для юридических лиц"),
    "hours": N_("пн–чт 8:00–17:00, пт 8:00–16:00, обед 12:00–12:48"),
    "hours_note": N_("время ижевское (UTC+4)"),
    "name": N_("МУП г. Ижевска «Ижводоканал»"),
    "address": N_("426000, г. Ижевск, ул. Примерная, 1"),
}
# As they are.
PLAIN: dict[str, str] = {
    "phone": "+7 (3412) 00-00-00",
    "email": "abonent@izhvodokanal.example",
    "inn": "1800000000",
    "ogrn": "1001800000000",
}


@dataclass(frozen=True)
class UtilityDetails:
    """What the footer shows (templates/_footer.html): `words(key)` in the page's language."""

    texts: dict[str, Text]
    phone: str
    email: str
    inn: str
    ogrn: str

    def words(self, key: str) -> str:
        value = self.texts[key]
        if isinstance(value, dict):
            return value.get(current_locale.get()) or value[DEFAULT_LOCALE]
        return gettext(value)

    @property
    def phone_link(self) -> str:
        """`tel:` of the phone: its digits and a leading +."""
        return "tel:" + re.sub(r"(?!^\+)[^\d]", "", self.phone.strip())


class UtilityFileError(ValueError):
    pass


def _text(key: str, value: Any) -> Text:
    if isinstance(value, str) and value.strip():
        return value.strip()
    if (isinstance(value, dict) and value and DEFAULT_LOCALE in value
            and all(isinstance(k, str) and isinstance(v, str) and v.strip()
                    for k, v in value.items())):
        return {k: v.strip() for k, v in value.items()}
    raise UtilityFileError(f"{key}: a non-empty string or a table {{ru = \"…\", en = \"…\"}} "
                           "with at least ru")


def load_utility(path: Path | None) -> UtilityDetails:
    """The details of `path` (TOML) over the demo ones; the demo ones without a file."""
    given: dict[str, Any] = {}
    if path is not None:
        try:
            given = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
            raise UtilityFileError(f"UTILITY_FILE {path}: {error}") from error
    unknown = sorted(set(given) - set(WORDS) - set(PLAIN))
    if unknown:
        raise UtilityFileError(f"UTILITY_FILE {path}: unknown keys {unknown}; "
                               f"known: {sorted([*WORDS, *PLAIN])}")
    texts = {key: _text(key, given.get(key, default)) for key, default in WORDS.items()}
    plain = {}
    for key, default in PLAIN.items():
        value = given.get(key, default)
        if not isinstance(value, str | int) or not str(value).strip():
            raise UtilityFileError(f"UTILITY_FILE {path}: {key}: a non-empty string")
        plain[key] = str(value).strip()
    return UtilityDetails(texts=texts, **plain)
