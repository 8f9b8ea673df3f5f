"""One-click unsubscribe (RFC 8058) from the links in every mail: no login, no CSRF.

GET shows a confirmation page with a button (mail scanners prefetch GET links: it changes
nothing); POST — the button, or the mail client's `List-Unsubscribe=One-Click` — turns the
kind's notify_* switch off. The token is signed over user id + kind with the app secret
(app/domain/unsubscribe.py), so a forged or altered one answers 404 and changes nothing.
The POST is exempt from CSRF because the signed token is its proof and mail clients post it
without any cookie.
"""

from __future__ import annotations

from litestar import Controller, Request, Response, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath

from app.domain.notifications import MAIL_KIND_TITLES
from app.domain.unsubscribe import read_token
from app.i18n import gettext as _
from app.queries import mails as q
from app.render import render


def _token_or_404(request: Request, token: str) -> tuple[int, str]:
    found = read_token(request.app.state.settings.secret_key, token)
    if found is None:
        raise NotFoundException()
    return found


class UnsubscribeController(Controller):
    path = "/unsubscribe"

    @get("/{token:str}")
    async def confirm(self, request: Request, token: FromPath[str]) -> Response:
        user_id, kind = _token_or_404(request, token)
        if not await q.user_exists(user_id):
            raise NotFoundException()
        return render(request, "unsubscribe.html",
                      {"token": token, "what": _(MAIL_KIND_TITLES[kind]), "done": False})

    @post("/{token:str}", exclude_from_csrf=True)
    async def unsubscribe(self, request: Request, token: FromPath[str]) -> Response:
        user_id, kind = _token_or_404(request, token)
        if not await q.unsubscribe(user_id, kind):
            raise NotFoundException()
        return render(request, "unsubscribe.html",
                      {"token": token, "what": _(MAIL_KIND_TITLES[kind]), "done": True})
