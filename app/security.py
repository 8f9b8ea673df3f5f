"""Sessions, the current user middleware, guards, password hashing and security headers."""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import time
from typing import Any
from urllib.parse import unquote_to_bytes

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from litestar import Request
from litestar.config.csrf import CSRFConfig
from litestar.connection import ASGIConnection
from litestar.datastructures import Cookie, MutableScopeHeaders
from litestar.exceptions import (
    ClientException,
    NotAuthorizedException,
    NotFoundException,
    PermissionDeniedException,
)
from litestar.handlers import BaseRouteHandler
from litestar.middleware.csrf import CSRF_SECRET_LENGTH, CSRFMiddleware, generate_csrf_token
from litestar.middleware.session.server_side import (
    ServerSideSessionBackend,
    ServerSideSessionConfig,
)
from litestar.types import Empty, Message, Receive, Scope, ScopeSession, Send
from redis.exceptions import RedisError

from app import i18n
from app.domain.ids import parse_db_id
from app.http_middleware import HttpMiddleware
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


SESSION_IDLE_SECONDS = 8 * 3600  # the cookie's Max-Age and the store's TTL, renewed on use
SESSION_ABSOLUTE_SECONDS = 24 * 3600  # from login, however active: a working day and a night
_clock = time.time  # the absolute lifetime's clock (a test moves it)


class PortalSessionBackend(ServerSideSessionBackend):
    """Litestar's Redis-backed server-side sessions, with three changes.

    - Nothing is written for a visitor with an empty session (no Redis write per anonymous
      GET) nor for a request that left the session unchanged.
    - `rotate_session(request)` makes the response carry a fresh session id and deletes the
      old one (at login, against session fixation).
    - An ended session's cookie goes out with Max-Age=0 (Litestar sends `expires=0` beside
      the configured Max-Age, and Max-Age wins in browsers: the dead cookie stayed 8 h).
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
                await self.delete(old_id, store=self.config.get_store_from_app(scope["app"]))
                MutableScopeHeaders.from_message(message).add("Set-Cookie", Cookie(
                    key=self.config.key, value="", max_age=0, expires=0,
                    path=self.config.path, httponly=self.config.httponly,
                    secure=self.config.secure, samesite=self.config.samesite,
                ).to_header(header=""))
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
    request.set_session({"uid": user_id, "gen": generation, "iat": int(_clock())})
    rotate_session(request)


def session_expired(session: dict) -> bool:
    """Older than the absolute lifetime (a session without its login time counts as old)."""
    issued = session.get("iat")
    return not isinstance(issued, int) or _clock() - issued > SESSION_ABSOLUTE_SECONDS


# ---------------------------------------------------------------- current user


class CurrentUserMiddleware(HttpMiddleware):
    """Loads the logged-in user (one query) and sets the request's locale."""

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        session = scope.get("session") or {}
        user = None
        if uid := session.get("uid") if isinstance(session, dict) else None:
            user = None if session_expired(session) else await load_current_user(uid)
            if user is not None and session.get("gen", 0) != user.session_generation:
                # Password changed or reset, or «Выйти на всех устройствах», since this
                # session began.
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


# Query parameters that carry a database id: bounded before any handler reads them.
ID_QUERY_PARAMS = ("contract", "point", "meter")


async def query_ids_in_range(connection: ASGIConnection, _: BaseRouteHandler) -> None:
    """App-wide guard: a query id that cannot name a row (not digits, 0, ≥ 2³¹) is a 404
    before any query sees it. An empty value means "none chosen" (the archive's «все»)."""
    params = connection.query_params
    for name in ID_QUERY_PARAMS:
        for raw in params.getall(name, ()):
            if raw and parse_db_id(raw) is None:
                raise NotFoundException()


# ---------------------------------------------------------------- request parameters

# C0 controls, DEL and C1 controls: never part of a path segment or a query value we serve.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def has_control_characters(scope: Scope) -> bool:
    path = scope.get("path", "")
    if _CONTROL.search(path):
        return True
    query = scope.get("query_string", b"")
    if not query:
        return False
    raw = unquote_to_bytes(query.replace(b"+", b" "))
    return bool(_CONTROL.search(raw.decode("utf-8", "replace")))


MAX_SEGMENT = 255  # no route has a longer path segment; the file system refuses one (ENAMETOOLONG)


def has_overlong_segment(scope: Scope) -> bool:
    return any(len(part) > MAX_SEGMENT for part in scope.get("path", "").split("/"))


class RefuseControlCharacters(HttpMiddleware):
    """NUL and other control characters in the path or the query string: 400, before any
    session, parser or query sees them (a NUL reached the file system and asyncpg). A path
    segment longer than any name we serve: 404 (the static files' open() raised on it)."""

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        if has_control_characters(scope):
            raise ClientException("control character in the request's parameters")
        if has_overlong_segment(scope):
            raise NotFoundException()
        await self.app(scope, receive, send)


# ---------------------------------------------------------------- CSRF

CSRF_COOKIE = "csrftoken"


class PortalCSRFMiddleware(CSRFMiddleware):
    """Litestar's CSRF middleware (double-submit cookie, HMAC-signed token) with one fix:
    a token or cookie that is not ASCII is refused (403) before it is compared. Litestar
    2.25 hands it to `hmac.compare_digest`, which raises TypeError on a non-ASCII str (500)."""

    def _csrf_tokens_match(self, request_csrf_token: str, cookie_csrf_token: str) -> bool:
        if not (request_csrf_token.isascii() and cookie_csrf_token.isascii()):
            return False
        return super()._csrf_tokens_match(request_csrf_token, cookie_csrf_token)


def csrf_config(secret: str, https: bool, exclude: list[str] | None = None) -> CSRFConfig:
    """HttpOnly: htmx and forms take the token from the page (hx-headers, _csrf_token)."""
    return CSRFConfig(secret=secret, cookie_name=CSRF_COOKIE, cookie_secure=https,
                      cookie_httponly=True, cookie_samesite="lax", header_name="x-csrftoken",
                      exclude=exclude)


def csrf_cookie(config: CSRFConfig, token: str) -> Cookie:
    return Cookie(key=config.cookie_name, value=token, path=config.cookie_path,
                  secure=config.cookie_secure, httponly=config.cookie_httponly,
                  samesite=config.cookie_samesite)


def valid_csrf_token(config: CSRFConfig, token: str | None) -> bool:
    """A token this app signed (ASCII, the secret's HMAC)."""
    if not token or not token.isascii() or len(token) <= CSRF_SECRET_LENGTH:
        return False
    secret, signature = token[:CSRF_SECRET_LENGTH], token[CSRF_SECRET_LENGTH:]
    expected = hmac.new(config.secret.encode(), secret.encode(), hashlib.sha256).hexdigest()
    return hmac.compare_digest(signature, expected)


def rotate_csrf_token(request: Request, response: Any) -> None:
    """A fresh CSRF token at login and logout: a token planted or read before the session
    changed hands is worthless after it."""
    config: CSRFConfig = request.app.state.csrf_config
    response.set_cookie(csrf_cookie(config, generate_csrf_token(config.secret)))


def page_csrf_token(request: Request) -> str:
    """The token a page embeds when the CSRF middleware did not run (router 404/405 pages):
    the visitor's cookie if this app signed it, else a new token that render() sets."""
    config: CSRFConfig | None = getattr(request.app.state, "csrf_config", None)
    if config is None:
        return ""
    cookie = request.cookies.get(config.cookie_name)
    if valid_csrf_token(config, cookie):
        return cookie
    token = request.scope.get("_csrf_new_token") or generate_csrf_token(config.secret)
    request.scope["_csrf_new_token"] = token
    return token


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


HSTS = "max-age=31536000; includeSubDomains"


def security_headers(https: bool):
    """A before_send hook: it sees every response of the app, including the 404/405 answered
    by the router before any middleware runs (a middleware missed those). Besides the fixed
    headers: HSTS when served over https, and `Cache-Control: no-store` on everything but
    the static files unless the handler chose its own (private pages must not be kept by a
    shared cache or shown again by the back button after logout)."""
    fixed = [*SECURITY_HEADERS, *([(b"strict-transport-security", HSTS.encode())]
                                  if https else [])]

    async def add_security_headers(message: Message, scope: Scope) -> None:
        if message["type"] == "http.response.start":
            headers = MutableScopeHeaders.from_message(message)
            for key, value in fixed:
                headers[key.decode()] = value.decode()
            if "cache-control" not in headers and not scope.get("path", "").startswith(
                    "/static/"):
                headers["cache-control"] = "no-store"

    return add_security_headers
