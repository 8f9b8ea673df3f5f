"""The login's `next` and the language switch's return address: a path on this site or
nothing — never an open redirect (app.controllers._forms.safe_next)."""

import pytest

from app.controllers._forms import safe_next


@pytest.mark.parametrize(("url", "expected", "why"), [
    ("/readings/cold?contract=5&period=2026-03", "/readings/cold?contract=5&period=2026-03",
     "a deep link with its query survives"),
    ("/receipts/12", "/receipts/12", "a path"),
    ("/archive?point=3&from=01.01.2026", "/archive?point=3&from=01.01.2026", "dots and ="),
    ("/", "/", "the home page itself"),
    ("", "-", "nothing given"),
    (None, "-", "no parameter"),
    ("https://evil.example/", "-", "an absolute URL"),
    ("//evil.example/", "-", "scheme-relative: another host"),
    ("/\\evil.example", "-", "browsers read a backslash as a slash"),
    ("\\\\evil.example", "-", "backslashes only"),
    ("/\t/evil.example", "-", "a tab is dropped by the browser: //evil.example"),
    ("/\n/evil.example", "-", "a newline likewise (and header injection)"),
    ("/ /x", "-", "spaces are not in a URL we make"),
    ("/\x00", "-", "NUL"),
    ("javascript:alert(1)", "-", "a script URL"),
    ("readings/cold", "-", "relative: depends on where the form was"),
    ("/" + "a" * 2001, "-", "absurdly long"),
    ("/профиль", "/профиль", "printable non-ASCII is a path like another"),
])
def test_safe_next(url, expected, why):
    assert safe_next(url, "-") == expected, why
