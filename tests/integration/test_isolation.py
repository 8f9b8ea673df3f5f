"""R8 isolation walk: every contract-scoped route, called by the demo subscriber with another
organization's ids (or unknown ids), answers 404 and shows none of that organization's data.

TO EXTEND: add a `Route(...)` to ROUTES. URL templates and form values may use the
placeholders {contract}, {point}, {meter}, {reading} (ids of АО «Ижевский хлебозавод», billing
contract 16010, which the demo subscriber is not linked to). With `own=True` (the default for GET)
the same route is also called with the demo subscriber's OWN ids (contract 15303) and must then
NOT be 404 — that proves the route exists and that the 404 comes from isolation.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field

import pytest

from app import db
from tests.helpers import VAR_DIR, create_user, flush_redis, login, post_form, truncate_all

HTMX = {"HX-Request": "true"}


@dataclass(frozen=True)
class Route:
    method: str
    url: str
    data: dict[str, str] = field(default_factory=dict)
    own: bool | None = None  # None: True for GET, False for POST (POSTs change data)
    htmx: bool = False

    @property
    def check_own(self) -> bool:
        return self.method == "GET" if self.own is None else self.own

    def __str__(self) -> str:
        return f"{self.method} {self.url}{' htmx' if self.htmx else ''}"


ROUTES: list[Route] = [
    # «Мои договора» (issue 3)
    Route("GET", "/contracts/{contract}/delete"),
    Route("POST", "/contracts/{contract}/delete"),
    Route("POST", "/contracts/{contract}/delete", htmx=True),
    # «Архив показаний»
    Route("GET", "/archive?contract={contract}"),
    Route("GET", "/archive?point={point}"),
    Route("GET", "/archive?contract={contract}&point={point}", htmx=True),
    # Reading grids (issues 4, 5): a foreign contract is 404; a foreign meter id posted with
    # the user's own contract is ignored (tests/integration/test_readings.py).
    Route("GET", "/readings/cold?contract={contract}"),
    Route("GET", "/readings/hot?contract={contract}"),
    Route("GET", "/readings/cold?contract={contract}&period=2020-01", htmx=True),
    Route("POST", "/readings/cold", {"contract": "{contract}", "action": "transmit",
                                     "value-{meter}": "1"}),
    Route("POST", "/readings/cold", {"contract": "{contract}", "action": "save",
                                     "value-{meter}": "1"}, htmx=True),
    Route("POST", "/readings/hot", {"contract": "{contract}", "action": "transmit",
                                    "value-{meter}": "1"}),
    Route("POST", "/readings/cold/check?contract={contract}&period=2020-01&meter={meter}",
          {"value-{meter}": "1"}, htmx=True),
    Route("POST", "/readings/hot/check?contract={contract}&period=2020-01&meter={meter}",
          {"value-{meter}": "1"}, htmx=True),
]

# Ids nobody has: the response must be the same 404.
UNKNOWN = {"contract": "987654321", "point": "987654321", "meter": "987654321",
           "reading": "987654321"}


async def ids_of_contract(billing_id: int) -> dict[str, str]:
    row = await db.fetchrow(
        """SELECT c.id AS contract, p.id AS point, m.id AS meter,
                  (SELECT r.id FROM reading r WHERE r.meter = m.id ORDER BY r.id LIMIT 1) AS reading
           FROM contract c
           JOIN connection_point p ON p.contract = c.id
           JOIN meter m ON m.point = p.id
           WHERE c.billing_id = $1
           ORDER BY p.id, m.id LIMIT 1""",
        billing_id,
    )
    return {k: str(v) for k, v in dict(row).items()}


async def secrets_of_contract(billing_id: int) -> list[str]:
    """Texts of the other organization that must never appear in an answer."""
    row = await db.fetchrow(
        """SELECT cp.name, cp.inn, c.number FROM contract c
           JOIN counterparty cp ON cp.id = c.counterparty WHERE c.billing_id = $1""", billing_id)
    serials = await db.fetch(
        """SELECT m.serial FROM meter m JOIN connection_point p ON p.id = m.point
           JOIN contract c ON c.id = p.contract WHERE c.billing_id = $1""", billing_id)
    addresses = await db.fetch(
        """SELECT p.address FROM connection_point p JOIN contract c ON c.id = p.contract
           WHERE c.billing_id = $1 AND p.address NOT IN (
               SELECT p2.address FROM connection_point p2 JOIN contract c2 ON c2.id = p2.contract
               WHERE c2.billing_id = 15303)""", billing_id)
    return [row["name"], row["inn"], row["number"], *(s["serial"] for s in serials),
            *(a["address"] for a in addresses)]


def fill(template: str, ids: dict[str, str]) -> str:
    return template.format(**ids)


async def call(client, route: Route, ids: dict[str, str]):
    url = fill(route.url, ids)
    headers = HTMX if route.htmx else {}
    if route.method == "GET":
        return await client.get(url, headers=headers)
    data = {fill(k, ids): fill(v, ids) for k, v in route.data.items()}
    return await post_form(client, url, data, headers=headers)


async def snapshot() -> tuple:
    """Row counts and the latest change times that a foreign id must not touch."""
    return tuple(await db.fetchrow(
        """SELECT (SELECT count(*) FROM contract_link), (SELECT count(*) FROM reading),
                  (SELECT max(updated_at) FROM reading), (SELECT count(*) FROM reading_audit),
                  (SELECT count(*) FROM audit_event)"""))


@pytest.fixture(scope="module")
async def demo_world(pool):
    """The demo dataset, loaded once for the whole walk (the walk must not change it)."""
    from app.demo import load_demo_data

    await truncate_all()
    await flush_redis()
    await load_demo_data(VAR_DIR / "demo-billing-isolation")
    # The other organization has its own user: its contract has links, readings in the portal.
    await create_user("hleb@example.ru", contract_billing_ids=(16010,))
    return {
        "foreign": await ids_of_contract(16010),
        "own": await ids_of_contract(15303),
        "secrets": await secrets_of_contract(16010),
    }


@pytest.mark.parametrize("route", ROUTES, ids=str)
async def test_foreign_and_unknown_ids_are_404_without_their_data(client, demo_world, route):
    await login(client)
    before = await snapshot()
    for label, ids in (("foreign", demo_world["foreign"]), ("unknown", UNKNOWN)):
        response = await call(client, route, ids)
        assert response.status_code == 404, (label, response.status_code, response.text[:500])
        body = html.unescape(response.text)
        leaked = [s for s in demo_world["secrets"] if s in body]
        assert not leaked, (label, leaked)
    assert await snapshot() == before, "a foreign id changed data"
    if route.check_own:
        own = await call(client, route, demo_world["own"])
        assert own.status_code != 404, "the route itself answers 404: fix the table entry"


def test_the_table_has_no_duplicates():
    assert len({str(r) + repr(r.data) for r in ROUTES}) == len(ROUTES)
