"""GET/POST /api/v1/readings. A POST is the grid's transmit, item by item: the same parsers
and checks (GridKind.evaluate), the same write decision (app.domain.grid.plan_row), the same
window rule and the same write (app.queries.readings.write_readings: upsert, audit trail and
receipts in one transaction) — and an `Idempotency-Key` makes a retry answer the first answer.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from typing import Annotated, Literal

import msgspec
from litestar import Controller, Response, get, post
from litestar.params import FromQuery, HeaderParameter, JSONBody, Parameter

from app import db
from app.api import schemas as s
from app.api.auth import ApiPrincipal, requires_submit_scope
from app.api.contracts import ContractId, api_period, own_contract
from app.api.problems import CONFLICT, PROBLEMS, problem
from app.domain import N_, Problem
from app.domain.calendar import candidate_periods, period_value, window_state
from app.domain.grid import GRIDS, RowInput, plan_row, window_text
from app.domain.readings import typed_number
from app.domain.vocabulary import AuditChannel
from app.domain.writes import REFUSAL_NOTES
from app.i18n import format_date, format_number, format_period, format_reason
from app.i18n import gettext as _
from app.metrics import count_writes
from app.queries import api_tokens
from app.queries.api_reads import meters_by_codes
from app.queries.api_tokens import Principal
from app.queries.contracts import user_contracts
from app.queries.readings import (
    ReadingWrite,
    WriteResults,
    grid_rows,
    grid_rows_of_meters,
    write_readings,
)
from app.queries.windows import windows_of_contracts
from app.settings import today

PeriodParam = Annotated[str, Parameter(pattern=r"^[0-9]{4}-(0[1-9]|1[0-2])$",
                                       description="Reporting period, YYYY-MM")]
IdempotencyKey = Annotated[str | None, HeaderParameter(
    name="Idempotency-Key", min_length=1, max_length=200, pattern=r"^[\x21-\x7e]+$",
    description="Any unique string (e.g. a UUID): a retry with the same key and body answers "
                "the first answer (kept 24 hours); the same key with another body is 409")]
JSON = "application/json"
WRONG_KIND = N_("Прибор учёта не того вида: в запросе вид «{kind}»")


def _problem(p: Problem) -> s.ItemProblem:
    return s.ItemProblem(p.code, p.text(_, format_number, format_date))


def _note(outcome) -> s.ItemProblem:
    return s.ItemProblem(str(outcome.value), _(REFUSAL_NOTES[outcome]))


async def submit(principal: Principal, data: s.SubmitReadings) -> s.SubmitResult:
    """Judge every item by the grid's rules, write the ones that pass in one transaction."""
    now = today()
    period = api_period(data.period)
    if period not in candidate_periods(now):
        raise problem(422, _("Передать или сохранить можно только период из списка "
                             "периодов передачи: {periods}").format(
            periods=", ".join(period_value(p) for p in reversed(candidate_periods(now)))),
            errors=[{"field": "period", "message": data.period}])
    codes = [item.meter_id for item in data.items]
    doubled = {code for code, n in Counter(codes).items() if n > 1}
    if doubled:
        raise problem(422, _("Один прибор учёта указан в запросе несколько раз"), errors=[
            {"field": f"items[{i}].meter_id", "message": str(code)}
            for i, code in enumerate(codes) if code in doubled])
    owned = await meters_by_codes(principal.user_id, codes)
    if len(owned) < len(codes):
        # Not the user's (another organization's, unknown or inactive): one answer for all.
        raise problem(404, _("Прибор учёта не найден среди договоров пользователя токена"),
                      errors=[{"field": f"items[{i}].meter_id", "message": str(code)}
                              for i, code in enumerate(codes) if code not in owned])
    contracts = {c.id: c for c in await user_contracts(principal.user_id)}
    groups = sorted({(m.contract_id, str(m.kind)) for m in owned.values()})
    windows = await windows_of_contracts(
        [(cid, kind, GRIDS[kind].deadline_day(contracts[cid])) for cid, kind in groups],
        [period])
    rows = await grid_rows_of_meters([m.meter_id for m in owned.values()], period)

    kinds = {m.meter_id: str(m.kind) for m in owned.values()}
    answers: list[s.ItemResult] = []
    writes: list[ReadingWrite] = []
    for item in data.items:
        meter = owned[item.meter_id]
        grid, row = GRIDS[meter.kind], rows.get(meter.meter_id)
        if row is None:  # deactivated between the two reads
            raise problem(404, _("Прибор учёта не найден среди договоров пользователя токена"))
        answer = s.ItemResult(item.meter_id, "refused", [])
        answers.append(answer)
        if data.kind is not None and meter.kind != data.kind:
            answer.problems.append(s.ItemProblem("wrong_kind", _(WRONG_KIND).format(
                kind=data.kind)))
            continue
        typed = RowInput(typed_number(item.value), item.date.isoformat(),
                         item.confirm_rollover, item.confirm_anomaly)
        outcome = grid.evaluate(typed, row.meter_history, now)
        answer.problems += [_problem(p) for p in outcome.errors + outcome.confirmations]
        window = windows[(meter.contract_id, meter.kind)][period]
        state = window_state(now, window)
        if data.transmit and state != "open":  # R1: transmit only inside the window
            answer.problems.insert(0, s.ItemProblem(f"window_{state}", window_text(
                state, grid.subject, format_period(period), format_date(window[0]),
                format_date(window[1]), _)))
            continue
        plan = plan_row(outcome, data.transmit, row.stored)
        if plan.refused:
            if plan.note is not None:
                answer.problems.append(_note(plan.note))
        elif plan.status is not None:
            answer.status = str(plan.status)
            writes.append(ReadingWrite(meter.meter_id, outcome.value, outcome.read_on,
                                       plan.status, item.confirm_rollover,
                                       item.confirm_anomaly))
        else:
            answer.status = str(row.status)  # already stored exactly so
    results = await write_readings(principal.user_id, period, writes, AuditChannel.api)
    for i, kind in enumerate(sorted(set(kinds.values()))):  # the metrics count per kind
        count_writes(kind, WriteResults({mid: r for mid, r in results.items()
                                         if kinds[mid] == kind},
                                        receipts=results.receipts if i == 0 else []),
                     AuditChannel.api)
    for item, answer in zip(data.items, answers, strict=True):
        result = results.get(owned[item.meter_id].meter_id)
        if result is None:
            continue
        if result.outcome.ok:
            answer.status = str(result.stored.status)
        else:
            answer.status = "refused"
            answer.problems.append(_note(result.outcome))
    return s.SubmitResult(answers, results.receipts)


def _request_hash(data: s.SubmitReadings) -> str:
    """The body as parsed (field order and spacing do not matter), with the path."""
    return hashlib.sha256(b"POST /api/v1/readings\n" + msgspec.json.encode(data)).hexdigest()


class ReadingsApi(Controller):
    path = "/readings"
    tags = ["readings"]

    @get("/", responses=PROBLEMS)
    async def readings(self, principal: ApiPrincipal, contract: ContractId, period: PeriodParam,
                       kind: FromQuery[Literal["cold", "hot"]]) -> list[s.Reading]:
        """This period's reading of every meter of that kind that has one."""
        found = await own_contract(principal, contract)
        rows = await grid_rows(found.id, kind, api_period(period))
        return [s.Reading(r.code, period, float(r.value), r.read_on, str(r.status),
                          format_reason(r.reject_reason) or None,
                          r.reject_reason.code if r.reject_reason else None)
                for r in rows if r.value is not None]

    @post("/", guards=[requires_submit_scope], status_code=200,
          responses={**PROBLEMS, 409: CONFLICT})
    async def submit_readings(self, principal: ApiPrincipal, data: JSONBody[s.SubmitReadings],
                              idempotency_key: IdempotencyKey = None
                              ) -> Response[s.SubmitResult]:
        """Save (`transmit`: false) or transmit up to 1 000 readings, each judged by the
        grid's rules: a refused item changes nothing, the others go through."""
        if idempotency_key is None:
            return Response(await submit(principal, data), media_type=JSON)
        request_hash = _request_hash(data)
        async with db.transaction():
            stored = await api_tokens.claim_idempotency_key(
                principal.user_id, idempotency_key, request_hash)
            if stored is not None:
                if stored.request_hash != request_hash:
                    raise problem(409, _("Этот Idempotency-Key уже использован с другим "
                                         "телом запроса"))
                return Response(stored.response.encode(), media_type=JSON,
                                status_code=stored.status_code,
                                headers={"Idempotent-Replayed": "true"})
            body = msgspec.json.encode(await submit(principal, data))
            await api_tokens.store_answer(principal.user_id, idempotency_key, 200,
                                          body.decode())
        return Response(body, media_type=JSON)
