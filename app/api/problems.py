"""RFC 9457 problem details for every error of /api/v1 (Litestar's ProblemDetailsException
renders them as application/problem+json): 401/403/404/409/413/415/422/429, and a 500/503
that says nothing of the cause."""

from __future__ import annotations

import logging
import re
from typing import Any

from litestar import Request, Response
from litestar.exceptions import (
    HTTPException,
    NotAuthorizedException,
    NotFoundException,
    PermissionDeniedException,
    TooManyRequestsException,
    ValidationException,
)
from litestar.openapi import ResponseSpec
from litestar.plugins.problem_details import ProblemDetailsException

from app.api.schemas import ProblemDetails
from app.domain import N_
from app.i18n import gettext as _

log = logging.getLogger("app.api")

_AT_RE = re.compile(r"at `(\$[^`]*)`")
TITLES = {
    400: N_("Неверный запрос"),
    401: N_("Нужен действующий токен API"),
    403: N_("Недостаточно прав"),
    404: N_("Не найдено"),
    405: N_("Метод не поддерживается"),
    409: N_("Конфликт"),
    413: N_("Запрос слишком велик"),
    415: N_("Тело запроса должно быть JSON (Content-Type: application/json)"),
    422: N_("Запрос не прошёл проверку"),
    429: N_("Слишком много запросов"),
    500: N_("Внутренняя ошибка"),
    503: N_("Сервис временно недоступен"),
}

# Documented on every API operation, so the OpenAPI document names every answer it can get.
PROBLEMS = {
    status: ResponseSpec(data_container=ProblemDetails, description=TITLES[status],
                         media_type="application/problem+json", generate_examples=False)
    for status in (401, 403, 404, 413, 415, 422, 429)
}
CONFLICT = ResponseSpec(data_container=ProblemDetails, description=TITLES[409],
                        media_type="application/problem+json", generate_examples=False)


def problem(status: int, detail: str | None = None, headers: dict[str, str] | None = None,
            **extra: Any) -> ProblemDetailsException:
    """A problem of this status with the standard title (translated) and optional detail."""
    return ProblemDetailsException(
        status_code=status, title=_(TITLES.get(status, TITLES[400])), detail=detail or "",
        headers=headers, extra=extra or None, type_="about:blank")


def _errors(exc: HTTPException) -> list[dict[str, str]]:
    """[{"field", "message"}] from Litestar's validation details, else from msgspec's
    "… - at `$.items[0].value`" in the message."""
    found = []
    if not isinstance(exc.extra, list) and (m := _AT_RE.search(str(exc.detail))):
        return [{"field": m.group(1).lstrip("$.") or "body", "message": str(exc.detail)}]
    for item in exc.extra if isinstance(exc.extra, list) else []:
        if isinstance(item, dict):
            found.append({"field": str(item.get("key") or "body"),
                          "message": str(item.get("message") or "")})
    return found


def api_problem(request: Request, exc: Exception) -> Response:
    """Every exception raised under /api/v1, as problem details."""
    if isinstance(exc, ProblemDetailsException):
        return exc.to_response(request)
    if isinstance(exc, ValidationException) or (
            isinstance(exc, HTTPException) and exc.status_code == 400):
        # Litestar says 400 for a body it cannot decode or validate; SPEC §8 says 422, with
        # the field.
        errors = _errors(exc) or [{"field": "body", "message": str(exc.detail)}]
        return problem(422, str(exc.detail), errors=errors).to_response(request)
    if isinstance(exc, TooManyRequestsException):
        headers = dict(exc.headers or {})
        headers["Retry-After"] = str(max(1, int(headers.get("RateLimit-Reset", "1") or 1)))
        return problem(429, _("Превышен лимит запросов для токена; повторите позже"),
                       headers).to_response(request)
    if isinstance(exc, HTTPException):
        detail = exc.detail if exc.detail != TITLES.get(exc.status_code) else None
        headers = dict(exc.headers or {})
        if isinstance(exc, NotAuthorizedException):
            headers.setdefault("WWW-Authenticate", 'Bearer realm="api"')
        return problem(exc.status_code, _(detail) if detail else None,
                       headers or None).to_response(request)
    from app.errors import UNAVAILABLE  # the web layer's list of "a service is down"

    if isinstance(exc, UNAVAILABLE):
        log.error("service unavailable on %s %s: %r", request.method, request.url.path, exc)
        return problem(503).to_response(request)
    log.exception("unhandled API error on %s %s", request.method, request.url.path,
                  exc_info=exc)
    return problem(500).to_response(request)


# Every class the app maps to HTML pages (app.web) is mapped here again: Litestar picks the
# most specific class first, whichever layer registered it.
EXCEPTION_HANDLERS = {
    cls: api_problem
    for cls in (HTTPException, NotAuthorizedException, PermissionDeniedException,
                NotFoundException, ValidationException, TooManyRequestsException,
                ProblemDetailsException, Exception)
}
