"""Bearer-token authentication of /api/v1: the one place that decides who an API request acts
for (no session, no CSRF). A blocked-user check belongs in `authenticate` (or the query)."""

from __future__ import annotations

import hashlib
import re
from typing import TypeAlias

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.di import NamedDependency
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers import BaseRouteHandler

from app import i18n
from app.domain import N_
from app.domain.vocabulary import ApiScope
from app.queries.api_tokens import Principal, token_principal

# «wp_» + 43 characters of base64url (256 bits); the shape is checked before any lookup.
TOKEN_RE = re.compile(r"^wp_[A-Za-z0-9_-]{43}$")
CHALLENGE = {"WWW-Authenticate": 'Bearer realm="api"'}


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def bearer_token(connection: ASGIConnection) -> str | None:
    """The token of an `Authorization: Bearer <token>` header of the right shape, else None."""
    header = connection.headers.get("authorization") or ""
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not TOKEN_RE.fullmatch(token):
        return None
    return token


async def authenticate(connection: ASGIConnection) -> Principal:
    """The principal of the request's token; 401 for a missing, malformed, unknown, revoked
    or expired token and for a deactivated user (one answer for all: nothing to probe)."""
    token = bearer_token(connection)
    principal = await token_principal(token_hash(token)) if token else None
    if principal is None:
        raise NotAuthorizedException(N_("Токен не указан, неверен, отозван или истёк"),
                                     headers=CHALLENGE)
    connection.scope["api_principal"] = principal
    i18n.current_locale.set(i18n.pick_locale(principal.locale))
    return principal


async def requires_api_token(connection: ASGIConnection, _: BaseRouteHandler) -> None:
    await authenticate(connection)


async def requires_submit_scope(connection: ASGIConnection, _: BaseRouteHandler) -> None:
    """403 for a `read` token on a route that writes (runs after requires_api_token)."""
    principal: Principal = connection.scope["api_principal"]
    if principal.scope != ApiScope.submit:
        raise PermissionDeniedException(N_("Токен выдан только для чтения"))


def principal_of(request: Request) -> Principal:
    """The dependency handlers take as `principal` (declared as ApiPrincipal)."""
    return request.scope["api_principal"]


# A handler's `principal: ApiPrincipal` is the router's "principal" dependency, declared (an
# inferred one is deprecated in Litestar 2.23 and gone in 3.0).
ApiPrincipal: TypeAlias = NamedDependency[Principal]


def rate_limit_identity(request: Request) -> str:
    """Per token for the rate limiter (a hash of the header: no token is a Redis key);
    requests without a well-formed token share their client address's bucket."""
    token = bearer_token(request)
    if token:
        return "token:" + token_hash(token)
    return "addr:" + (request.client.host if request.client else "unknown")
