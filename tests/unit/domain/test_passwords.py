"""Password policy."""

import pytest

from app.domain.passwords import password_problems


@pytest.mark.parametrize(
    ("password", "confirm", "codes"),
    [
        ("correct horse", "correct horse", []),
        ("0123456789", "0123456789", []),
        ("x" * 256, "x" * 256, []),
        ("пароль1234", "пароль1234", []),
        ("012345678", "012345678", ["password_too_short"]),
        ("", "", ["password_too_short"]),
        ("0123456789", "0123456789 ", ["password_mismatch"]),
        ("short", "other", ["password_too_short", "password_mismatch"]),
        (" " * 12, " " * 12, ["password_blank"]),
        ("\t \n" * 4, "\t \n" * 4, ["password_blank"]),
        ("x" * 257, "x" * 257, ["password_too_long"]),
    ],
)
def test_password_problems(password, confirm, codes):
    assert [p.code for p in password_problems(password, confirm)] == codes


def test_messages():
    texts = [p.text(lambda s: s) for p in password_problems("short", "other")]
    assert texts == ["Пароль должен содержать не менее 10 символов", "Пароли не совпадают"]
