"""Error pages: 404/403/500/503 in the site's layout, never a stack trace."""

from __future__ import annotations

import asyncio
import logging

import asyncpg
from litestar import Request, Response
from litestar.exceptions import HTTPException
from redis.exceptions import RedisError

from app.i18n import current_locale, pick_locale
from app.i18n import gettext as _
from app.render import render

log = logging.getLogger("app")

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
    if "user" not in request.scope:
        # The router refused the path before our middleware ran (unknown URL, wrong
        # method): at least answer in the visitor's language.
        token = current_locale.set(pick_locale(request.cookies.get("lang")))
        try:
            return _error_page(request, exc)
        finally:
            current_locale.reset(token)
    return _error_page(request, exc)


def _route(request: Request) -> str:
    """The route template, never the raw path: paths carry tokens (/password/reset/…)."""
    return request.scope.get("path_template") or "(no route)"


def _error_page(request: Request, exc: Exception) -> Response:
    if isinstance(exc, HTTPException):
        status = exc.status_code
    elif isinstance(exc, UNAVAILABLE):
        status = 503
        log.error("service unavailable on %s %s: %r", request.method, _route(request), exc)
    else:
        status = 500
        log.exception("unhandled error on %s %s", request.method, _route(request), exc_info=exc)
    titles = {
        400: _("Неверный запрос"),
        403: _("Доступ запрещён"),
        404: _("Страница не найдена"),
        413: _("Запрос слишком велик: файл должен быть не больше 5 МБ"),
        500: _("Что-то пошло не так"),
        503: _("Сервис временно недоступен"),
    }
    title = titles.get(status) or (exc.detail if isinstance(exc, HTTPException) else titles[500])
    try:
        return render(request, "errors.html", {"status": status, "title": title},
                      fragment="content", status=status)
    except Exception:  # the database may be the thing that is down
        log.exception("error page failed")
        return Response(
            f"<!doctype html><title>{status}</title><h1>{status}</h1>",
            media_type="text/html",
            status_code=status,
        )
