"""The Litestar application factory."""

from __future__ import annotations

from urllib.parse import urlencode

from litestar import Litestar, Request, Response
from litestar.config.csrf import CSRFConfig
from litestar.datastructures import State
from litestar.exceptions import (
    HTTPException,
    NotAuthorizedException,
    NotFoundException,
    PermissionDeniedException,
)
from litestar.middleware import DefineMiddleware
from litestar.plugins.htmx import ClientRedirect, HTMXPlugin, HTMXRequest
from litestar.plugins.prometheus import PrometheusConfig
from litestar.response import Redirect
from litestar.static_files import create_static_files_router
from litestar.stores.redis import RedisStore
from redis.asyncio import Redis

from app import db
from app.controllers._forms import next_after_login
from app.errors import error_page
from app.logs import RequestIdMiddleware, add_request_id, litestar_logging_config
from app.metrics import forget_dead_processes
from app.security import CurrentUserMiddleware, PortalSessionConfig, add_security_headers
from app.settings import ROOT, Settings, get_settings


def login_redirect(request: Request, exc: Exception) -> Response:
    """Anonymous visitor (or an expired session) on a page that needs login: to the login
    block, which returns to that page after login (`?next=`, a local path only)."""
    target = next_after_login(request)
    login = "/?" + urlencode({"next": target}) if target else "/"
    if request.htmx:
        response = ClientRedirect(login)
        response.status_code = 401
        return response
    return Redirect(login, status_code=303)


def create_app(settings: Settings | None = None, *, manage_pool: bool = True,
               pool_size: int = 10) -> Litestar:
    """The app for `settings` (default: from the environment). `manage_pool=False` when the
    caller owns the database pool (the in-process test client shares the test session's)."""
    settings = settings or get_settings()
    from app.controllers import route_handlers
    from app.controllers.grid_files import UPLOAD_FORM_PARTS
    from app.controllers.ops import ops_handlers

    redis = Redis.from_url(settings.redis_url or "redis://127.0.0.1:6379/0")
    session_store = RedisStore(redis=redis, namespace="session", handle_client_shutdown=False)
    secure = (settings.base_url or "").startswith("https://")

    async def on_startup(app: Litestar) -> None:
        forget_dead_processes()
        if manage_pool:
            await db.open_pool(max_size=pool_size)
        app.state.redis = redis
        from app.queue import open_queue

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
        *ops_handlers(),
        create_static_files_router(path="/static", directories=[ROOT / "static"], name="static"),
    ]
    return Litestar(
        route_handlers=handlers,
        on_startup=[on_startup],
        on_shutdown=[on_shutdown],
        state=State({"settings": settings}),
        stores={"sessions": session_store},
        csrf_config=csrf,
        middleware=[
            DefineMiddleware(RequestIdMiddleware),
            # Request count and latency per route template (group_path), not per raw path:
            # /calendar/{name:str} is one series however many feeds exist.
            PrometheusConfig(app_name="portal", prefix="portal_http", group_path=True,
                             exclude_opt_key="skip_metrics").middleware,
            session.middleware,
            DefineMiddleware(CurrentUserMiddleware),
        ],
        before_send=[add_security_headers, add_request_id],
        plugins=[HTMXPlugin()],
        multipart_form_part_limit=UPLOAD_FORM_PARTS,
        request_class=HTMXRequest,
        exception_handlers={
            NotAuthorizedException: login_redirect,
            PermissionDeniedException: error_page,
            NotFoundException: error_page,
            HTTPException: error_page,
            Exception: error_page,
        },
        logging_config=litestar_logging_config(),  # LOG_FORMAT=json: app/logs.py
        # No OpenAPI schema/Swagger pages: this is a hypermedia app, and /schema would publish
        # every route to anonymous visitors (and load the viewers' scripts from a CDN).
        openapi_config=None,
        debug=False,
    )
