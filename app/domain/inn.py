"""INN and contract-number normalization for connection requests (rule R5)."""

import re

from stdnum.ru import inn as _stdnum_inn

from app.domain import N_, Problem

INVALID_INN = Problem(
    "inn_invalid",
    N_(
        "Неверный ИНН: должно быть 10 цифр (организация) или 12 цифр (ИП) "
        "с верными контрольными цифрами"
    ),
)

_INN_RE = re.compile(r"[0-9]{10}|[0-9]{12}")


class InnError(ValueError):
    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.code)
        self.problem = problem


def normalize_inn(raw: str) -> str:
    """Digits of a valid INN with all whitespace removed; raises InnError otherwise."""
    inn = "".join(raw.split())
    if not _INN_RE.fullmatch(inn) or not _stdnum_inn.is_valid(inn):
        raise InnError(INVALID_INN)
    return inn


def normalize_contract_number(s: str) -> str:
    return s.strip().casefold()
