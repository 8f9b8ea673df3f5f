"""Which request values may name a database row (issue 18, F5: ids ≥ 2³¹ were a 500)."""

import pytest

from app.domain.ids import INT4_MAX, parse_db_id


@pytest.mark.parametrize(
    ("raw", "expected", "why"),
    [
        ("1", 1, "smallest id"),
        ("42", 42, "plain"),
        (str(INT4_MAX), INT4_MAX, "largest int4"),
        (str(INT4_MAX + 1), None, "beyond int4: asyncpg's DataError"),
        ("9" * 5000, None, "huge (int() would refuse it too)"),
        ("0", None, "serial ids start at 1"),
        ("-1", None, "no sign"),
        ("+1", None, "no sign"),
        (" 1", None, "no spaces"),
        ("1.0", None, "not an integer"),
        ("٣", None, "another script's digit"),
        ("１", None, "full-width digit"),
        ("", None, "empty"),
        ("abc", None, "not a number"),
        ("1\x00", None, "NUL"),
        (None, None, "absent"),
        (7, 7, "already an int"),
        (2**31, None, "an int beyond int4"),
        (True, None, "a bool is not an id"),
    ],
)
def test_parse_db_id(raw, expected, why):
    assert parse_db_id(raw) == expected, why
