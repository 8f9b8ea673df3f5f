"""What a database id in a request may be: a positive int4 (every id column is `serial`).

asyncpg refuses an int outside the column's range with a DataError, so an id ≥ 2³¹ that
reached a query was a 500; the web layer bounds every id before any query sees it.
"""

from __future__ import annotations

INT4_MAX = 2**31 - 1


def parse_db_id(raw: object) -> int | None:
    """The id `raw` names, or None when it cannot name a row: not plain ASCII digits (no
    sign, no spaces, no other scripts' digits), zero, or beyond int4."""
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        return raw if 1 <= raw <= INT4_MAX else None
    if not isinstance(raw, str) or not (0 < len(raw) <= 10) or not raw.isascii() \
            or not raw.isdigit():
        return None
    value = int(raw)
    return value if 1 <= value <= INT4_MAX else None
