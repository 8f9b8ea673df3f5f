"""«Пользователи» (SPEC §10): search accounts, see their contracts and last login, block or
unblock them, unlink a contract from a user."""

from __future__ import annotations

from litestar import Controller, Request, Response, get, post
from litestar.exceptions import NotFoundException

from app.controllers._forms import clean_text, redirect
from app.controllers._pager import page_number, page_url, paging
from app.controllers._scope import DbId
from app.i18n import gettext as _
from app.queries.accounts import search_users, set_blocked, unlink_by_operator
from app.render import flash, render
from app.security import requires_operator

TEMPLATE = "operator/users.html"
PER_PAGE = 25
MAX_ID = 2**31 - 1


def _url(search: str, page: int = 1) -> str:
    return page_url("/operator/users", {"q": search}, page)


class UsersController(Controller):
    path = "/operator/users"
    guards = [requires_operator]

    @get("/")
    async def index(self, request: Request) -> Response:
        """Accounts matching the search, one page; only the list block for htmx."""
        search = clean_text(request.query_params.get("q"), 100)
        page = page_number(request.query_params.get("page"))
        return await self._list(request, search, page)

    @post("/{user_id:int}/block")
    async def block(self, request: Request, user_id: DbId) -> Response:
        """«Заблокировать»: the account's sessions end at once; oneself: refused (422)."""
        if user_id == request.user.id:
            return await self._after(request, _("Нельзя заблокировать собственную учётную "
                                                "запись"), error=True)
        email = await set_blocked(request.user.id, self._id(user_id), True)
        if email is None:
            raise NotFoundException()
        return await self._after(request, _("Учётная запись {email} заблокирована")
                                 .format(email=email))

    @post("/{user_id:int}/unblock")
    async def unblock(self, request: Request, user_id: DbId) -> Response:
        """«Разблокировать»."""
        email = await set_blocked(request.user.id, self._id(user_id), False)
        if email is None:
            raise NotFoundException()
        return await self._after(request, _("Учётная запись {email} разблокирована")
                                 .format(email=email))

    @post("/{user_id:int}/contracts/{contract_id:int}/unlink")
    async def unlink(self, request: Request, user_id: DbId,
                     contract_id: DbId) -> Response:
        """Unlink one contract from one user (404 when they are not linked)."""
        if not await unlink_by_operator(request.user.id, self._id(user_id),
                                        self._id(contract_id)):
            raise NotFoundException()
        return await self._after(request, _("Договор отключён от пользователя"))

    @staticmethod
    def _id(value: int) -> int:
        if not 0 < value <= MAX_ID:
            raise NotFoundException()
        return value

    async def _list(self, request: Request, search: str, page: int, *,
                    message: str | None = None, error: bool = False) -> Response:
        total, users = await search_users(search, PER_PAGE, (page - 1) * PER_PAGE)
        return render(request, TEMPLATE, {
            "search": search, "users": users, "total": total,
            **paging(page, total, PER_PAGE, lambda n: _url(search, n)),
            "message": message, "message_error": error,
            # the list to come back to after an action, carried in the forms' URLs
            "back_query": _url(search, page).removeprefix("/operator/users"),
        }, fragment="users", status=422 if error else 200)

    async def _after(self, request: Request, message: str, *, error: bool = False) -> Response:
        """htmx: the list again (the search the form's URL carried) with the message; a
        plain POST: back to that list (PRG)."""
        search = clean_text(request.query_params.get("q"), 100)
        page = page_number(request.query_params.get("page"))
        if request.htmx:
            return await self._list(request, search, page, message=message, error=error)
        flash(request, "error" if error else "success", message)
        return redirect(request, _url(search, page))
