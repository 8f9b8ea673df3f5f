"""The Jinja environment and the one helper that renders a whole page or one block of it."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from jinja2_fragments import render_block
from litestar import Request, Response
from litestar.enums import MediaType
from litestar.utils.scope.state import ScopeState

from app import i18n
from app.domain import passwords
from app.security import csrf_cookie, page_csrf_token
from app.settings import ROOT, today
from app.utility import load_utility

DEMO_UTILITY = load_utility(None)


@lru_cache(maxsize=1)
def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(ROOT / "templates")),
        autoescape=select_autoescape(default=True, default_for_string=True),
        extensions=["jinja2.ext.i18n"],
        auto_reload=False,
        enable_async=False,
    )
    env.install_gettext_callables(i18n.gettext, i18n.ngettext, newstyle=True)
    env.filters.update(date=i18n.format_date, m3=i18n.format_m3, period=i18n.format_period,
                       datetime=i18n.format_datetime, number=i18n.format_number,
                       reason=i18n.format_reason)
    # shown beside every new-password field before the first attempt (issue 19)
    env.globals["password_min_length"] = passwords.MIN_LENGTH
    return env


def wants_fragment(request: Request) -> bool:
    """htmx asked for a part of the page (a boosted link or form wants the whole page)."""
    htmx = getattr(request, "htmx", None)
    return bool(htmx) and not htmx.boosted


def base_context(request: Request) -> dict[str, Any]:
    user = request.scope.get("user")
    csrf_token = ScopeState.from_scope(request.scope).csrf_token  # Empty before CSRF ran
    if not isinstance(csrf_token, str):  # a router 404/405: the language switch needs one
        csrf_token = page_csrf_token(request)
    return {
        "request": request,
        "user": user,
        "csrf_token": csrf_token,
        "locale": i18n.current_locale.get(),
        "path": request.url.path,
        "today": today(),
        "flashes": pop_flashes(request) if user else [],
        # the footer's contacts, hours and legal details (settings UTILITY_FILE)
        "utility": getattr(request.app.state, "utility", None) or DEMO_UTILITY,
    }


def render(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    fragment: str | None = None,
    block: str | None = None,
    status: int = 200,
    headers: dict[str, str] | None = None,
) -> Response:
    """Render `template` as a whole page, or only one block of it: `fragment` when htmx asked
    for a part of the page, `block` always (an answer only htmx ever asks for). A URL that
    serves both says so in `Vary`, so no cache hands the fragment to a page load."""
    if fragment is not None:
        headers = {**(headers or {}), "Vary": "HX-Request, HX-Boosted"}
        if wants_fragment(request):
            block = fragment
    env = environment()
    ctx = base_context(request)
    if context:
        ctx.update(context)
    if block is not None:
        html = render_block(env, template, block, ctx)
    else:
        html = env.get_template(template).render(ctx)
    response = Response(html, media_type=MediaType.HTML, status_code=status, headers=headers)
    if new_token := request.scope.get("_csrf_new_token"):
        response.set_cookie(csrf_cookie(request.app.state.csrf_config, new_token))
    return response


def flash(request: Request, kind: str, text: str) -> None:
    """Queue a message for the next full page of a logged-in user."""
    request.session.setdefault("flash", []).append([kind, text])


def pop_session(request: Request, key: str, default: Any) -> Any:
    """Read a one-time value from the session and forget it; `default` when the request has
    no session (an anonymous visitor, the API) or the value is not there."""
    session = request.scope.get("session")
    if not isinstance(session, dict) or key not in session:
        return default
    return session.pop(key)


def pop_flashes(request: Request) -> list[list[str]]:
    return pop_session(request, "flash", [])
