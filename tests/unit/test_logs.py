"""LOG_FORMAT=json: one JSON object per record, the request id from the context, and no
secret from an exception's frames (structlog's tracebacks would show local variables)."""

from __future__ import annotations

import io
import json
import logging

import pytest
import structlog

from app.logs import formatter


@pytest.fixture
def json_logger(monkeypatch):
    monkeypatch.setenv("LOG_FORMAT", "json")
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter())
    logger = logging.getLogger("test.logs")
    logger.handlers[:] = [handler]
    logger.propagate = False
    logger.setLevel(logging.INFO)
    yield logger, stream
    logger.handlers[:] = []


def failing_reset(token: str, session_id: str) -> None:
    password = "hunter2-secret"  # noqa: F841 - a local an exception's frame would carry
    raise RuntimeError("database unavailable")


@pytest.mark.parametrize(("extra", "hidden"), [
    # why: a structured key naming a secret is blanked, whatever logs it
    ({"password": "p4ss-w0rd"}, "p4ss-w0rd"),
    ({"csrf_token": "tok-123"}, "tok-123"),
    ({"session_id": "sid-abc"}, "sid-abc"),
    ({"authorization": "Bearer xyz"}, "Bearer xyz"),
])
def test_keys_naming_secrets_are_blanked(json_logger, extra, hidden):
    logger, stream = json_logger
    logger.info("something", extra=extra)
    line = stream.getvalue().strip()
    assert hidden not in line
    assert "[redacted]" in line


def test_one_object_per_line_with_request_id_and_no_frame_locals(json_logger):
    logger, stream = json_logger
    tokens = structlog.contextvars.bind_contextvars(request_id="rid-7")
    try:
        logger.info("first")
        try:
            failing_reset("RESET-TOKEN-42", "SESSION-ID-99")
        except RuntimeError:
            logger.exception("unhandled error on %s %s", "GET", "/password/reset/{token}")
    finally:
        structlog.contextvars.reset_contextvars(**tokens)
    lines = stream.getvalue().strip().splitlines()
    assert len(lines) == 2
    first, failed = (json.loads(line) for line in lines)
    assert first["event"] == "first" and first["request_id"] == "rid-7"
    assert first["level"] == "info" and first["logger"] == "test.logs" and "time" in first
    assert failed["event"] == "unhandled error on GET /password/reset/{token}"
    assert failed["exception"][0]["exc_type"] == "RuntimeError"
    assert failed["exception"][0]["frames"]  # where it happened is kept
    for secret in ("RESET-TOKEN-42", "SESSION-ID-99", "hunter2-secret"):
        assert secret not in stream.getvalue()
