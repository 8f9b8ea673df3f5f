"""Small helpers shared by form handlers."""

from __future__ import annotations

import re

from litestar import Request, Response
from litestar.plugins.htmx import ClientRedirect
from litestar.response import Redirect

from app.domain.passwords import password_problems
from app.i18n import gettext as _

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


def password_errors(password: str, confirm: str) -> dict[str, str]:
    """A message per password field ("password", "password_confirm") by the password rule."""
    errors: dict[str, str] = {}
    for problem in password_problems(password, confirm):
        key = "password_confirm" if problem.code == "password_mismatch" else "password"
        errors.setdefault(key, problem.text(_))
    return errors


def base_url(request: Request) -> str:
    """The portal's absolute address for links in e-mails and feeds (BASE_URL, else the
    request's), without the trailing slash."""
    return (request.app.state.settings.base_url or str(request.base_url)).rstrip("/")
