"""Sessions, the current user middleware, guards, password hashing and security headers."""

from __future__ import annotations

import hashlib
import logging
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from litestar import Request
from litestar.connection import ASGIConnection
from litestar.datastructures import MutableScopeHeaders
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers import BaseRouteHandler
from litestar.middleware.session.server_side import (
    ServerSideSessionBackend,
    ServerSideSessionConfig,
)
from litestar.types import ASGIApp, Empty, Message, Receive, Scope, ScopeSession, Send
from redis.exceptions import RedisError

from app import i18n
from app.queries.users import CurrentUser, load_current_user

__all__ = ["CurrentUser", "load_current_user"]  # the request's user, loaded by the middleware

log = logging.getLogger("app.security")

_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(stored_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


# A valid hash to verify against when the e-mail is unknown, so timing does not reveal it.
DUMMY_HASH = _hasher.hash("not-a-real-password-0")


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# ---------------------------------------------------------------- sessions


class PortalSessionBackend(ServerSideSessionBackend):
    """Litestar's Redis-backed server-side sessions, with two changes.

    - Nothing is written for a visitor with an empty session (no Redis write per anonymous
      GET) nor for a request that left the session unchanged.
    - `rotate_session(request)` makes the response carry a fresh session id and deletes the
      old one (at login, against session fixation).
    """

    async def load_from_connection(self, connection: ASGIConnection) -> dict[str, Any]:
        try:
            data = await super().load_from_connection(connection)
        except (RedisError, OSError) as exc:
            # Redis is down: the visitor is seen as anonymous, so pages that need no session
            # still render; pages that do send them to the login block, whose POST answers 503.
            log.warning("session store unavailable: %s", exc)
            connection.scope["_session_unavailable"] = True
            return {}
        connection.scope["_session_loaded"] = self.serialize_data(data) if data else None
        return data

    def get_session_id(self, connection: ASGIConnection) -> str:
        return connection.scope.get("_session_new_id") or super().get_session_id(connection)

    async def store_in_message(
        self, scope_session: ScopeSession, message: Message, connection: ASGIConnection
    ) -> None:
        scope = connection.scope
        if scope.get("_session_unavailable"):
            return  # neither write nor delete: keep the cookie for when Redis is back
        old_id = connection.cookies.get(self.config.key)
        if old_id == "null":
            old_id = None
        rotate = scope.get("_session_rotate", False)
        if scope_session is Empty or not scope_session:
            if old_id:
                await super().store_in_message(Empty, message, connection)
            return
        if rotate:
            store = self.config.get_store_from_app(scope["app"])
            if old_id:
                await self.delete(old_id, store=store)
            scope["_session_new_id"] = self.generate_session_id()
        elif old_id and self.serialize_data(scope_session) == scope.get("_session_loaded"):
            return
        await super().store_in_message(scope_session, message, connection)


class PortalSessionConfig(ServerSideSessionConfig):
    _backend_class = PortalSessionBackend


def rotate_session(request: Request) -> None:
    request.scope["_session_rotate"] = True


def start_session(request: Request, user_id: int, generation: int) -> None:
    """Log this request's client in as the user: a fresh session id (against fixation) that
    remembers the user's session generation, so bumping it ends the session."""
    request.clear_session()
    request.set_session({"uid": user_id, "gen": generation})
    rotate_session(request)


# ---------------------------------------------------------------- current user


class CurrentUserMiddleware:
    """Loads the logged-in user (one query) and sets the request's locale."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        session = scope.get("session") or {}
        user = None
        if uid := session.get("uid") if isinstance(session, dict) else None:
            user = await load_current_user(uid)
            if user is not None and session.get("gen", 0) != user.session_generation:
                # Password changed or «Выйти на всех устройствах» since this session began.
                user = None
            if user is None:
                scope["session"] = Empty
        scope["user"] = user  # what request.user / connection.user return
        lang_cookie = ASGIConnection(scope).cookies.get("lang")
        locale = i18n.pick_locale(user.locale if user else None, lang_cookie)
        token = i18n.current_locale.set(locale)
        try:
            await self.app(scope, receive, send)
        finally:
            i18n.current_locale.reset(token)


# Guards are coroutines on purpose: Litestar runs a plain-function guard in a worker thread
# (AsyncCallable) on every request, and would hand out that wrapper instead of the function.
async def requires_login(connection: ASGIConnection, _: BaseRouteHandler) -> None:
    if connection.user is None:
        raise NotAuthorizedException()


async def requires_operator(connection: ASGIConnection, _: BaseRouteHandler) -> None:
    user = connection.user
    if user is None:
        raise NotAuthorizedException()
    if not user.is_operator:
        raise PermissionDeniedException()


# ---------------------------------------------------------------- headers

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'self'; "
    "object-src 'none'"
)
SECURITY_HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
    (b"x-content-type-options", b"nosniff"),
]


async def add_security_headers(message: Message, scope: Scope) -> None:
    """A before_send hook: it sees every response of the app, including the 404/405 answered
    by the router before any middleware runs (a middleware missed those)."""
    if message["type"] == "http.response.start":
        headers = MutableScopeHeaders.from_message(message)
        for key, value in SECURITY_HEADERS:
            headers[key.decode()] = value.decode()
