"""The Litestar application factory."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import asyncpg
from litestar import Litestar, Request, Response
from litestar.config.csrf import CSRFConfig
from litestar.exceptions import (
    HTTPException,
    NotAuthorizedException,
    NotFoundException,
    PermissionDeniedException,
)
from litestar.logging.config import LoggingConfig
from litestar.middleware import DefineMiddleware
from litestar.plugins.htmx import HTMXPlugin, HTMXRequest
from litestar.response import Redirect
from litestar.static_files import create_static_files_router
from litestar.stores.redis import RedisStore
from redis.asyncio import Redis
from redis.exceptions import RedisError

from app import db
from app.i18n import current_locale, pick_locale
from app.i18n import gettext as _
from app.render import is_fragment_request, render
from app.security import CurrentUserMiddleware, PortalSessionConfig, add_security_headers
from app.settings import ROOT, get_settings

log = logging.getLogger("app")


def login_redirect(request: Request, exc: Exception) -> Response:
    """Anonymous visitor on a page that needs login: back to the login block."""
    if request.headers.get("hx-request") == "true":
        return Response(b"", status_code=401, headers={"HX-Redirect": "/"})
    return Redirect("/", status_code=303)


# The database or Redis cannot be reached (stopped, restarting, network): answer 503.
UNAVAILABLE = (
    OSError,
    RedisError,
    asyncio.TimeoutError,
    asyncpg.exceptions.PostgresConnectionError,
    asyncpg.exceptions.OperatorInterventionError,
    asyncpg.exceptions.InterfaceError,
)


def error_page(request: Request, exc: Exception) -> Response:
    """404/403/500/503 in the site's layout; never a stack trace."""
    if "user" not in request.scope.get("state", {}):
        # The router refused the path before our middleware ran (unknown URL, wrong
        # method): at least answer in the visitor's language.
        token = current_locale.set(pick_locale(request.cookies.get("lang")))
        try:
            return _error_page(request, exc)
        finally:
            current_locale.reset(token)
    return _error_page(request, exc)


def _error_page(request: Request, exc: Exception) -> Response:
    if isinstance(exc, HTTPException):
        status = exc.status_code
    elif isinstance(exc, UNAVAILABLE):
        status = 503
        log.error("service unavailable on %s %s: %r", request.method, request.url.path, exc)
    else:
        status = 500
        log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    titles = {
        403: _("Доступ запрещён"),
        404: _("Страница не найдена"),
        500: _("Что-то пошло не так"),
        503: _("Сервис временно недоступен"),
    }
    title = titles.get(status) or (exc.detail if isinstance(exc, HTTPException) else titles[500])
    try:
        return render(
            request,
            "errors.html",
            {"status": status, "title": title},
            block="content" if is_fragment_request(request) else None,
            status=status,
        )
    except Exception:  # the database may be the thing that is down
        log.exception("error page failed")
        return Response(
            f"<!doctype html><title>{status}</title><h1>{status}</h1>",
            media_type="text/html",
            status_code=status,
        )


def create_app(**overrides: Any) -> Litestar:
    settings = get_settings()
    from app.controllers import route_handlers

    redis = Redis.from_url(settings.redis_url or "redis://127.0.0.1:6379/0")
    session_store = RedisStore(redis=redis, namespace="session", handle_client_shutdown=False)
    secure = (settings.base_url or "").startswith("https://")

    manage_pool = overrides.get("manage_pool", True)

    async def on_startup(app: Litestar) -> None:
        if manage_pool:
            await db.open_pool(max_size=int(overrides.get("pool_size", 10)))
        app.state.redis = redis
        from app.jobs import open_queue

        app.state.queue = await open_queue(settings.redis_url)

    async def on_shutdown(app: Litestar) -> None:
        if manage_pool:
            await db.close_pool()
        queue = getattr(app.state, "queue", None)
        if queue is not None:
            await queue.aclose()
        await redis.aclose()

    csrf = CSRFConfig(
        secret=settings.secret_key,
        cookie_name="csrftoken",
        cookie_secure=secure,
        cookie_samesite="lax",
        header_name="x-csrftoken",
    )
    session = PortalSessionConfig(
        store="sessions",
        key="sid",
        max_age=8 * 3600,
        httponly=True,
        secure=secure,
        samesite="lax",
        renew_on_access=True,
    )
    handlers = [
        *route_handlers(),
        create_static_files_router(path="/static", directories=[ROOT / "static"], name="static"),
    ]
    return Litestar(
        route_handlers=handlers,
        on_startup=[on_startup],
        on_shutdown=[on_shutdown],
        stores={"sessions": session_store},
        csrf_config=csrf,
        middleware=[
            session.middleware,
            DefineMiddleware(CurrentUserMiddleware),
        ],
        before_send=[add_security_headers],
        plugins=[HTMXPlugin()],
        request_class=HTMXRequest,
        exception_handlers={
            NotAuthorizedException: login_redirect,
            PermissionDeniedException: error_page,
            NotFoundException: error_page,
            HTTPException: error_page,
            Exception: error_page,
        },
        logging_config=LoggingConfig(
            root={"level": "INFO", "handlers": ["queue_listener"]},
            # error_page logs real 500s itself; 401/404 are not errors worth a traceback.
            log_exceptions="never",
        ),
        # No OpenAPI schema/Swagger pages: this is a hypermedia app, and /schema would publish
        # every route to anonymous visitors (and load the viewers' scripts from a CDN).
        openapi_config=None,
        debug=False,
    )
