"""The one place where "not the user's (or no such thing)" becomes a 404 (rule R8)."""

from __future__ import annotations

from typing import Annotated, TypeVar

from litestar.exceptions import NotFoundException
from litestar.params import Parameter

from app.domain.ids import INT4_MAX

T = TypeVar("T")

# Every id in a path: Litestar checks type and bounds before the handler runs; a failure
# answers 404 (app.web.invalid_parameter), never a database error for an id ≥ 2³¹.
DbId = Annotated[int, Parameter(ge=1, le=INT4_MAX)]


def owned_or_404(found: T | None) -> T:
    """What a scoped query found for the user; None (another's, or nothing) answers 404,
    the same answer either way so an id of another organization reveals nothing."""
    if found is None:
        raise NotFoundException()
    return found
