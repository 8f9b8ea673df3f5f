"""What a phone number on registration and «Профиль» must look like."""

import pytest

from app.domain.contacts import phone_problem


@pytest.mark.parametrize(
    ("raw", "ok", "why"),
    [
        ("+7 (3412) 00-00-00", True, "the utility's own format"),
        ("8 912 000 00 00", True, "a domestic mobile number"),
        ("+79120000000", True, "digits only, E.164"),
        ("+7.912.000.00.00", True, "dots as separators"),
        ("abc", False, "letters"),
        ("12345", False, "too few digits to dial"),
        ("+7 912 000-00-00 доб", False, "words after the number"),
        ("7" * 16, False, "more than E.164's 15 digits"),
        ("++7 912 000 00 00", False, "a doubled plus"),
        ("(3412) 00-00-00", False, "starts with a bracket and has too few digits"),
    ],
)
def test_phone_number_rule(raw, ok, why):
    problem = phone_problem(raw)
    assert (problem is None) == ok, why
    if problem:
        assert problem.code == "phone_invalid"
