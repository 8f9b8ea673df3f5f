"""Who else has a contract (issue 18, F13): «Мои договора» shows each contract's other users
with their e-mails masked — enough to recognise a colleague, not to harvest addresses."""

from __future__ import annotations

MASK = "***"


def mask_email(email: str) -> str:
    """The first character of the local part, then ***, then the whole domain:
    «dmitry@izhvodokanal.example» -> «d***@izhvodokanal.example»."""
    local, at, domain = (email or "").strip().rpartition("@")
    if not at:
        return MASK
    return f"{local[:1]}{MASK}@{domain}" if local else f"{MASK}@{domain}"
