"""Small helpers shared by form handlers."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

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
    """`url` if it is a path on this site, else `default`: never an open redirect.

    A browser reads "//host", "/\\host" and a path with a tab or newline in it ("/\t/host"
    loses the tab) as another site, so only a single leading slash followed by printable,
    non-space ASCII or other printable characters passes."""
    if (not url or len(url) > 2000 or not url.startswith("/") or url.startswith("//")
            or "\\" in url or any(ch.isspace() or not ch.isprintable() for ch in url)):
        return default
    return url


def next_after_login(request: Request) -> str | None:
    """Where a visitor sent to the login block wanted to be: the page itself for a GET, the
    page the htmx request or the form came from otherwise (same site only)."""
    if request.method == "GET" and not request.htmx:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    else:
        source = request.headers.get("hx-current-url") or request.headers.get("referer") or ""
        parts = urlsplit(source)
        if parts.netloc != request.url.netloc:
            return None
        target = parts.path + (f"?{parts.query}" if parts.query else "")
    target = safe_next(target, "")
    return target if target not in ("", "/") else None


def password_errors(password: str, confirm: str) -> dict[str, str]:
    """A message per password field ("password", "password_confirm") by the password rule."""
    errors: dict[str, str] = {}
    for problem in password_problems(password, confirm):
        key = "password_confirm" if problem.code == "password_mismatch" else "password"
        errors.setdefault(key, problem.text(_))
    return errors


def base_url(request: Request) -> str:
    """The portal's absolute address for links in e-mails and feeds: from configuration
    (Settings.public_url), never from the request's Host or X-Forwarded-* headers."""
    return request.app.state.settings.public_url
