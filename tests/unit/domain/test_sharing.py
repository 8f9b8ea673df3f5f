"""Masked e-mails of a contract's other users on «Мои договора» (issue 18, F13)."""

import pytest

from app.domain.sharing import mask_email


@pytest.mark.parametrize(
    ("email", "masked", "why"),
    [
        ("dmitry@izhvodokanal.example", "d***@izhvodokanal.example", "first letter + domain"),
        ("d@izhvodokanal.example", "d***@izhvodokanal.example", "one-letter local part"),
        ("Иван@пример.рф", "И***@пример.рф", "non-Latin"),
        ("a\"b@c\"@example.ru", "a***@example.ru", "the last @ separates the domain"),
        ("@example.ru", "***@example.ru", "no local part"),
        ("not-an-address", "***", "no @: nothing shown"),
        ("", "***", "empty"),
    ],
)
def test_mask_email(email, masked, why):
    assert mask_email(email) == masked, why
