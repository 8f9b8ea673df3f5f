"""Logging of every process: text (default) or LOG_FORMAT=json, and the request id.

structlog rather than a hand-written JSON formatter: every library here (uvicorn, Litestar,
arq, asyncpg) logs through the standard library, and structlog's ProcessorFormatter renders
those stdlib records as JSON, with `structlog.contextvars` carrying the request id into every
record emitted while the request's task runs (our own, Litestar's, a library's) — the two
things a JSON formatter would otherwise need written and kept by hand.

Nothing secret is logged: access lines carry the route template (`/password/reset/{token:str}`),
never the raw path or query string; no handler logs a form, a cookie or a header; and a
last processor blanks any key that names a secret (`password`, `token`, `cookie`, …) should
one ever be passed as structured data.
"""

from __future__ import annotations

import logging
import os
import re
import sys
import time
import uuid
from typing import Any

import structlog
import structlog.tracebacks
from litestar.types import Message, Receive, Scope, Send

from app.http_middleware import HttpMiddleware

REQUEST_ID_HEADER = "x-request-id"
# A client's (or nginx's $request_id) id is kept only when it cannot forge a log line.
_VALID_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
_SECRET_KEYS = re.compile(r"pass|token|secret|cookie|session|sid|authorization|csrf", re.I)
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

access_log = logging.getLogger("app.access")


def json_logs() -> bool:
    return os.environ.get("LOG_FORMAT", "text").strip().lower() == "json"


def _redact(_: Any, __: str, event: dict[str, Any]) -> dict[str, Any]:
    event.pop("color_message", None)  # uvicorn's copy of the message with terminal colours
    for key in event:
        if key not in ("event", "logger", "level") and _SECRET_KEYS.search(key):
            event[key] = "[redacted]"
    return event


def formatter() -> logging.Formatter:
    """The one formatter of every handler (dictConfig factory: `{"()": "app.logs.formatter"}`)."""
    if not json_logs():
        return logging.Formatter(TEXT_FORMAT)
    return structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[
            structlog.contextvars.merge_contextvars,
            structlog.stdlib.add_log_level,
            structlog.stdlib.add_logger_name,
            structlog.stdlib.ExtraAdder(),
            structlog.processors.TimeStamper(fmt="iso", utc=True, key="time"),
        ],
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            _redact,
            # Tracebacks as structured frames WITHOUT their local variables: locals hold the
            # request's path, tokens, CSRF token and session id (dict_tracebacks shows them).
            structlog.processors.ExceptionRenderer(
                structlog.tracebacks.ExceptionDictTransformer(show_locals=False)),
            structlog.processors.JSONRenderer(ensure_ascii=False),
        ],
    )


def configure_logging(level: int = logging.INFO) -> None:
    """Root logger to stderr in the chosen format; uvicorn's and arq's loggers propagate to it
    (used by the CLI and the worker; the web app's LoggingConfig uses the same formatter)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access", "arq", "litestar"):
        logger = logging.getLogger(name)
        logger.handlers[:] = []
        logger.propagate = True


def litestar_logging_config():
    """Litestar's LoggingConfig (it runs dictConfig when the app is built) with our formatter."""
    from litestar.logging.config import LoggingConfig

    return LoggingConfig(
        formatters={"standard": {"()": "app.logs.formatter"}},
        root={"level": "INFO", "handlers": ["queue_listener"]},
        loggers={"litestar": {"level": "INFO", "handlers": ["queue_listener"],
                              "propagate": False}},
        # error_page logs real 500s itself; 401/404 are not errors worth a traceback.
        log_exceptions="never",
    )


# ---------------------------------------------------------------- request id


def request_id_of(scope: Scope) -> str:
    """The request's id: set once per request from X-Request-ID when well-formed, else new."""
    rid = scope.get("request_id")
    if rid is None:
        rid = None
        for name, value in scope.get("headers") or ():
            if name == b"x-request-id":
                candidate = value.decode("latin-1")
                if _VALID_ID.fullmatch(candidate):
                    rid = candidate
                break
        rid = rid or uuid.uuid4().hex
        scope["request_id"] = rid
    return rid


class RequestIdMiddleware(HttpMiddleware):
    """Binds the request id to every log record of the request, returns it as X-Request-ID
    (the before_send hook `add_request_id` covers the router's own 404/405 too) and writes one
    access line: method, route template, status, duration."""

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        rid = request_id_of(scope)
        tokens = structlog.contextvars.bind_contextvars(request_id=rid)
        status = 500
        start = time.perf_counter()

        async def remember_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, remember_status)
        finally:
            access_log.info(
                "%s %s %s %.1f ms", scope["method"], scope.get("path_template", "?"), status,
                (time.perf_counter() - start) * 1000,
                extra={"method": scope["method"], "route": scope.get("path_template"),
                       "status": status,
                       "duration_ms": round((time.perf_counter() - start) * 1000, 1)})
            structlog.contextvars.reset_contextvars(**tokens)


async def add_request_id(message: Message, scope: Scope) -> None:
    """before_send: every response carries X-Request-ID."""
    if message["type"] == "http.response.start":
        headers = list(message.get("headers") or [])
        headers.append((b"x-request-id", request_id_of(scope).encode()))
        message["headers"] = headers
