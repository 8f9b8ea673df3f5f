"""The one place where "not the user's (or no such thing)" becomes a 404 (rule R8)."""

from __future__ import annotations

from typing import TypeVar

from litestar.exceptions import NotFoundException

T = TypeVar("T")


def owned_or_404(found: T | None) -> T:
    """What a scoped query found for the user; None (another's, or nothing) answers 404,
    the same answer either way so an id of another organization reveals nothing."""
    if found is None:
        raise NotFoundException()
    return found
