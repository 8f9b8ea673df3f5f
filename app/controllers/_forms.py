"""Small helpers shared by form handlers."""

from __future__ import annotations

import re

from litestar import Request, Response
from litestar.plugins.htmx import ClientRedirect
from litestar.response import Redirect

EMAIL_RE = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")


def clean_text(value: str | None, max_length: int = 500) -> str:
    """Trim, drop control characters (NUL, bidi overrides) and cap the length."""
    value = (value or "").strip()
    value = "".join(ch for ch in value if ch.isprintable() or ch == " ")
    return value[:max_length]


def redirect(request: Request, url: str) -> Response:
    """A redirect that works for plain forms (303) and for htmx (HX-Redirect)."""
    return ClientRedirect(url) if request.htmx else Redirect(url, status_code=303)


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def safe_next(url: str | None, default: str = "/") -> str:
    if url and url.startswith("/") and not url.startswith("//") and "\\" not in url:
        return url
    return default
