"""The Litestar application factory."""

from __future__ import annotations

from urllib.parse import urlencode, urlsplit

from litestar import Litestar, Request, Response
from litestar.config.allowed_hosts import AllowedHostsConfig
from litestar.datastructures import State
from litestar.exceptions import (
    HTTPException,
    NotAuthorizedException,
    NotFoundException,
    PermissionDeniedException,
    ValidationException,
)
from litestar.middleware import DefineMiddleware
from litestar.plugins.htmx import ClientRedirect, HTMXPlugin, HTMXRequest
from litestar.plugins.problem_details import ProblemDetailsPlugin
from litestar.plugins.prometheus import PrometheusConfig
from litestar.response import Redirect
from litestar.router import Router
from litestar.static_files import create_static_files_router
from litestar.stores.redis import RedisStore
from redis.asyncio import Redis

from app import db
from app.controllers._forms import next_after_login
from app.errors import error_page
from app.logs import RequestIdMiddleware, add_request_id, litestar_logging_config
from app.metrics import forget_dead_processes
from app.security import (
    SESSION_IDLE_SECONDS,
    CurrentUserMiddleware,
    PortalCSRFMiddleware,
    PortalSessionConfig,
    RefuseControlCharacters,
    csrf_config,
    query_ids_in_range,
    security_headers,
)
from app.settings import ROOT, Settings, get_settings
from app.utility import load_utility


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


def _for_api_too(page_handler):
    """An app-level handler that answers under /api/v1 with problem details: the router
    refuses a path (a non-integer id, a wrong method) before the API's own handlers apply."""
    from app.api.docs import API_PATH
    from app.api.problems import api_problem

    def handler(request: Request, exc: Exception) -> Response:
        if request.url.path == API_PATH or request.url.path.startswith(API_PATH + "/"):
            return api_problem(request, exc)
        return page_handler(request, exc)

    return handler


def invalid_parameter(request: Request, exc: ValidationException) -> Response:
    """A typed path/query parameter that fails its type or bounds (an id ≥ 2³¹, "abc") names
    nothing that exists: 404, like an id of another organization. Anything else: 400."""
    extra = exc.extra if isinstance(exc.extra, list) else []
    if extra and all(isinstance(e, dict) and e.get("source") in ("path", "query")
                     for e in extra):
        return error_page(request, NotFoundException())
    return error_page(request, exc)


def allowed_hosts(settings: Settings) -> AllowedHostsConfig | None:
    """Production (BASE_URL set): only BASE_URL's host, with or without its port, may be
    the Host of a request; anything else is refused (400) before the app sees it."""
    if not settings.base_url:
        return None
    parts = urlsplit(settings.base_url)
    hosts = {parts.hostname or "", parts.netloc.rsplit("@", 1)[-1]} - {""}
    # The probes are asked by address on the machine itself (load balancer, systemd), not
    # by the public name; they serve no links and /metrics has its own guard.
    return AllowedHostsConfig(allowed_hosts=sorted(hosts),
                              exclude=["/healthz", "/readyz", "/metrics"])


def create_app(settings: Settings | None = None, *, manage_pool: bool = True,
               pool_size: int = 10) -> Litestar:
    """The app for `settings` (default: from the environment). `manage_pool=False` when the
    caller owns the database pool (the in-process test client shares the test session's)."""
    settings = settings or get_settings()
    utility = load_utility(settings.utility_file)  # a broken file stops the start
    from app.api.docs import API_PATH, openapi_config
    from app.api.routes import RATE_LIMIT_STORE, api_router, docs_router
    from app.controllers import route_handlers
    from app.controllers.grid_files import UPLOAD_FORM_PARTS
    from app.controllers.ops import ops_handlers

    redis = Redis.from_url(settings.redis_url or "redis://127.0.0.1:6379/0")
    session_store = RedisStore(redis=redis, namespace="session", handle_client_shutdown=False)
    secure = settings.https

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

    # the API authenticates by bearer token: no cookie to forge
    csrf = csrf_config(settings.secret_key, secure, exclude=[API_PATH])
    session = PortalSessionConfig(
        store="sessions",
        key="sid",
        max_age=SESSION_IDLE_SECONDS,
        httponly=True,
        secure=secure,
        samesite="lax",
        renew_on_access=True,
        exclude=[API_PATH],  # the API has no session
    )
    handlers = [
        # The hypermedia routes stay out of the OpenAPI document: it describes /api/v1 only.
        Router(path="/", route_handlers=[*route_handlers(), *ops_handlers()],
               include_in_schema=False),
        api_router(settings),
        create_static_files_router(path="/static", directories=[ROOT / "static"], name="static",
                                   include_in_schema=False),
    ]
    return Litestar(
        route_handlers=handlers,
        on_startup=[on_startup],
        on_shutdown=[on_shutdown],
        state=State({"settings": settings, "csrf_config": csrf, "utility": utility}),
        stores={"sessions": session_store,
                RATE_LIMIT_STORE: RedisStore(redis=redis, namespace="api-rate",
                                             handle_client_shutdown=False)},
        # Litestar's CSRF middleware, as its csrf_config would install it (innermost), in
        # the subclass that refuses non-ASCII tokens instead of raising on them.
        middleware=[
            DefineMiddleware(RequestIdMiddleware),
            # Request count and latency per route template (group_path), not per raw path:
            # /calendar/{name:str} is one series however many feeds exist.
            PrometheusConfig(app_name="portal", prefix="portal_http", group_path=True,
                             exclude_opt_key="skip_metrics").middleware,
            DefineMiddleware(RefuseControlCharacters),
            session.middleware,
            DefineMiddleware(CurrentUserMiddleware),
            DefineMiddleware(PortalCSRFMiddleware, config=csrf),
        ],
        guards=[query_ids_in_range],
        allowed_hosts=allowed_hosts(settings),
        before_send=[security_headers(secure), add_request_id],
        plugins=[HTMXPlugin(), ProblemDetailsPlugin()],
        multipart_form_part_limit=UPLOAD_FORM_PARTS,
        request_class=HTMXRequest,
        exception_handlers={
            NotAuthorizedException: _for_api_too(login_redirect),
            PermissionDeniedException: _for_api_too(error_page),
            NotFoundException: _for_api_too(error_page),
            ValidationException: _for_api_too(invalid_parameter),
            HTTPException: _for_api_too(error_page),
            Exception: _for_api_too(error_page),
        },
        logging_config=litestar_logging_config(),  # LOG_FORMAT=json: app/logs.py
        # The OpenAPI document of the API alone, at /api/v1/openapi.json, and its docs page
        # /api/v1/docs from vendored assets (no CDN, no inline script).
        openapi_config=openapi_config(docs_router()),
        debug=False,
    )
