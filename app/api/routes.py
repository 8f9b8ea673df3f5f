"""The /api/v1 router: token guard, per-token rate limit, body size limit, problem details,
and the OpenAPI document with its docs page (the hypermedia routes are left out of it)."""

from __future__ import annotations

from litestar import Request, Response, Router
from litestar.di import Provide
from litestar.exceptions import HTTPException
from litestar.middleware.rate_limit import RateLimitConfig

from app.api.auth import principal_of, rate_limit_identity, requires_api_token
from app.api.contracts import ContractsApi
from app.api.docs import API_PATH
from app.api.problems import EXCEPTION_HANDLERS, TITLES, api_problem, problem
from app.api.readings import ReadingsApi
from app.settings import Settings

MAX_BODY = 1_000_000  # 1 000 items of ~150 bytes fit with room; more is refused with 413
RATE_LIMIT_STORE = "api_rate_limit"

async def json_only(request: Request) -> None:
    """415 for a body that is not JSON (a form, text, …): before Litestar tries to parse it."""
    if request.method == "POST":
        media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if media_type != "application/json" and not media_type.endswith("+json"):
            raise HTTPException(status_code=415, detail=TITLES[415])


def rate_limit(per_minute: int) -> RateLimitConfig:
    """Per token (Litestar's limiter keyed by the token's hash), counted in Redis."""
    return RateLimitConfig(rate_limit=("minute", per_minute),
                           identifier_for_request=rate_limit_identity, store=RATE_LIMIT_STORE)


def api_router(settings: Settings) -> Router:
    return Router(
        path=API_PATH,
        route_handlers=[ContractsApi, ReadingsApi],
        guards=[requires_api_token],
        dependencies={"principal": Provide(principal_of, sync_to_thread=False)},
        middleware=[rate_limit(settings.api_rate_limit).middleware],
        exception_handlers=EXCEPTION_HANDLERS,
        before_request=json_only,
        request_max_body_size=MAX_BODY,
        include_in_schema=True,
    )


def docs_router() -> Router:
    """Serves /api/v1/openapi.json and /api/v1/docs (public: the document names no data)."""

    async def problem_not_html(response: Response) -> Response:
        # Litestar's schema router answers an unknown GET /api/v1/<x> with an HTML page.
        if response.status_code == 404 and response.media_type != "application/json":
            return problem(404).to_response(None)  # type: ignore[arg-type]
        return response

    return Router(path=API_PATH, route_handlers=[], include_in_schema=False,
                  exception_handlers=EXCEPTION_HANDLERS, after_request=problem_not_html)


__all__ = ["api_router", "docs_router", "api_problem"]
