"""GET /api/v1/contracts, /contracts/{id}/meters, /contracts/{id}/windows: what a token's user
has linked (R8), by billing ids."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from litestar import Controller, get
from litestar.params import Parameter

from app.api import schemas as s
from app.api.auth import ApiPrincipal
from app.api.problems import PROBLEMS, problem
from app.domain.calendar import (
    candidate_periods,
    parse_period,
    period_for_windows,
    period_value,
    window_state,
)
from app.domain.grid import GRIDS
from app.domain.vocabulary import MeterKind
from app.i18n import gettext as _
from app.queries.api_reads import contract_meters
from app.queries.api_tokens import Principal
from app.queries.contracts import (
    ContractView,
    contract_for_user_by_billing_id,
    user_contracts,
)
from app.queries.windows import windows_of_contracts
from app.settings import today

ContractId = Annotated[int, Parameter(ge=1, le=2**31 - 1, description="Contract «№» (billing id)")]


def api_period(raw: str) -> date:
    """YYYY-MM of a query parameter; 422 (with the field) for a month that does not exist."""
    try:
        return parse_period(raw)
    except ValueError:
        raise problem(422, _("Неверный период: укажите YYYY-MM"),
                      errors=[{"field": "period", "message": raw}]) from None


async def own_contract(principal: Principal, contract_id: int) -> ContractView:
    """The user's contract with this «№»; 404 (saying nothing more) for any other."""
    contract = await contract_for_user_by_billing_id(principal.user_id, contract_id)
    if contract is None:
        raise problem(404, _("Договор не найден среди договоров пользователя токена"))
    return contract


class ContractsApi(Controller):
    path = "/contracts"
    tags = ["contracts"]

    @get("/", responses=PROBLEMS)
    async def contracts(self, principal: ApiPrincipal) -> list[s.Contract]:
        """The contracts linked to the token's user."""
        return [s.Contract(c.billing_id, c.number, c.counterparty_name, c.counterparty_inn,
                           c.deadline_day, c.discharge_deadline_day)
                for c in await user_contracts(principal.user_id)]

    @get("/{contract_id:int}/meters", responses=PROBLEMS)
    async def meters(self, principal: ApiPrincipal, contract_id: ContractId) -> list[s.Meter]:
        """Active meters of the contract with their last accepted reading."""
        contract = await own_contract(principal, contract_id)
        return [
            s.Meter(m.code, m.kind, m.serial, m.model, m.address, m.verification_due, m.digits,
                    s.PreviousReading(period_value(m.previous_period), float(m.previous_value),
                                      m.previous_read_on)
                    if m.previous_period else None)
            for m in await contract_meters(contract.id)
        ]

    @get("/{contract_id:int}/windows", responses=PROBLEMS)
    async def windows(
        self, principal: ApiPrincipal, contract_id: ContractId,
        period: Annotated[str | None, Parameter(
            pattern=r"^[0-9]{4}-(0[1-9]|1[0-2])$",
            description="YYYY-MM; default: the period whose window is open now, else the "
                        "next to open")] = None,
    ) -> s.Windows:
        """The submission windows (R1) of both kinds for a reporting period."""
        contract = await own_contract(principal, contract_id)
        now = today()
        if period is None:
            periods = candidate_periods(now)
        else:
            chosen = api_period(period)
            if not 2000 <= chosen.year <= 2100:
                raise problem(422, _("Период вне допустимого диапазона"),
                              errors=[{"field": "period", "message": "2000-01 … 2100-12"}])
            periods = [chosen]
        found = await windows_of_contracts(
            [(contract.id, str(g.kind), g.deadline_day(contract)) for g in GRIDS.values()],
            periods)
        cold, hot = found[(contract.id, MeterKind.cold)], found[(contract.id, MeterKind.hot)]
        chosen = periods[0] if period is not None else period_for_windows(now, cold)

        def window(w: tuple) -> s.Window:
            return s.Window(w[0], w[1], window_state(now, w))

        return s.Windows(period_value(chosen), window(cold[chosen]), window(hot[chosen]))
