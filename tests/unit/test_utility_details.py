"""UTILITY_FILE (app/utility.py): the footer's details of a deployment, checked at start."""

from __future__ import annotations

import pytest

from app import i18n
from app.settings import ROOT
from app.utility import PLAIN, WORDS, UtilityFileError, load_utility


def _in(locale: str, details, key: str) -> str:
    token = i18n.current_locale.set(locale)
    try:
        return details.words(key)
    finally:
        i18n.current_locale.reset(token)


def test_the_example_file_loads_and_equals_the_demo_details():
    example = load_utility(ROOT / "deploy" / "utility.toml.example")
    demo = load_utility(None)
    for locale in ("ru", "en"):
        for key in WORDS:
            assert _in(locale, example, key) == _in(locale, demo, key), (locale, key)
    for key in PLAIN:
        assert getattr(example, key) == getattr(demo, key)
    assert demo.phone_link == "tel:+73412000000"


@pytest.mark.parametrize(("toml", "error"), [
    ('phone = "1"\nfax = "2"', "unknown keys ['fax']"),
    ('hours = ""', "hours"),
    ('hours = { en = "Mon–Fri" }', "hours"),
    ('inn = ""', "inn"),
    ('phone = [1, 2]', "phone"),
    ("phone = ", "UTILITY_FILE"),
])
def test_a_broken_file_stops_the_start(tmp_path, toml, error):
    path = tmp_path / "utility.toml"
    path.write_text(toml, encoding="utf-8")
    with pytest.raises(UtilityFileError, match=error.replace("[", r"\[").replace("]", r"\]")):
        load_utility(path)


def test_a_missing_file_stops_the_start(tmp_path):
    with pytest.raises(UtilityFileError, match="utility.toml"):
        load_utility(tmp_path / "utility.toml")
