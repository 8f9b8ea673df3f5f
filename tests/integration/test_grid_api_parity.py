"""One table of cases, each run through the grid (POST /readings/cold, the form a user sends)
and through the API (POST /api/v1/readings): the same verdict (written as draft/transmitted
or refused) and the same problem texts, because both go through GridKind.evaluate, plan_row
and write_readings. A rule changed for one channel only fails here."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from datetime import timedelta

import httpx
import pytest

from app import db
from app.domain.calendar import add_months, month_start, period_value
from app.settings import today
from tests.helpers import demo_with_api_token, login, post_form


@dataclass(frozen=True)
class Case:
    name: str
    value: str  # as typed in the grid; the API sends it as a JSON number
    days: int = 0  # reading date: today + days
    transmit: bool = True
    rollover: bool = False
    anomaly: bool = False
    meter: int = 1  # index among the contract's cold meters (0: the one about to roll over)
    last_period: bool = False  # last month: its window has closed
    before: tuple[str, str] | None = field(default=None)  # (value, action) stored first
    expect: str = "transmitted"


def prev(step: int) -> str:
    return f"prev+{step}"


CASES = [
    Case("transmit", prev(5)),
    Case("save", prev(5), transmit=False, expect="draft"),
    Case("decimals", "12.5", expect="refused"),
    Case("negative", "-3", expect="refused"),
    Case("ten-to-digits", "100000", expect="refused"),
    Case("future-date", prev(1), days=1, expect="refused"),
    Case("before-previous-date", prev(1), days=-400, expect="refused"),
    Case("rollover-unconfirmed", "0", meter=0, expect="refused"),
    Case("rollover-draft-keeps-question", "0", meter=0, transmit=False, expect="draft"),
    Case("rollover-confirmed", "0", meter=0, rollover=True, anomaly=True),
    Case("anomaly-unconfirmed", prev(5000), expect="refused"),
    Case("window-closed", prev(2), last_period=True, expect="refused"),
    Case("draft-over-transmitted", prev(7), transmit=False, before=(prev(6), "transmit"),
         expect="refused"),
    Case("same-value-again", prev(6), before=(prev(6), "transmit")),
]


@pytest.fixture(scope="module")
async def world(pool):
    user, token = await demo_with_api_token("parity")
    meters = [dict(r) for r in await db.fetch(
        """SELECT m.id, m.billing_id AS code, c.id AS contract,
                  (SELECT value FROM reading r WHERE r.meter = m.id AND r.status = 'accepted'
                   ORDER BY period DESC LIMIT 1) AS previous
           FROM meter m JOIN connection_point p ON p.id = m.point
           JOIN contract c ON c.id = p.contract
           WHERE c.billing_id = 15303 AND m.kind = 'cold' ORDER BY m.billing_id""")]
    return {"token": token, "meters": meters}


async def reset() -> None:
    await db.execute("TRUNCATE receipt_line, receipt, reading_audit, api_idempotency")
    await db.execute("DELETE FROM reading WHERE source = 'portal'")


def typed(case_value: str, meter: dict) -> str:
    if case_value.startswith("prev+"):
        return str(int(meter["previous"]) + int(case_value[5:]))
    return case_value


def period_of(case: Case) -> str:
    period = month_start(today())
    return period_value(add_months(period, -1) if case.last_period else period)


async def through_grid(client, case: Case, meter: dict, value: str, action: str | None = None
                       ) -> tuple[str, list[str]]:
    """(verdict, problem texts) of the grid's row after the POST a user's browser sends."""
    mid = meter["id"]
    form = {"contract": str(meter["contract"]), "period": period_of(case),
            "action": action or ("transmit" if case.transmit else "save"),
            f"value-{mid}": typed(value, meter),
            f"date-{mid}": (today() + timedelta(days=case.days)).strftime("%d.%m.%Y")}
    if case.rollover:
        form[f"rollover-{mid}"] = "yes"
    if case.anomaly:
        form[f"anomaly-{mid}"] = "yes"
    response = await post_form(client, "/readings/cold", form, headers={"HX-Request": "true"})
    assert response.status_code in (200, 422), response.text[:500]
    page = response.text
    row = re.search(rf'<tr id="row-{mid}"( class="row-(\w+)")?.*?</tr>', page, re.S)
    cell = row.group(0)
    texts = [t for t in re.findall(r'<span class="(?:field-error|row-note)"[^>]*>(.*?)</span>',
                                   cell, re.S) if t.strip()]
    for code in ("rollover", "anomaly"):
        question = re.search(r'<span class="row-question">([^<]*)</span>\s*<label class="confirm">'
                             rf'<input type="checkbox" id="{code}-{mid}"[^>]*?( checked)?>',
                             cell, re.S)
        if question and not question.group(2):
            texts.append(question.group(1))
    if row.group(2) == "ok":
        stored = await db.fetchval(
            "SELECT status FROM reading WHERE meter = $1 AND period = $2 "
            "AND status <> 'rejected'", mid, month_start(today()))
        return stored, [html.unescape(t.strip()) for t in texts]
    if row.group(2) is None and response.status_code == 422:  # the window refused the grid
        reason = re.search(r'id="transmit-reason">(.*?)</', page, re.S)
        texts.insert(0, reason.group(1) if reason else "?")
    verdict = "refused" if response.status_code == 422 or row.group(2) == "error" else "?"
    return verdict, [html.unescape(t.strip()) for t in texts]


async def through_api(api, token: str, case: Case, meter: dict, value: str,
                      transmit: bool | None = None) -> tuple[str, list[str]]:
    body = {"period": period_of(case),
            "transmit": case.transmit if transmit is None else transmit,
            "items": [{"meter_id": meter["code"], "value": float(typed(value, meter))
                       if "." in value else int(typed(value, meter)),
                       "date": (today() + timedelta(days=case.days)).isoformat(),
                       "confirm_rollover": case.rollover, "confirm_anomaly": case.anomaly}]}
    response = await api.post("/api/v1/readings", json=body,
                              headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.text
    [answer] = response.json()["items"]
    return answer["status"], [p["message"] for p in answer["problems"]]


@pytest.fixture
async def api(client):
    transport = httpx.ASGITransport(app=client.app, client=("127.0.0.1", 40004))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver.local") as c:
        yield c


async def test_grid_and_api_give_the_same_verdicts_and_problems(client, api, world):
    await login(client)
    differences = []
    for case in CASES:
        meter = world["meters"][case.meter]
        outcomes = []
        for channel in ("grid", "api"):
            await reset()
            if case.before:
                value, action = case.before
                if channel == "grid":
                    await through_grid(client, case, meter, value, action)
                else:
                    await through_api(api, world["token"], case, meter, value,
                                      transmit=action == "transmit")
            if channel == "grid":
                outcomes.append(await through_grid(client, case, meter, case.value))
            else:
                outcomes.append(await through_api(api, world["token"], case, meter, case.value))
        grid, via_api = outcomes
        if grid != via_api or grid[0] != case.expect:
            differences.append(f"{case.name}: grid {grid} / api {via_api} / "
                               f"expected {case.expect}")
    await reset()
    assert not differences, "\n".join(differences)
