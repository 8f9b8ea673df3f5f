"""INN validation and contract number normalization (R5)."""

import pytest

from app.domain.inn import INVALID_INN, InnError, normalize_contract_number, normalize_inn


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("7707083893", "7707083893"),
        ("7736207543", "7736207543"),
        ("500100732259", "500100732259"),
        (" 7707 083 893 ", "7707083893"),
        ("\t5001\u00a000732259\n", "500100732259"),
    ],
)
def test_valid(raw, expected):
    assert normalize_inn(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "   ",
        "7707083894",  # bad check digit
        "770708389A",
        "77070838930",  # 11 digits
        "770708389",  # 9 digits
        "500100732258",  # 12 digits, bad second check digit
        "500100732269",  # 12 digits, bad first check digit
        "7707-083893",
        "７７０７０８３８９３",  # full-width digits
        "0000000000a",
    ],
)
def test_invalid(raw):
    with pytest.raises(InnError) as exc:
        normalize_inn(raw)
    assert exc.value.problem == INVALID_INN
    assert exc.value.problem.text(lambda s: s) == (
        "Неверный ИНН: должно быть 10 цифр (организация) или 12 цифр (ИП) "
        "с верными контрольными цифрами"
    )


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("  15303 ", "15303"), ("ВК-12/а", "вк-12/а"), ("\tAbC 1\n", "abc 1"), ("Straße", "strasse")],
)
def test_contract_number(raw, expected):
    assert normalize_contract_number(raw) == expected


def test_contract_numbers_compare_case_insensitively():
    assert normalize_contract_number(" вк-12 ") == normalize_contract_number("ВК-12")
