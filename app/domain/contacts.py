"""Contact details of a portal user: what a phone number must look like."""

import re

from app.domain import N_, Problem

# Digits with the usual separators and an optional leading +: «+7 (3412) 00-00-00»,
# «8 912 000 00 00». A number has 10 to 15 digits (E.164 allows 15).
_PHONE_RE = re.compile(r"\+?[0-9][0-9 ()\-.\u00a0]*")
MIN_DIGITS, MAX_DIGITS = 10, 15


def phone_problem(raw: str) -> Problem | None:
    """None for a phone number a person can dial; else why not (empty is the caller's)."""
    digits = sum(ch.isdigit() for ch in raw)
    if not _PHONE_RE.fullmatch(raw.strip()) or not MIN_DIGITS <= digits <= MAX_DIGITS:
        return Problem("phone_invalid",
                       N_("Введите номер телефона, например +7 3412 00-00-00"))
    return None
