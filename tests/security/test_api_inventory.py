"""Every /api/v1 route of the route table (route_inventory.API_SCOPE), generated: no token →
401, and the isolation walk (R8) with billing ids: each id of another organization → 404 with
nothing of it in the body and nothing changed; the same request with the user's own ids is
served (so the 404 is the isolation check)."""

from __future__ import annotations

import httpx
import pytest

from app import db
from app.domain.calendar import month_start, period_value
from app.settings import today
from tests.helpers import demo_with_api_token
from tests.security.route_inventory import API_SCOPE, endpoints

API = [e for e in endpoints() if e.key in API_SCOPE]


@pytest.fixture(scope="module")
async def world(pool):
    user, token = await demo_with_api_token("walk")

    async def ids(billing_id: int) -> dict[str, int]:
        return {"contract": billing_id, "meter": await db.fetchval(
            """SELECT min(m.billing_id) FROM meter m JOIN connection_point p ON p.id = m.point
               JOIN contract c ON c.id = p.contract
               WHERE c.billing_id = $1 AND m.kind = 'cold'""", billing_id)}

    markers = {r["name"] for r in await db.fetch(
        "SELECT cp.name FROM counterparty cp JOIN contract c ON c.counterparty = cp.id "
        "WHERE c.billing_id = 16010")}
    markers |= {r["serial"] for r in await db.fetch(
        "SELECT m.serial FROM meter m JOIN connection_point p ON p.id = m.point "
        "JOIN contract c ON c.id = p.contract WHERE c.billing_id = 16010")}
    return {"token": token, "own": await ids(15303), "foreign": await ids(16010),
            "markers": sorted(markers)}


def request_for(endpoint, ids: dict[str, int]) -> dict:
    """method, url, params and JSON body of `endpoint` with its billing ids from `ids`."""
    path, params, json_body = endpoint.path, {}, None
    period = period_value(month_start(today()))
    for where, kind in API_SCOPE[endpoint.key].items():
        place, name = where.split(":")
        if place == "path":
            path = path.replace("{" + name + ":int}", str(ids[kind]))
        elif place == "query":
            params[name] = str(ids[kind])
        else:  # body: items[].meter_id
            json_body = {"period": period, "transmit": False, "items": [
                {"meter_id": ids[kind], "value": 1, "date": today().isoformat()}]}
    if endpoint.key == ("GET", "/api/v1/readings"):
        params.update(period=period, kind="cold")
    return {"method": endpoint.method, "url": path, "params": params, "json": json_body}


async def state() -> str:
    return str(await db.fetch(
        "SELECT count(*), coalesce(sum(value), 0), max(updated_at) FROM reading"))


@pytest.fixture
async def api(client, world):
    transport = httpx.ASGITransport(app=client.app, client=("127.0.0.1", 40003))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver.local") as c:
        yield c


@pytest.mark.parametrize("endpoint", API, ids=[e.id for e in API])
async def test_api_route_without_token_is_401(api, endpoint):
    response = await api.request(**request_for(endpoint, {"contract": 15303, "meter": 1}))
    assert response.status_code == 401
    assert response.headers["content-type"].startswith("application/problem+json")


@pytest.mark.parametrize("endpoint", API, ids=[e.id for e in API])
async def test_api_isolation_walk(api, world, endpoint):
    headers = {"Authorization": f"Bearer {world['token']}"}
    before = await state()
    if API_SCOPE[endpoint.key]:
        response = await api.request(**request_for(endpoint, world["foreign"]), headers=headers)
        assert response.status_code == 404, response.text
        assert not [m for m in world["markers"] if m in response.text]
        assert await state() == before
    own = await api.request(**request_for(endpoint, world["own"]), headers=headers)
    assert own.status_code == 200, own.text
    assert not [m for m in world["markers"] if m in own.text]
