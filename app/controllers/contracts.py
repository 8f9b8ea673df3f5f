"""«Заявка на подключение» (R5) and «Мои договора» (R6): linking and unlinking contracts."""

from __future__ import annotations

from litestar import Controller, Request, Response, get, post
from redis.asyncio import Redis

from app import throttle
from app.controllers._forms import clean_text, redirect
from app.controllers._scope import DbId, owned_or_404
from app.domain.inn import InnError, normalize_contract_number, normalize_inn
from app.domain.sharing import mask_email
from app.i18n import gettext as _
from app.i18n import local_time
from app.queries import contracts as q
from app.queries.users import CurrentUser, load_current_user
from app.render import flash, render
from app.security import requires_login


class Outcome:
    """Values of connection_request.outcome."""

    linked = "linked"
    already = "already_connected"
    invalid_inn = "invalid_inn"
    empty_number = "empty_number"
    not_found = "not_found"
    throttled = "throttled"


async def _refresh_user(request: Request) -> CurrentUser | None:
    """The CurrentUser in the scope was loaded before the link changed: reload it for the menu."""
    user = request.user
    fresh = await load_current_user(user.id) if user else None
    request.scope["user"] = fresh
    return fresh


async def _connect(redis: Redis, user_id: int, form: dict[str, str]
                   ) -> tuple[int, dict[str, str], str | None]:
    """(status, field errors, form error) of a connection request; 201 when linked. Every
    attempt is logged; failures count towards the per-user limit (R5, R9)."""
    check = (throttle.CONNECT_PER_USER, str(user_id))
    if await throttle.is_blocked(redis, check):
        # No lookup at all while blocked: guessing gets no answer. Counted, not logged
        # row by row: one row per window holds the count.
        await q.count_throttled_attempt(user_id, form["inn"], form["number"],
                                        throttle.CONNECT_PER_USER.window_seconds)
        return 429, {}, _("Слишком много неудачных попыток подключения. Повторите через час.")
    errors: dict[str, str] = {}
    inn = None
    try:
        inn = normalize_inn(form["inn"])
    except InnError as exc:
        errors["inn"] = exc.problem.text(_)
    if not form["number"]:
        errors["number"] = _("Заполните это поле")
    contract_id = None
    if not errors:
        contract_id = await q.find_contract_by_inn_and_number(
            inn, normalize_contract_number(form["number"]))
    if contract_id is None:
        outcome = (Outcome.invalid_inn if inn is None else Outcome.empty_number if errors
                   else Outcome.not_found)
        await q.log_connection_request(user_id, form["inn"], form["number"], outcome)
        await throttle.hit(redis, check)
        # One message for both halves: it must not tell whether the INN or the number was wrong.
        return 422, errors, None if errors else _(
            "Договор с таким номером для этого ИНН не найден. "
            "Проверьте ИНН компании и номер договора.")
    linked = await q.link_contract(user_id, contract_id)
    outcome = Outcome.linked if linked else Outcome.already
    await q.log_connection_request(user_id, inn, form["number"], outcome, contract_id)
    if not linked:
        return 409, {}, _("Этот договор уже подключён к вашему кабинету.")
    return 201, {}, None


async def _co_users(user_id: int) -> dict[int, list[tuple[str, object]]]:
    """Each contract's other users as («d***@domain», linked at): the people who can also
    read and transmit for it (R5 links anyone who knows the INN and the number)."""
    return {contract: [(mask_email(u.email), local_time(u.linked_at).date()) for u in users]
            for contract, users in (await q.co_users(user_id)).items()}


class ContractsController(Controller):
    path = "/"
    guards = [requires_login]

    @get("/connect", name="connect")
    async def connect_form(self, request: Request) -> Response:
        """The «Заявка на подключение» form."""
        return render(request, "contracts/connect.html", {"form": {}, "errors": {}})

    @post("/connect")
    async def connect(self, request: Request) -> Response:
        """Link the contract whose number and counterparty INN match; or say why not."""
        data = await request.form()
        form = {"inn": clean_text(data.get("inn"), 40),
                "number": clean_text(data.get("number"), 200)}
        status, errors, error = await _connect(request.app.state.redis, request.user.id, form)
        if status != 201:
            return render(request, "contracts/connect.html",
                          {"form": form, "errors": errors, "error": error},
                          fragment="form", status=status)
        success = _("Заявка успешно отправлена")
        if not request.htmx:
            flash(request, "success", success)
            return redirect(request, "/connect")
        fresh = await _refresh_user(request)
        return render(
            request, "contracts/connect.html",
            {"form": {}, "errors": {}, "success": success, "user": fresh, "oob_menu": True},
            block="form",
        )

    @get("/contracts", name="contracts")
    async def list_contracts(self, request: Request) -> Response:
        """«Мои договора»: the user's linked contracts, each with «Удалить»."""
        user = request.user
        contracts = await q.user_contracts(user.id)
        return render(request, "contracts/list.html",
                      {"contracts": contracts, "co_users": await _co_users(user.id)})

    @get("/contracts/{contract_id:int}/delete")
    async def confirm_delete(self, request: Request, contract_id: DbId) -> Response:
        """Confirmation page for «Удалить» when JavaScript is off (htmx uses hx-confirm)."""
        contract = owned_or_404(await q.contract_for_user(request.user.id, contract_id))
        return render(request, "contracts/delete.html", {"contract": contract})

    @post("/contracts/{contract_id:int}/delete")
    async def delete(self, request: Request, contract_id: DbId) -> Response:
        """Unlink the contract from this user only; htmx gets the row removed + the new menu."""
        user = request.user
        contract = owned_or_404(await q.contract_for_user(user.id, contract_id))
        await q.unlink_contract(user.id, contract.id)
        message = _("Договор №{number} удалён из вашего кабинета.").format(
            number=contract.billing_id)
        if not request.htmx:
            flash(request, "success", message)
            return redirect(request, "/contracts")
        fresh = await _refresh_user(request)
        return render(
            request, "contracts/list.html",
            {"contracts": await q.user_contracts(user.id), "message": message, "user": fresh,
             "oob_menu": True, "co_users": await _co_users(user.id)},
            block="deleted",
        )
